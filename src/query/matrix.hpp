// SPDX-License-Identifier: MIT
#pragma once

// Rates questions, from the check that refuses a bad one before anything is read to the answer
// of every origin x destination cell.

#include <optional>
#include <vector>

#include "geography/geography.hpp"
#include "prkl/model.hpp"
#include "prkl/options.hpp"
#include "prkl/store.hpp"
#include "query/lane_days.hpp"
#include "query/rates.hpp"

namespace prkl::detail {

/// Refuses a question that cannot or must not be answered (a reversed or too long range, a bad
/// option, too many lanes, an answer too large to hold), naming the bad value.
void check_rates_question(const MatrixQuery& query, const Options& options);

/// Where a question is answered from.
struct MatrixSource {
  /// The store reads go to, and its version as the question began.
  Store& from;
  StoreVersion now;
  /// The write store: where percentiles are read when `from` (a standby) is behind the copy.
  Store& primary;
  /// The process's in-memory copy of the lane-day aggregates.
  SharedLaneDays& copy;
};

/// The prices of a checked one-lane question, by day slot of its range, read at one snapshot
/// that the copy's list of lanes is right for; with the question's buckets and, for another
/// currency than USD, the rate of each day.
struct LanePrices {
  std::vector<SlotPrice> prices;
  std::size_t days;
  BucketPlan buckets;
  std::optional<Conversion> conversion;
};
LanePrices read_lane_prices(const MatrixQuery& query, const Geography& geography,
                            const Options& options, const MatrixSource& source);

/// The answer to a checked question whose locations `geography` knows: one LaneRates per
/// origin x destination, origins outer.
std::vector<LaneRates> answer_matrix(const MatrixQuery& query, const Geography& geography,
                                     const Options& options, const MatrixSource& source);

}  // namespace prkl::detail
