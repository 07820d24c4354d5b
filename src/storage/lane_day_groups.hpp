// SPDX-License-Identifier: MIT
#pragma once

// What a batch adds to the lane-day aggregates, for a backend that keeps them itself.

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "prkl/model.hpp"
#include "prkl/store.hpp"

namespace prkl::detail {

/// The prices and contracts summed per lane and day (views into them), a contract on every day of
/// its validity, in (origin, destination, day) order. Memory: the groups, and one lane's span of
/// days at a time, however long the contracts.
std::vector<LaneDay> lane_day_groups(std::span<const Price> prices,
                                     std::span<const Contract> contracts);

}  // namespace prkl::detail
