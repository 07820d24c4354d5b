// SPDX-License-Identifier: MIT
// The market's band and fallback, and the rank of one price among a lane's prices.
#include "query/market.hpp"

#include <fmt/format.h>

#include <iterator>
#include <tuple>

#include "prkl/error.hpp"
#include "util/exact.hpp"

namespace prkl::detail {

std::optional<std::string> parent_of(const Geography& geography, std::string_view location) {
  if (const Port* port = geography.find_port(location)) return port->region_slug;
  if (const Region* region = geography.find_region(location)) return region->parent_slug;
  return std::nullopt;
}

bool is_thin(const std::vector<RateDay>& days, std::int64_t min_count) {
  std::size_t thin_days = 0;
  for (const RateDay& day : days) thin_days += day.count < min_count;
  return thin_days * 2 > days.size();
}

std::pair<MarketLane, int> fallback_lane(const Geography& geography, const MarketLane& asked,
                                         const std::function<bool(const MarketLane&)>& thin) {
  MarketLane lane = asked;
  int steps = 0;
  bool origin_next = true;
  while (thin(lane)) {
    std::optional<std::string> origin_up = parent_of(geography, lane.origin);
    std::optional<std::string> destination_up = parent_of(geography, lane.destination);
    if (!origin_up && !destination_up) break;  // both at the top: the thin answer stands
    // The side whose turn it is, unless it is at the top.
    const bool origin = origin_up && (origin_next || !destination_up);
    (origin ? lane.origin : lane.destination) = std::move(*(origin ? origin_up : destination_up));
    origin_next = !origin;
    ++steps;
  }
  return {lane, steps};
}

namespace {

// A rates day asked with market_band's percentiles, as the band.
MarketDay market_day(const RateDay& day) {
  MarketDay out{day.day, day.count, {}, {}, {}, day.average, {}, {}};
  std::optional<Decimal>* band[] = {&out.low, &out.midlow, &out.median, &out.midhigh, &out.high};
  for (std::size_t i = 0; i < std::size(band); ++i) *band[i] = day.percentiles.at(i).value;
  return out;
}

}  // namespace

MarketAnswer answer_market(const MarketQuery& query, const Geography* geography,
                           const std::function<std::vector<RateDay>(const RatesQuery&)>& rates) {
  const auto ask = [&](const MarketLane& lane, std::vector<double> percentiles) {
    return rates({query.date_from, query.date_to, lane.origin, lane.destination, query.min_count,
                  query.scale, query.bucket, std::move(percentiles), query.currency, query.filter});
  };
  MarketAnswer answer{{query.origin, query.destination}, {query.origin, query.destination}, 0, {}};
  if (geography) {
    // Thin or not is a count: asked of the copy's aggregates unless a filter needs the prices.
    const auto thin = [&](const MarketLane& lane) {
      return is_thin(ask(lane, {}), query.min_count);
    };
    std::tie(answer.answered, answer.steps) = fallback_lane(*geography, answer.asked, thin);
  }
  const std::vector<double> band(std::begin(market_band), std::end(market_band));
  for (const RateDay& day : ask(answer.answered, band)) answer.days.push_back(market_day(day));
  return answer;
}

MatrixQuery rank_lane(const RankQuery& query) {
  if (query.price.units <= 0) {
    throw InvalidArgument(
        fmt::format("price {} is not above 0", quoted_value(query.price.to_string())));
  }
  if (query.price.scale < 0 || query.price.scale > max_average_scale) {
    throw InvalidArgument(
        fmt::format("price scale {} is outside 0..{}", query.price.scale, max_average_scale));
  }
  if (query.min_count < 1) {
    throw InvalidArgument(fmt::format("min_count {} must be at least 1", query.min_count));
  }
  return {query.date_from,
          query.date_to,
          {query.origin},
          {query.destination},
          {query.min_count, 0, query.bucket, {}, query.currency, query.filter}};
}

namespace {

__extension__ using Int128 = __int128;

// The fraction numerator / denominator (denominator > 0) rounded to rank_scale digits.
Decimal fraction(std::int64_t numerator, std::int64_t denominator) {
  return round_quotient(Wide(numerator), Wide(denominator), rank_scale);
}

}  // namespace

std::vector<RankDay> answer_rank(const RankQuery& query, const LanePrices& lane) {
  const BucketPlan& buckets = lane.buckets;
  const Conversion* conversion = lane.conversion ? &*lane.conversion : nullptr;
  // A market price p (USD) converted at u units per 10^12 USD is p·u / 10^12 of the currency;
  // the asked price is P / 10^s. p·u·10^s against P·10^12 compares them exactly: under 2^124.
  Int128 scale = 1;
  for (int i = 0; i < query.price.scale; ++i) scale *= 10;
  const Int128 asked = Int128(query.price.units) * (conversion ? rate_denominator : 1);
  std::vector<std::int64_t> below(buckets.size()), at_or_below(buckets.size()),
      count(buckets.size());
  // Prices come in the store's order, not by day.
  std::vector<std::size_t> bucket_of(buckets.starts.back());
  for (std::size_t b = 0; b < buckets.size(); ++b) {
    for (std::size_t slot = buckets.starts[b]; slot < buckets.starts[b + 1]; ++slot) {
      bucket_of[slot] = b;
    }
  }
  for (const SlotPrice& p : lane.prices) {
    const std::size_t bucket = bucket_of[std::size_t(p.slot)];
    const Int128 units = conversion ? conversion->units(std::size_t(p.slot)) : 1;
    const Int128 market = Int128(p.price) * units * scale;
    ++count[bucket];
    below[bucket] += market < asked;
    at_or_below[bucket] += market <= asked;
  }
  std::vector<RankDay> out;
  out.reserve(buckets.size());
  for (std::size_t b = 0; b < buckets.size(); ++b) {
    RankDay day{buckets.labels[b], count[b], std::nullopt, std::nullopt};
    if (count[b] >= query.min_count) {
      day.percent_rank = fraction(below[b], count[b]);
      day.cume_dist = fraction(at_or_below[b] + 1, count[b] + 1);
    }
    out.push_back(day);
  }
  return out;
}

}  // namespace prkl::detail
