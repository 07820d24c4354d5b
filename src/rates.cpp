#include "rates.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "exact.hpp"
#include "prkl/error.hpp"

namespace prkl {

Bucket parse_bucket(std::string_view text) {
  if (text == "day") return Bucket::day;
  if (text == "week") return Bucket::week;
  if (text == "month") return Bucket::month;
  throw InvalidArgument(fmt::format("unknown bucket '{}' (expected day, week or month)", text));
}

std::string_view to_string(Bucket bucket) noexcept {
  switch (bucket) {
    case Bucket::week:
      return "week";
    case Bucket::month:
      return "month";
    case Bucket::day:
      break;
  }
  return "day";
}

Date bucket_start(Bucket bucket, Date day) noexcept {
  switch (bucket) {
    case Bucket::week: {
      // ISO weeks start on Monday.
      const unsigned from_monday = std::chrono::weekday(day).iso_encoding() - 1;
      return day - std::chrono::days{from_monday};
    }
    case Bucket::month: {
      const std::chrono::year_month_day ymd(day);
      return Date(ymd.year() / ymd.month() / 1);
    }
    case Bucket::day:
      break;
  }
  return day;
}

namespace detail {

BucketPlan::BucketPlan(Bucket bucket, Date from, Date to) {
  const auto slot_of = [from](Date day) { return std::size_t((day - from).count()); };
  if (bucket == Bucket::day) {
    const std::size_t days = slot_of(to) + 1;
    labels.reserve(days);
    starts.reserve(days + 1);
    for (std::size_t i = 0; i < days; ++i) {
      labels.push_back(from + std::chrono::days{i});
      starts.push_back(i);
    }
  } else {
    for (Date label = bucket_start(bucket, from); label <= to;) {
      labels.push_back(label);
      starts.push_back(label < from ? 0 : slot_of(label));
      label = bucket == Bucket::week
                  ? label + std::chrono::days{7}
                  : Date(std::chrono::year_month_day(label) + std::chrono::months{1});
    }
  }
  starts.push_back(slot_of(to) + 1);
}

std::int64_t Conversion::units(std::size_t slot) const {
  const std::int64_t found = units_by_slot[slot];
  if (found == 0) {
    throw NotFound(fmt::format("no {} exchange rate for {} or the {} days before it", currency,
                               format_date(from + std::chrono::days{slot}), max_age_days));
  }
  return found;
}

namespace {

// A bucket's totals in the answer's currency, as fractions over `denominator`.
struct Totals {
  std::int64_t count = 0;
  Wide sum = 0;
  Wide min = 0, max = 0;
};

RateDay finish(Date label, const Totals& t, const Wide& denominator, const RatesOptions& options) {
  RateDay day{label, t.count, std::nullopt, std::nullopt, std::nullopt, {}};
  if (t.count > 0) {
    day.min = round_quotient(t.min, denominator, 0).units;
    day.max = round_quotient(t.max, denominator, 0).units;
    if (t.count >= options.min_count) {
      day.average = round_quotient(t.sum, denominator * t.count, options.scale);
    }
  }
  return day;
}

}  // namespace

std::vector<RateDay> answer_from_days(std::span<const DailyAggregate> slots,
                                      const BucketPlan& buckets, const RatesOptions& options,
                                      const Conversion* conversion) {
  std::vector<RateDay> out;
  out.reserve(buckets.size());
  if (!conversion && options.percentiles.empty()) {
    // USD, the common case: 64-bit sums (a bucket of 10M prices of 2^31 still fits) and the
    // 128-bit average.
    for (std::size_t b = 0; b < buckets.size(); ++b) {
      DailyAggregate total;
      for (std::size_t i = buckets.starts[b]; i < buckets.starts[b + 1]; ++i) {
        const DailyAggregate& d = slots[i];
        if (d.count == 0) continue;
        total.min = total.count == 0 ? d.min : std::min(total.min, d.min);
        total.max = total.count == 0 ? d.max : std::max(total.max, d.max);
        total.count += d.count;
        total.sum += d.sum;
      }
      RateDay day{buckets.labels[b], total.count, std::nullopt, std::nullopt, std::nullopt, {}};
      if (total.count > 0) {
        day.min = total.min;
        day.max = total.max;
        if (total.count >= options.min_count) {
          day.average = exact_average(total.sum, total.count, options.scale);
        }
      }
      out.push_back(std::move(day));
    }
    return out;
  }
  // Another currency: each day's sum, min and max times that day's rate, over 10^12.
  const Wide denominator = conversion ? rate_denominator : 1;
  for (std::size_t b = 0; b < buckets.size(); ++b) {
    Totals total;
    for (std::size_t i = buckets.starts[b]; i < buckets.starts[b + 1]; ++i) {
      const DailyAggregate& d = slots[i];
      if (d.count == 0) continue;
      const std::int64_t factor = conversion ? conversion->units(i) : 1;
      const Wide min = Wide(d.min) * factor, max = Wide(d.max) * factor;
      total.min = total.count == 0 ? min : std::min(total.min, min);
      total.max = total.count == 0 ? max : std::max(total.max, max);
      total.count += d.count;
      total.sum += Wide(d.sum) * factor;
    }
    out.push_back(finish(buckets.labels[b], total, denominator, options));
  }
  return out;
}

std::vector<RateDay> answer_from_prices(std::vector<SlotPrice>& prices, std::size_t slot_count,
                                        const BucketPlan& buckets, const RatesOptions& options,
                                        const Conversion* conversion) {
  std::sort(prices.begin(), prices.end(), [](const SlotPrice& a, const SlotPrice& b) {
    return a.slot != b.slot ? a.slot < b.slot : a.price < b.price;
  });
  std::vector<DailyAggregate> slots(slot_count);
  for (const SlotPrice& p : prices) {
    DailyAggregate& d = slots[std::size_t(p.slot)];
    d.min = d.count == 0 ? p.price : std::min(d.min, p.price);
    d.max = d.count == 0 ? p.price : std::max(d.max, p.price);
    ++d.count;
    d.sum += p.price;
  }
  RatesOptions without = options;
  without.percentiles.clear();
  std::vector<RateDay> out = answer_from_days(slots, buckets, without, conversion);

  // Each bucket's prices in the answer's currency, sorted; percentile_cont's rank for p is
  // p/100 * (n - 1), and between two ranks the value is interpolated linearly. With p a whole
  // percent, the exact value is (a * 100 + (b - a) * r) / 100 for the prices a and b around it.
  const Wide denominator = Wide(100) * (conversion ? rate_denominator : 1);
  std::vector<Wide> values;
  auto next = prices.begin();
  for (std::size_t b = 0; b < buckets.size(); ++b) {
    values.clear();
    for (; next != prices.end() && std::size_t(next->slot) < buckets.starts[b + 1]; ++next) {
      values.push_back(conversion ? Wide(next->price) * conversion->units(std::size_t(next->slot))
                                  : Wide(next->price));
    }
    RateDay& day = out[b];
    const bool enough = day.average.has_value();
    if (enough) std::sort(values.begin(), values.end());
    const auto n = std::int64_t(values.size());
    for (const int percent : options.percentiles) {
      Percentile p{percent, std::nullopt};
      if (enough) {
        const std::int64_t rank = std::int64_t(percent) * (n - 1);
        const auto low = std::size_t(rank / 100), high = std::size_t((rank + 99) / 100);
        const Wide& a = values[low];
        const Wide& c = values[high];
        p.value = round_quotient(a * 100 + (c - a) * (rank % 100), denominator, options.scale);
      }
      day.percentiles.push_back(p);
    }
  }
  return out;
}

}  // namespace detail
}  // namespace prkl
