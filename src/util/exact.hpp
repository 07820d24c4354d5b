// SPDX-License-Identifier: MIT
#pragma once

// Exact arithmetic for what 64 bits cannot hold: sums of converted prices, interpolated
// percentiles, currency conversions. Every result is rounded once, half away from zero.

#include <boost/multiprecision/cpp_int.hpp>
#include <cstdint>
#include <optional>
#include <string_view>

#include "prkl/decimal.hpp"
#include "prkl/model.hpp"

namespace prkl::detail {

using Wide = boost::multiprecision::int256_t;

/// 10^exchange_rate_scale: the denominator of an exchange rate's units.
inline constexpr std::int64_t rate_denominator = 1'000'000'000'000;

/// numerator / denominator (denominator > 0) rounded half away from zero to `scale` fraction
/// digits. Throws InvalidArgument when the result does not fit in 64 bits.
Decimal round_quotient(Wide numerator, const Wide& denominator, int scale);

/// numerator / denominator (denominator > 0) as the nearest double, ties to even.
double nearest_double(const Wide& numerator, const Wide& denominator);

/// sum / count (count > 0) as the nearest double, ties to even; IEEE division does it in one
/// step whenever both are exact doubles.
inline double nearest_double(std::int64_t sum, std::int64_t count) {
  constexpr std::int64_t exact_limit = std::int64_t{1} << 53;
  if (sum <= exact_limit && sum >= -exact_limit && count <= exact_limit) {
    return double(sum) / double(count);
  }
  return nearest_double(Wide(sum), Wide(count));
}

/// An amount of a currency in whole USD at `rate_units` of it per USD, half away from zero.
std::int64_t to_base_currency(std::int64_t amount, std::int64_t rate_units);

}  // namespace prkl::detail
