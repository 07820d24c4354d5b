#include "prkl/decimal.hpp"

#include <fmt/format.h>

#include <boost/multiprecision/cpp_int.hpp>
#include <limits>

#include "prkl/error.hpp"

namespace prkl {

std::string Decimal::to_string() const {
  if (scale == 0) return fmt::format("{}", units);
  // Work on the magnitude as unsigned so that INT64_MIN has one.
  const bool negative = units < 0;
  const std::uint64_t magnitude =
      negative ? std::uint64_t{0} - static_cast<std::uint64_t>(units) : std::uint64_t(units);
  std::uint64_t divisor = 1;
  for (int i = 0; i < scale; ++i) divisor *= 10;
  return fmt::format("{}{}.{:0{}}", negative ? "-" : "", magnitude / divisor, magnitude % divisor,
                     scale);
}

Decimal exact_average(std::int64_t sum, std::int64_t count, int scale) {
  using boost::multiprecision::int128_t;
  if (count <= 0) throw InvalidArgument(fmt::format("average of {} values", count));
  if (scale < 0 || scale > max_average_scale) {
    throw InvalidArgument(fmt::format("scale {} is outside 0..{}", scale, max_average_scale));
  }
  int128_t numerator = sum;
  for (int i = 0; i < scale; ++i) numerator *= 10;
  const int128_t denominator = count;
  int128_t quotient = numerator / denominator;  // truncates toward zero
  const int128_t remainder = numerator % denominator;
  // Half away from zero: round the magnitude up when the dropped part is at least one half.
  const int128_t twice_remainder = (remainder < 0 ? -remainder : remainder) * 2;
  if (twice_remainder >= denominator) quotient += numerator < 0 ? -1 : 1;
  if (quotient > std::numeric_limits<std::int64_t>::max() ||
      quotient < std::numeric_limits<std::int64_t>::min()) {
    throw InvalidArgument(fmt::format("average {}/{} at scale {} does not fit", sum, count, scale));
  }
  return Decimal{static_cast<std::int64_t>(quotient), scale};
}

}  // namespace prkl
