// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "prkl/model.hpp"

namespace prkl::detail {

/// The exchange rates of some currencies over some days, and the rule for which one a day uses:
/// its own, or the nearest earlier one at most `max_age_days` before.
class RateTable {
 public:
  RateTable() = default;
  RateTable(std::vector<ExchangeRate> rates, std::int64_t max_age_days);

  /// nullptr when no rate is usable for that day.
  const ExchangeRate* find(std::string_view currency, Date day) const;

 private:
  std::unordered_map<std::string, std::vector<ExchangeRate>> by_currency_;  // ascending by day
  std::int64_t max_age_days_ = 0;
};

}  // namespace prkl::detail
