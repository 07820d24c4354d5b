// SPDX-License-Identifier: MIT
#pragma once

// What a batch adds to the lane-day aggregates, for a backend that keeps them itself.

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "prkl/model.hpp"

namespace prkl::detail {

/// The sums a batch adds to one lane's day. Views into the batch's prices and contracts.
struct LaneDayGroup {
  std::string_view origin;
  std::string_view destination;
  Date day;
  std::int64_t count = 0;
  std::int64_t sum = 0;
  std::int32_t min = 0;
  std::int32_t max = 0;
};

/// The prices and contracts summed per lane and day, a contract on every day of its validity,
/// in (origin, destination, day) order. Memory: the groups, and one lane's span of days at a
/// time, however long the contracts.
std::vector<LaneDayGroup> lane_day_groups(std::span<const Price> prices,
                                          std::span<const Contract> contracts);

}  // namespace prkl::detail
