// SPDX-License-Identifier: MIT
// Which exchange rate a day converts at: its own, or the nearest earlier one young enough.
#include "fx/rate_table.hpp"

#include <algorithm>
#include <iterator>

namespace prkl::detail {

RateTable::RateTable(std::vector<ExchangeRate> rates, std::int64_t max_age_days)
    : max_age_days_(max_age_days) {
  for (ExchangeRate& rate : rates) by_currency_[rate.currency].push_back(std::move(rate));
  for (auto& [currency, days] : by_currency_) {
    std::sort(days.begin(), days.end(),
              [](const ExchangeRate& a, const ExchangeRate& b) { return a.day < b.day; });
  }
}

const ExchangeRate* RateTable::find(std::string_view currency, Date day) const {
  const auto found = by_currency_.find(std::string(currency));
  if (found == by_currency_.end()) return nullptr;
  const std::vector<ExchangeRate>& days = found->second;
  auto after = std::upper_bound(days.begin(), days.end(), day,
                                [](Date d, const ExchangeRate& r) { return d < r.day; });
  if (after == days.begin()) return nullptr;
  const ExchangeRate& rate = *std::prev(after);
  return (day - rate.day).count() <= max_age_days_ ? &rate : nullptr;
}

}  // namespace prkl::detail
