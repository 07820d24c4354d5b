// SPDX-License-Identifier: MIT
// Turning aggregates or prices into an answer: buckets, exact means, percentiles, currencies.
#include "query/rates.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <span>

#include "prkl/error.hpp"
#include "util/exact.hpp"
#include "util/scratch.hpp"

namespace prkl {

Bucket parse_bucket(std::string_view text) {
  if (text == "day") return Bucket::day;
  if (text == "week") return Bucket::week;
  if (text == "month") return Bucket::month;
  throw InvalidArgument(
      fmt::format("unknown bucket {} (expected day, week or month)", quoted_value(text)));
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

double parse_percentile(std::string_view text) {
  const std::size_t point = text.find('.');
  const std::string_view whole = text.substr(0, point);
  const std::string_view fraction =
      point == std::string_view::npos ? std::string_view() : text.substr(point + 1);
  const auto digits = [](std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (!digits(whole) || whole.size() > 3 ||
      (point != std::string_view::npos && !digits(fraction))) {
    throw InvalidArgument(
        fmt::format("percentile {} is not a number such as 50 or 2.5", quoted_value(text)));
  }
  if (fraction.size() > std::size_t(max_percentile_digits)) {
    throw InvalidArgument(fmt::format("percentile {} has more than {} fraction digits",
                                      quoted_value(text), max_percentile_digits));
  }
  std::int64_t millionths = 0;
  for (const char c : whole) millionths = millionths * 10 + (c - '0');
  for (int i = 0; i < max_percentile_digits; ++i) {
    millionths =
        millionths * 10 + (std::size_t(i) < fraction.size() ? fraction[std::size_t(i)] - '0' : 0);
  }
  if (millionths <= 0 || millionths >= 100'000'000) {
    throw InvalidArgument(
        fmt::format("percentile {} is not strictly between 0 and 100", quoted_value(text)));
  }
  return double(millionths) / 1e6;
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
      day.average_double = nearest_double(t.sum, denominator * t.count);
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
          day.average_double = nearest_double(total.sum, total.count);
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

std::optional<std::int64_t> percentile_millionths(double p) {
  if (!(p > 0 && p < 100)) return std::nullopt;
  const auto m = std::int64_t(std::llround(p * 1e6));
  // Division by 10^6 is correctly rounded, so this holds exactly for the nearest double.
  if (double(m) / 1e6 != p) return std::nullopt;
  return m;
}

namespace {

__extension__ using Int128 = __int128;

Wide wide(Int128 v) {
  // high * 2^64 + low, the high half signed: no 128-bit constructor needed.
  return Wide(std::int64_t(v >> 64)) * (Wide(1) << 64) + Wide(std::uint64_t(v));
}

// Values at some ranks of one bucket: `ranks` ascending and distinct, `values` one per rank.
using ValuesAt = std::function<void(std::size_t bucket, std::span<const std::size_t> ranks,
                                    std::span<Int128> values)>;

// Each bucket's percentiles as percentile_cont gives them: its rank for p is p/100 * (n - 1),
// and between two ranks the value is interpolated linearly. With p = m millionths, the rank is
// m * (n - 1) / 10^8 = k + r / 10^8, and the exact value is (a * 10^8 + (b - a) * r) / 10^8 for
// the values a and b (in the answer's currency, over `denominator`) at ranks k and k + 1. Only
// those ranks are asked of `values_at`.
void add_percentiles(const RatesOptions& options, const Wide& denominator,
                     std::vector<RateDay>& out, const ValuesAt& values_at) {
  constexpr std::int64_t whole = 100'000'000;  // p = 100% in hundredths of millionths
  std::vector<std::int64_t> millionths;
  for (const double percent : options.percentiles) {
    millionths.push_back(percentile_millionths(percent).value());
  }
  std::vector<std::size_t> needed;
  std::vector<Int128> values;
  for (std::size_t b = 0; b < out.size(); ++b) {
    RateDay& day = out[b];
    if (!day.average) {
      for (const double percent : options.percentiles) day.percentiles.push_back({percent, {}});
      continue;
    }
    needed.clear();
    for (const std::int64_t m : millionths) {
      // m < 10^8 and a bucket's count < 2^40 (Options bound the prices held): it fits.
      const Int128 rank = Int128(m) * (day.count - 1);
      needed.push_back(std::size_t(rank / whole));
      needed.push_back(std::size_t((rank + whole - 1) / whole));
    }
    std::sort(needed.begin(), needed.end());
    needed.erase(std::unique(needed.begin(), needed.end()), needed.end());
    values.resize(needed.size());
    values_at(b, needed, values);
    const auto at = [&](std::size_t rank) {
      return wide(values[std::size_t(std::lower_bound(needed.begin(), needed.end(), rank) -
                                     needed.begin())]);
    };
    for (std::size_t i = 0; i < millionths.size(); ++i) {
      const Int128 rank = Int128(millionths[i]) * (day.count - 1);
      const auto low = std::size_t(rank / whole);
      const auto fraction = std::int64_t(rank % whole);
      const Wide a = at(low);
      const Wide c = fraction == 0 ? a : at(low + 1);
      day.percentiles.push_back(
          {options.percentiles[i],
           round_quotient(a * whole + (c - a) * fraction, denominator, options.scale)});
    }
  }
}

// Whole dollars in buckets whose ranges are small beside their counts (the usual case) are
// counted into one histogram per bucket: any rank is then a walk along it, with nothing sorted
// or partitioned. Nullopt when the histograms would outgrow a few words per price.
// The histograms: one buffer per thread, reused by its next question.
struct Histograms {
  std::vector<std::uint32_t> counts;
  Histograms() : counts(take_scratch<Histograms, std::uint32_t>()) {}
  ~Histograms() { keep_scratch<Histograms>(std::move(counts)); }
  Histograms(const Histograms&) = delete;
  Histograms& operator=(const Histograms&) = delete;
};

std::optional<ValuesAt> counted(const std::vector<SlotPrice>& prices,
                                const std::vector<std::size_t>& bucket_of,
                                const std::vector<DailyAggregate>& slots,
                                const BucketPlan& buckets) {
  auto lows = std::make_shared<std::vector<std::int64_t>>(buckets.size(), 0);
  auto offsets = std::make_shared<std::vector<std::size_t>>(buckets.size() + 1, 0);
  const auto most = std::int64_t(4 * prices.size() + 4096);
  for (std::size_t b = 0; b < buckets.size(); ++b) {
    std::optional<std::int64_t> low, high;  // 64 bits: a range of 32-bit prices overflows 32
    for (std::size_t slot = buckets.starts[b]; slot < buckets.starts[b + 1]; ++slot) {
      if (slots[slot].count == 0) continue;
      low = std::min<std::int64_t>(low.value_or(slots[slot].min), slots[slot].min);
      high = std::max<std::int64_t>(high.value_or(slots[slot].max), slots[slot].max);
    }
    (*lows)[b] = low.value_or(0);
    const std::int64_t size = low ? *high - *low + 1 : 0;
    if (size > most - std::int64_t((*offsets)[b])) return std::nullopt;
    (*offsets)[b + 1] = (*offsets)[b] + std::size_t(size);
  }
  auto histograms = std::make_shared<Histograms>();
  std::vector<std::uint32_t>& counts_of = histograms->counts;
  counts_of.assign(offsets->back(), 0);
  for (const SlotPrice& p : prices) {
    const std::size_t b = bucket_of[std::size_t(p.slot)];
    ++counts_of[(*offsets)[b] + std::size_t(std::int64_t(p.price) - (*lows)[b])];
  }
  return [=](std::size_t b, std::span<const std::size_t> ranks, std::span<Int128> values) {
    const std::vector<std::uint32_t>* counts = &histograms->counts;
    std::size_t at = (*offsets)[b], seen = 0;  // values below `at` in this bucket
    for (std::size_t i = 0; i < ranks.size(); ++i) {
      while (seen + (*counts)[at] <= ranks[i]) seen += (*counts)[at++];
      values[i] = Int128((*lows)[b]) + Int128(at - (*offsets)[b]);
    }
  };
}

// The values of each bucket gathered in one array (by a counting pass), and each rank selected:
// the middle one first, then each side's within its side, so each pass reads a shrinking part.
template <typename Value>
class Selected {
 public:
  Selected(const std::vector<SlotPrice>& prices, const std::vector<std::size_t>& bucket_of,
           std::size_t buckets, const std::function<Value(const SlotPrice&)>& value_of)
      : starts_(buckets + 1, 0), values_(prices.size()) {
    for (const SlotPrice& p : prices) ++starts_[bucket_of[std::size_t(p.slot)] + 1];
    for (std::size_t b = 1; b < starts_.size(); ++b) starts_[b] += starts_[b - 1];
    std::vector<std::size_t> filled(starts_.begin(), starts_.end() - 1);
    for (const SlotPrice& p : prices) {
      values_[filled[bucket_of[std::size_t(p.slot)]]++] = value_of(p);
    }
  }

  void operator()(std::size_t b, std::span<const std::size_t> ranks, std::span<Int128> out) {
    const auto begin = values_.begin() + std::ptrdiff_t(starts_[b]);
    select(begin, begin, values_.begin() + std::ptrdiff_t(starts_[b + 1]), ranks);
    for (std::size_t i = 0; i < ranks.size(); ++i) out[i] = begin[std::ptrdiff_t(ranks[i])];
  }

 private:
  using It = typename std::vector<Value>::iterator;
  static void select(It begin, It first, It last, std::span<const std::size_t> ranks) {
    if (ranks.empty()) return;
    const std::size_t middle = (ranks.size() - 1) / 2;
    const It at = begin + std::ptrdiff_t(ranks[middle]);
    if (at == first) {
      std::iter_swap(first, std::min_element(first, last));  // a rank at its part's start
    } else {
      std::nth_element(first, at, last);
    }
    select(begin, first, at, ranks.first(middle));
    select(begin, at + 1, last, ranks.subspan(middle + 1));
  }

  std::vector<std::size_t> starts_;
  std::vector<Value> values_;
};

}  // namespace

std::vector<RateDay> answer_from_prices(const std::vector<SlotPrice>& prices,
                                        std::size_t slot_count, const BucketPlan& buckets,
                                        const RatesOptions& options, const Conversion* conversion) {
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
  if (options.percentiles.empty()) return out;

  std::vector<std::size_t> bucket_of(slot_count);
  for (std::size_t b = 0; b < buckets.size(); ++b) {
    for (std::size_t slot = buckets.starts[b]; slot < buckets.starts[b + 1]; ++slot) {
      bucket_of[slot] = b;
    }
  }
  constexpr std::int64_t whole = 100'000'000;
  if (conversion) {
    // Converted prices are under 2^31 * 10^18 < 2^91: native 128-bit integers hold them.
    add_percentiles(options, Wide(whole) * rate_denominator, out,
                    Selected<Int128>(prices, bucket_of, buckets.size(), [&](const SlotPrice& p) {
                      return Int128(p.price) * conversion->units(std::size_t(p.slot));
                    }));
  } else if (auto by_count = counted(prices, bucket_of, slots, buckets)) {
    add_percentiles(options, Wide(whole), out, *by_count);
  } else {
    add_percentiles(options, Wide(whole), out,
                    Selected<std::int32_t>(prices, bucket_of, buckets.size(),
                                           [](const SlotPrice& p) { return p.price; }));
  }
  return out;
}

}  // namespace detail
}  // namespace prkl
