// SPDX-License-Identifier: MIT
// The Store seam's defaults, what every backend refuses alike, and how a contract's days reach
// a reader.
#include "prkl/store.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "prkl/error.hpp"
#include "storage/store_detail.hpp"

namespace prkl {

StoreHealth Store::health() {
  version();
  return {schema_version, schema_version, false, std::nullopt};
}

std::uint64_t Store::log_position() {
  return 0;
}

bool Store::has_replayed(std::uint64_t) {
  return true;
}

void deliver_contract(PriceReceiver& receiver, std::size_t lane, Date valid_from, Date valid_to,
                      std::optional<Date> received, std::int32_t price, Date from, Date to,
                      const PriceFilter& filter) {
  Date first = std::max(valid_from, from);
  const Date last = std::min(valid_to, to);
  // A day counts while day - received <= max_age_days: every day up to received + max_age.
  if (filter.max_age_days) {
    const Date oldest = received.value_or(valid_from) + std::chrono::days{*filter.max_age_days};
    if (oldest < first) return;
    for (Date day = first; day <= std::min(last, oldest); day += std::chrono::days{1}) {
      receiver.price(lane, day, price);
    }
    return;
  }
  for (; first <= last; first += std::chrono::days{1}) receiver.price(lane, first, price);
}

}  // namespace prkl

namespace prkl::detail {

void refuse_load_over_data() {
  throw InvalidArgument(
      "the store already holds data; loading would mix two data sets (to load over it, pass "
      "--replace to the prkl tool, replace=True in Python, replace = true in C++)");
}

std::string seed_equipment_sql() {
  std::string values;
  for (const std::string_view code : default_equipment) {
    values += fmt::format("{}('{}')", values.empty() ? "" : ", ", code);
  }
  return fmt::format("INSERT INTO prkl_equipment (code) VALUES {}", values);
}

}  // namespace prkl::detail
