// SPDX-License-Identifier: MIT
// Exact decimals: the rounded mean, quotients of wide integers, currency conversion.
#include "prkl/decimal.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/multiprecision/cpp_int.hpp>
#include <cmath>
#include <iterator>
#include <limits>
#include <optional>

#include "prkl/error.hpp"
#include "util/exact.hpp"

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

Decimal parse_decimal(std::string_view text) {
  const std::size_t point = text.find('.');
  const std::string_view whole = text.substr(0, point);
  const std::string_view fraction =
      point == std::string_view::npos ? std::string_view() : text.substr(point + 1);
  const auto digits = [](std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (!digits(whole) || (point != std::string_view::npos && !digits(fraction))) {
    throw InvalidArgument(
        fmt::format("{} is not a decimal such as 1234 or 1234.50", quoted_value(text)));
  }
  if (whole.size() > 15 || fraction.size() > std::size_t(max_average_scale)) {
    throw InvalidArgument(fmt::format("{} has more than 15 digits before the point or {} after it",
                                      quoted_value(text), max_average_scale));
  }
  Decimal out{0, int(fraction.size())};
  for (const char c : whole) out.units = out.units * 10 + (c - '0');
  for (const char c : fraction) out.units = out.units * 10 + (c - '0');
  return out;
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

namespace prkl::detail {

namespace {

__extension__ using Int128 = __int128;

// round_quotient in native 128-bit integers, whose division is many times faster than a 256-bit
// one: a 64-bit numerator times 10^19 or less, over a 64-bit denominator. Nullopt when the
// quotient does not fit in 64 bits (the caller's error names the values).
std::optional<Decimal> round_quotient_128(std::int64_t numerator, std::int64_t denominator,
                                          int scale) {
  Int128 n = numerator;
  for (int i = 0; i < scale; ++i) n *= 10;
  Int128 quotient = n / denominator;  // truncates toward zero
  const Int128 remainder = n % denominator;
  if ((remainder < 0 ? -remainder : remainder) * 2 >= denominator) quotient += n < 0 ? -1 : 1;
  if (quotient > std::numeric_limits<std::int64_t>::max() ||
      quotient < std::numeric_limits<std::int64_t>::min()) {
    return std::nullopt;
  }
  return Decimal{static_cast<std::int64_t>(quotient), scale};
}

}  // namespace

Decimal round_quotient(Wide numerator, const Wide& denominator, int scale) {
  constexpr std::int64_t most = std::numeric_limits<std::int64_t>::max();
  if (scale >= 0 && scale <= 19 && numerator <= most && numerator >= -most && denominator > 0 &&
      denominator <= most) {
    if (auto fast = round_quotient_128(static_cast<std::int64_t>(numerator),
                                       static_cast<std::int64_t>(denominator), scale)) {
      return *fast;
    }
  }
  for (int i = 0; i < scale; ++i) numerator *= 10;
  Wide quotient = numerator / denominator;  // truncates toward zero
  const Wide remainder = numerator % denominator;
  const Wide twice_remainder = (remainder < 0 ? Wide(-remainder) : remainder) * 2;
  if (twice_remainder >= denominator) quotient += numerator < 0 ? -1 : 1;
  if (quotient > std::numeric_limits<std::int64_t>::max() ||
      quotient < std::numeric_limits<std::int64_t>::min()) {
    throw InvalidArgument(fmt::format("the value {}/{} at scale {} does not fit in 64 bits",
                                      numerator.str(), denominator.str(), scale));
  }
  return Decimal{static_cast<std::int64_t>(quotient), scale};
}

double nearest_double(const Wide& numerator, const Wide& denominator) {
  using boost::multiprecision::msb;
  if (numerator == 0) return 0.0;
  const bool negative = numerator < 0;
  Wide n = negative ? Wide(-numerator) : numerator;
  Wide d = denominator;
  // Scale by 2^shift so that the integer quotient has 64 or 65 bits: 53 for the double, the
  // rest and the remainder to round with.
  const int shift = 64 - int(msb(n)) + int(msb(d));
  if (shift >= 0) {
    n <<= shift;
  } else {
    d <<= -shift;
  }
  Wide quotient = n / d;
  bool inexact = quotient * d != n;
  int exponent = -shift;
  if ((quotient >> 64) != 0) {
    inexact = inexact || (quotient & 1) != 0;
    quotient >>= 1;
    ++exponent;
  }
  // quotient is in [2^63, 2^64): keep its top 53 bits, rounding the 11 below (and whatever
  // the division left) to nearest, ties to even.
  const auto bits = static_cast<std::uint64_t>(quotient);
  std::uint64_t mantissa = bits >> 11;
  const std::uint64_t rest = bits & 0x7ff;
  if (rest > 0x400 || (rest == 0x400 && (inexact || (mantissa & 1) != 0))) ++mantissa;
  const double magnitude = std::ldexp(double(mantissa), exponent + 11);
  return negative ? -magnitude : magnitude;
}

std::int64_t to_base_currency(std::int64_t amount, std::int64_t rate_units) {
  return round_quotient(Wide(amount) * rate_denominator, Wide(rate_units), 0).units;
}

}  // namespace prkl::detail
