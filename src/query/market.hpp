// SPDX-License-Identifier: MIT
#pragma once

// The market's questions on top of rates: the band from a rates answer, the fallback up the
// region tree for a thin lane, and where one price stands among a lane's prices.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "geography/geography.hpp"
#include "prkl/market.hpp"
#include "query/matrix.hpp"
#include "query/rates.hpp"

namespace prkl::detail {

/// One level up the region tree: a port's region, a region's parent; nullopt at the top.
std::optional<std::string> parent_of(const Geography& geography, std::string_view location);

/// True when more than half of the days (or buckets) have fewer than `min_count` prices.
bool is_thin(const std::vector<RateDay>& days, std::int64_t min_count);

/// The lane a fallback answers from, and how many levels it stepped: from `asked`, the origin's
/// parent, then the destination's, in turn (a side at the top stays), while `thin` says the lane
/// is thin and a side can still step.
std::pair<MarketLane, int> fallback_lane(const Geography& geography, const MarketLane& asked,
                                         const std::function<bool(const MarketLane&)>& thin);

/// The band of `query`'s lane, or with a fallback (given `geography`) of the lane it steps up
/// to; `rates` answers a rates question.
MarketAnswer answer_market(const MarketQuery& query, const Geography* geography,
                           const std::function<std::vector<RateDay>(const RatesQuery&)>& rates);

/// The one-lane rates question whose prices a rank question reads; refuses the rank question's
/// own values (the price, min_count), naming them.
MatrixQuery rank_lane(const RankQuery& query);

/// Where `query.price` stands among the prices of each bucket, as PostgreSQL's hypothetical-set
/// percent_rank and cume_dist.
std::vector<RankDay> answer_rank(const RankQuery& query, const LanePrices& lane);

}  // namespace prkl::detail
