// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// fmt support for prkl's value types: `fmt::format("{}", decimal)`, `"{:>10}"` and the other
/// string format specs. Include it where prkl values are formatted; prkl's other headers do not
/// need fmt. A Date is `std::chrono::sys_days`, a standard type, so prkl leaves its formatting to
/// fmt itself (`fmt/chrono.h`: `fmt::format("{:%F}", day)` gives "2016-01-01") rather than change
/// how every program formats `sys_days`.

#include <fmt/format.h>

#include <string>
#include <string_view>

#include "prkl/date.hpp"
#include "prkl/decimal.hpp"
#include "prkl/model.hpp"

/// "1112", "1112.50": Decimal::to_string(), padded and aligned like a string.
template <>
struct fmt::formatter<prkl::Decimal> : fmt::formatter<std::string_view> {
  auto format(const prkl::Decimal& value, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(value.to_string(), ctx);
  }
};

/// "2016-01-01 count=24 average=1112 min=1001 max=1300 p50=1110", with null for an average,
/// minimum or maximum the day does not have.
template <>
struct fmt::formatter<prkl::RateDay> : fmt::formatter<std::string_view> {
  auto format(const prkl::RateDay& day, fmt::format_context& ctx) const {
    std::string text = prkl::format_date(day.day);
    fmt::format_to(std::back_inserter(text), " count={} average={} min={} max={}", day.count,
                   day.average ? day.average->to_string() : "null",
                   day.min ? std::to_string(*day.min) : "null",
                   day.max ? std::to_string(*day.max) : "null");
    for (const prkl::Percentile& p : day.percentiles) {
      fmt::format_to(std::back_inserter(text), " p{}={}", p.percent,
                     p.value ? p.value->to_string() : "null");
    }
    return fmt::formatter<std::string_view>::format(text, ctx);
  }
};
