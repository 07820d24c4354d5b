// SPDX-License-Identifier: MIT
// Turning aggregates or prices into an answer: buckets, exact means, percentiles, currencies.
#include "query/rates.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "prkl/error.hpp"
#include "util/exact.hpp"

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

std::vector<RateDay> answer_from_prices(std::vector<SlotPrice>& prices, std::size_t slot_count,
                                        const BucketPlan& buckets, const RatesOptions& options,
                                        const Conversion* conversion) {
  // By slot with a counting pass (slots are few and dense), then each slot's few prices.
  {
    std::vector<std::size_t> starts(slot_count + 1, 0);
    for (const SlotPrice& p : prices) ++starts[std::size_t(p.slot) + 1];
    for (std::size_t i = 1; i < starts.size(); ++i) starts[i] += starts[i - 1];
    std::vector<SlotPrice> ordered(prices.size());
    std::vector<std::size_t> filled(starts.begin(), starts.end() - 1);
    for (const SlotPrice& p : prices) ordered[filled[std::size_t(p.slot)]++] = p;
    for (std::size_t i = 0; i < slot_count; ++i) {
      std::sort(ordered.begin() + std::ptrdiff_t(starts[i]),
                ordered.begin() + std::ptrdiff_t(starts[i + 1]),
                [](const SlotPrice& a, const SlotPrice& b) { return a.price < b.price; });
    }
    prices.swap(ordered);
  }
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
  // p/100 * (n - 1), and between two ranks the value is interpolated linearly. With p = m
  // millionths, the rank is m * (n - 1) / 10^8 = k + r / 10^8, and the exact value is
  // (a * 10^8 + (b - a) * r) / 10^8 for the prices a and b at ranks k and k + 1.
  // A converted price is under 2^31 * 10^18 < 2^91: native 128-bit integers hold it and sort
  // fast; only the interpolation is done wider.
  __extension__ using Int128 = __int128;
  constexpr std::int64_t whole = 100'000'000;  // p = 100% in hundredths of millionths
  const Wide denominator = Wide(whole) * (conversion ? rate_denominator : 1);
  std::vector<std::int64_t> millionths;
  for (const double percent : options.percentiles) {
    millionths.push_back(percentile_millionths(percent).value());
  }
  std::vector<Int128> values;
  auto next = prices.begin();
  for (std::size_t b = 0; b < buckets.size(); ++b) {
    values.clear();
    const auto bucket_begin = next;
    for (; next != prices.end() && std::size_t(next->slot) < buckets.starts[b + 1]; ++next) {
      values.push_back(conversion ? Int128(next->price) * conversion->units(std::size_t(next->slot))
                                  : Int128(next->price));
    }
    RateDay& day = out[b];
    const bool enough = day.average.has_value();
    // Prices are sorted within a day; a bucket of one day in USD is sorted already.
    const bool sorted =
        !conversion && (next == bucket_begin || std::prev(next)->slot == bucket_begin->slot);
    if (enough && !sorted) std::sort(values.begin(), values.end());
    const auto n = std::int64_t(values.size());
    const auto wide = [](Int128 v) {
      // high * 2^64 + low, the high half signed: no 128-bit constructor needed.
      return Wide(std::int64_t(v >> 64)) * (Wide(1) << 64) + Wide(std::uint64_t(v));
    };
    for (std::size_t i = 0; i < millionths.size(); ++i) {
      Percentile p{options.percentiles[i], std::nullopt};
      if (enough) {
        const Wide rank = Wide(millionths[i]) * (n - 1);
        const auto low = std::size_t(rank / whole);
        const Wide fraction = rank % whole;
        const std::size_t high = fraction == 0 ? low : low + 1;
        const Wide a = wide(values[low]);
        const Wide c = wide(values[high]);
        p.value = round_quotient(a * whole + (c - a) * fraction, denominator, options.scale);
      }
      day.percentiles.push_back(p);
    }
  }
  return out;
}

}  // namespace detail
}  // namespace prkl
