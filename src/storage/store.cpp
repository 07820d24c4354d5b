// SPDX-License-Identifier: MIT
// The Store seam's defaults, what every backend refuses alike, and how a contract's days reach
// a reader.
#include "prkl/store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

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
  const auto number = [](Date day) { return std::int64_t(day.time_since_epoch().count()); };
  const auto [first, last] = detail::contract_days(number(valid_from), number(valid_to),
                                                   number(received.value_or(valid_from)),
                                                   number(from), number(to), filter.max_age_days);
  for (std::int64_t day = first; day <= last; ++day) {
    receiver.price(lane, Date{std::chrono::days{day}}, price);
  }
}

}  // namespace prkl

namespace prkl::detail {

void refuse_load_over_data() {
  throw InvalidArgument(
      "the store already holds data; loading would mix two data sets (to load over it, pass "
      "--replace to the prkl tool, replace=True in Python, replace = true in C++)");
}

std::int32_t checked_price(std::int64_t value) {
  if (value < std::numeric_limits<std::int32_t>::min() ||
      value > std::numeric_limits<std::int32_t>::max()) {
    throw StorageError(fmt::format("prkl_lane_days holds a price of {}", value));
  }
  return std::int32_t(value);
}

}  // namespace prkl::detail
