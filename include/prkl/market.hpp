// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The market's questions: the band of a lane's prices per day (low, mid-low, median, mean,
/// mid-high, high and how many prices stand behind them), with a fallback up the region tree
/// for a thin lane, and where one price stands among the market's.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "prkl/date.hpp"
#include "prkl/decimal.hpp"
#include "prkl/export.hpp"
#include "prkl/model.hpp"

namespace prkl {

/// The percentiles of the band: low, mid-low, median, mid-high and high.
inline constexpr double market_band[] = {2.5, 25, 50, 75, 97.5};

/// A band question: every day (or bucket) from `date_from` to `date_to`, prices from any port of
/// `origin` to any port of `destination` (port codes or region slugs, regions recursive).
struct MarketQuery {
  Date date_from;
  Date date_to;
  std::string origin;
  std::string destination;
  /// Days (or buckets) with fewer prices than this get a null band; with `fallback`, also what
  /// makes a lane thin.
  std::int64_t min_count = 3;
  /// Fraction digits of the band's values.
  int scale = 0;
  Bucket bucket = Bucket::day;
  /// ISO 4217 code of the answer; each day converted at its own exchange rate.
  std::string currency = std::string(base_currency);
  /// When the lane is thin (more than half of its days or buckets have fewer than `min_count`
  /// prices), answer from one region level up instead: the origin's parent, then the
  /// destination's, in turn (a side at the top of its tree stays), until the lane is not thin
  /// or both sides are at the top. The answer says at which level it was given.
  bool fallback = false;
  /// Which prices count (equipment, term, age); see PriceFilter. The fallback's thin-or-not
  /// counts the same prices.
  PriceFilter filter{};
};

/// One day (or bucket) of the band: null values below min_count.
struct MarketDay {
  Date day;
  std::int64_t count = 0;
  std::optional<Decimal> low, midlow, median, mean, midhigh, high;

  friend bool operator==(const MarketDay&, const MarketDay&) = default;
};

/// A lane of the region tree: an origin and a destination, each a port code or a region slug.
struct MarketLane {
  std::string origin;
  std::string destination;

  friend bool operator==(const MarketLane&, const MarketLane&) = default;
};

struct MarketAnswer {
  MarketLane asked;
  /// The lane the band is of: `asked` unless the fallback stepped up.
  MarketLane answered;
  /// How many region levels the fallback stepped up, both sides counted.
  int steps = 0;
  std::vector<MarketDay> days;

  friend bool operator==(const MarketAnswer&, const MarketAnswer&) = default;
};

/// Where `price` stands among a lane's prices, day by day (or bucket by bucket).
struct RankQuery {
  Date date_from;
  Date date_to;
  std::string origin;
  std::string destination;
  /// The price to place, in `currency`: any positive decimal (1234.5 EUR).
  Decimal price;
  std::string currency = std::string(base_currency);
  /// Days with fewer market prices than this get null ranks.
  std::int64_t min_count = 1;
  Bucket bucket = Bucket::day;
  /// Which of the market's prices it is ranked among; see PriceFilter.
  PriceFilter filter{};
};

/// As PostgreSQL's hypothetical-set aggregates give them over the day's prices: percent_rank is
/// (prices below `price`) / count, cume_dist is (prices at or below `price` + 1) / (count + 1),
/// each rounded half away from zero to rank_scale digits. Null below min_count.
struct RankDay {
  Date day;
  std::int64_t count = 0;
  std::optional<Decimal> percent_rank, cume_dist;

  friend bool operator==(const RankDay&, const RankDay&) = default;
};

/// Fraction digits of percent_rank and cume_dist.
inline constexpr int rank_scale = 6;

/// {"asked": {"origin", "destination"}, "answered": {"origin", "destination", "steps"},
///  "days": [{"day", "count", "low", "midlow", "median", "mean", "midhigh", "high"}, ...]},
/// values as decimal strings or null.
PRKL_EXPORT std::string market_json(const MarketAnswer& answer);
/// [{"day", "count", "percent_rank", "cume_dist"}, ...], ranks as decimal strings or null.
PRKL_EXPORT std::string rank_json(const std::vector<RankDay>& days);

}  // namespace prkl
