// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Exact decimal values for averages of integer prices.

#include <cstdint>
#include <string>
#include <string_view>
#include "prkl/export.hpp"

namespace prkl {

/// A decimal number `units / 10^scale`. Averages are produced at a fixed scale, so two values of
/// the same query compare by units.
struct PRKL_EXPORT Decimal {
  std::int64_t units = 0;
  int scale = 0;

  /// Plain notation with exactly `scale` fraction digits: "1112", "1112.50", "-0.25".
  std::string to_string() const;
  friend bool operator==(const Decimal&, const Decimal&) = default;
};

/// Largest scale an average may be asked for.
inline constexpr int max_average_scale = 9;

/// The exact quotient `sum / count` rounded to `scale` fraction digits, half away from zero
/// (PostgreSQL's `round(numeric)`: 1118.5 becomes 1119, -1118.5 becomes -1119).
/// The intermediate product is 128-bit, so no `sum` of 64-bit integers overflows.
/// Throws InvalidArgument when count <= 0, scale is outside 0..max_average_scale, or the
/// result does not fit in 64 bits.
PRKL_EXPORT Decimal exact_average(std::int64_t sum, std::int64_t count, int scale = 0);

/// A decimal as text: ASCII digits with at most max_average_scale of them after one point
/// ("1234", "1234.50"), and at most 15 before it; the scale is the digits given. Throws
/// InvalidArgument naming the text otherwise (signs, exponents, spaces, other scripts' digits).
PRKL_EXPORT Decimal parse_decimal(std::string_view text);

}  // namespace prkl
