// SPDX-License-Identifier: MIT
#pragma once

// Turning per-day aggregates (and, for percentiles, the prices themselves) into a rates answer:
// buckets, exact averages and percentiles, conversion to the asked currency. Shared by every
// lane of a question and by every backend.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "prkl/model.hpp"

namespace prkl::detail {

/// The days of a range grouped into buckets: bucket i covers day slots [starts[i],
/// starts[i + 1]) of the range (slot 0 being its first day) and is labelled labels[i].
struct BucketPlan {
  std::vector<Date> labels;
  std::vector<std::size_t> starts;  // one more than labels: the last is the slot count

  BucketPlan(Bucket bucket, Date from, Date to);
  std::size_t size() const noexcept { return labels.size(); }
};

/// The exchange rate each day of a range is converted at, for an answer in another currency
/// than USD (units at exchange_rate_scale; 0 where no rate is usable).
struct Conversion {
  std::string currency;
  Date from;
  std::vector<std::int64_t> units_by_slot;
  std::int64_t max_age_days = 0;

  /// The rate of a slot with prices; throws NotFound naming the day when it has none.
  std::int64_t units(std::size_t slot) const;
};

/// A percentile (0 < p < 100) as the millionths it spells: 2.5 is 2'500'000. Nullopt when p is
/// not the double nearest to a decimal of at most max_percentile_digits fraction digits.
std::optional<std::int64_t> percentile_millionths(double p);

/// One price of a lane's answer: its day slot and its value.
struct SlotPrice {
  std::int32_t slot = 0;
  std::int32_t price = 0;
};

/// The answer for one lane from its per-day aggregates. `conversion` is null for USD.
std::vector<RateDay> answer_from_days(std::span<const DailyAggregate> slots,
                                      const BucketPlan& buckets, const RatesOptions& options,
                                      const Conversion* conversion);

/// The answer for one lane from its prices (in any order), percentiles included.
std::vector<RateDay> answer_from_prices(const std::vector<SlotPrice>& prices,
                                        std::size_t slot_count, const BucketPlan& buckets,
                                        const RatesOptions& options, const Conversion* conversion);

}  // namespace prkl::detail
