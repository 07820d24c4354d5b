// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The values prkl reads and writes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include "prkl/export.hpp"

#include "prkl/date.hpp"
#include "prkl/decimal.hpp"

namespace prkl {

/// A port: a 5-character code (UN/LOCODE style), a name, and the region it sits in.
struct Port {
  std::string code;
  std::string name;
  std::string region_slug;

  friend bool operator==(const Port&, const Port&) = default;
};

/// A region; regions form a tree of any depth and may hold ports and other regions.
struct Region {
  std::string slug;
  std::string name;
  std::optional<std::string> parent_slug;

  friend bool operator==(const Region&, const Region&) = default;
};

/// A region with its sub-regions and the ports directly in it, for tree views.
struct RegionNode {
  Region region;
  std::vector<RegionNode> children;
  std::vector<std::string> port_codes;
};

/// How long a price was agreed for: a spot or short-term price, or a long-term contract's.
enum class Term : std::uint8_t { short_term, long_term };

/// "short" or "long"; throws InvalidArgument naming anything else.
PRKL_EXPORT Term parse_term(std::string_view text);
PRKL_EXPORT std::string_view to_string(Term term) noexcept;

/// The equipment codes a new store knows (ISO 6346 size-type codes); a store keeps its own
/// table of them, to which a user may add (Database::add_equipment).
inline constexpr std::string_view default_equipment[] = {
    "20DC", "40DC", "40HC", "45HC", "20RE", "40RH", "20OT", "40OT", "20FR", "40FR", "20TK"};

/// An equipment code is four characters, each a digit or a capital letter ("40HC", "22G1");
/// throws InvalidArgument naming anything else. It does not say whether a store knows it.
PRKL_EXPORT void check_equipment_code(std::string_view code);

/// One observed price on one lane and day, in whole US dollars, with what it was for when the
/// writer said so. A price without `equipment` or `term` (all of a ratestask database's) counts
/// only in answers that do not filter on them.
struct Price {
  std::string origin;
  std::string destination;
  Date day;
  std::int32_t price = 0;
  /// Equipment code, or empty.
  std::string equipment{};
  std::optional<Term> term{};
  /// The day the price was submitted; when absent, the price's own day.
  std::optional<Date> received{};

  bool has_dimensions() const noexcept { return !equipment.empty() || term || received; }
  friend bool operator==(const Price&, const Price&) = default;
};

/// A price agreed for a period: one stored row that counts as one price on every day from
/// `valid_from` to `valid_to` inclusive, in every answer. Its `received` defaults to
/// `valid_from`.
struct Contract {
  std::string origin;
  std::string destination;
  Date valid_from;
  Date valid_to;
  std::int32_t price = 0;
  std::string equipment{};
  std::optional<Term> term{};
  std::optional<Date> received{};

  friend bool operator==(const Contract&, const Contract&) = default;
};

/// The longest validity a contract may have, in days (two years, a leap day included): a
/// question reads the contracts that began up to this many days before its range.
inline constexpr std::int64_t max_contract_days = 731;

/// The most ports plus regions a load takes: they are checked as a whole and held in memory
/// while the prices stream past (the world has about 10,000 ports).
inline constexpr std::int64_t max_geography_rows = 1'000'000;

/// Count, integer sum, min and max of the prices of one day (one slot of a rates answer).
struct DailyAggregate {
  Date day;
  std::int64_t count = 0;
  std::int64_t sum = 0;
  std::int32_t min = 0;
  std::int32_t max = 0;

  friend bool operator==(const DailyAggregate&, const DailyAggregate&) = default;
};

/// How a rates answer groups days: one entry per calendar day, per ISO week (Monday to
/// Sunday) or per calendar month.
enum class Bucket { day, week, month };

/// "day", "week" or "month"; throws InvalidArgument naming anything else.
PRKL_EXPORT Bucket parse_bucket(std::string_view text);
PRKL_EXPORT std::string_view to_string(Bucket bucket) noexcept;

/// The calendar start of the bucket holding `day`: the day itself, its week's Monday, or the
/// 1st of its month.
PRKL_EXPORT Date bucket_start(Bucket bucket, Date day) noexcept;

/// The currency prices are stored in, and answers are given in unless a query asks otherwise.
inline constexpr std::string_view base_currency = "USD";

/// Most fraction digits a percentile may have: 99.999999 is the finest asked.
inline constexpr int max_percentile_digits = 6;

/// A percentile as text ("50", "2.5", "99.9"): digits, and at most max_percentile_digits after
/// one point, strictly between 0 and 100. Throws InvalidArgument naming the text otherwise.
PRKL_EXPORT double parse_percentile(std::string_view text);

/// Which prices an answer counts. An empty filter counts every price.
struct PriceFilter {
  /// Prices of any of these equipment codes; empty: any equipment, or none.
  std::vector<std::string> equipment{};
  /// Prices of this term only.
  std::optional<Term> term{};
  /// A price counts on day D only if D - received <= max_age_days (received defaults to the
  /// price's own day). 0..max_age_limit.
  std::optional<std::int64_t> max_age_days{};

  bool empty() const noexcept { return equipment.empty() && !term && !max_age_days; }
  friend bool operator==(const PriceFilter&, const PriceFilter&) = default;
};

/// The largest max_age_days a filter may ask: 100 years.
inline constexpr std::int64_t max_age_limit = 36'525;

/// The options every rates question shares.
struct RatesOptions {
  /// Days (or buckets) with fewer prices than this get a null average and null percentiles.
  std::int64_t min_count = 3;
  /// Fraction digits of the average and the percentiles; 0 gives whole units.
  int scale = 0;
  Bucket bucket = Bucket::day;
  /// Percentiles to give per day or bucket, each strictly between 0 and 100 with at most
  /// max_percentile_digits fraction digits (50 is the median; 2.5 and 97.5 bound the market's
  /// band), computed as PostgreSQL's `percentile_cont(p / 100.0) WITHIN GROUP (ORDER BY
  /// price)`: linear interpolation between the two closest ranks, exactly (p taken as the
  /// decimal it spells), then rounded like the average.
  std::vector<double> percentiles{};
  /// ISO 4217 code of the answer. Prices are stored in USD; another currency converts each
  /// day's statistics at that day's exchange rate (see Database::import_exchange_rates).
  std::string currency = std::string(base_currency);
  /// Which prices count; see PriceFilter. A filter reads the prices themselves, as percentiles
  /// do, rather than the in-memory daily aggregates.
  PriceFilter filter{};
};

/// A rates question: every day from `date_from` to `date_to` inclusive, prices from any port of
/// `origin` to any port of `destination` (each a port code or a region slug, regions recursive).
struct RatesQuery {
  Date date_from;
  Date date_to;
  std::string origin;
  std::string destination;
  /// Days with fewer prices than this get a null average.
  std::int64_t min_count = 3;
  /// Fraction digits of the average; 0 gives whole dollars.
  int scale = 0;
  Bucket bucket = Bucket::day;
  /// See RatesOptions::percentiles.
  std::vector<double> percentiles{};
  /// See RatesOptions::currency.
  std::string currency = std::string(base_currency);
  /// See RatesOptions::filter.
  PriceFilter filter{};

  RatesOptions options() const { return {min_count, scale, bucket, percentiles, currency, filter}; }
};

/// Many lanes in one question: every origin with every destination.
struct MatrixQuery {
  Date date_from;
  Date date_to;
  std::vector<std::string> origins;
  std::vector<std::string> destinations;
  RatesOptions options;
};

/// One asked percentile of a day or bucket.
struct Percentile {
  /// As asked: 50, 2.5, ...
  double percent = 0;
  /// Null when the average is null (fewer prices than min_count).
  std::optional<Decimal> value;

  friend bool operator==(const Percentile&, const Percentile&) = default;
};

/// The answer for one calendar day, or one week or month (`day` is then the bucket's calendar
/// start, even when the range starts later; only prices inside the range count).
struct RateDay {
  Date day;
  std::int64_t count = 0;
  /// Null when count < min_count.
  std::optional<Decimal> average;
  /// Null when count == 0. In another currency than USD, rounded half away from zero to whole
  /// units of it.
  std::optional<std::int64_t> min;
  std::optional<std::int64_t> max;
  /// The asked percentiles, in the order asked.
  std::vector<Percentile> percentiles{};
  /// The exact average (not the rounded `average`) as the nearest double, ties to even: for
  /// contracts that answer a float, as `float(AVG(price))` does over PostgreSQL's numeric
  /// average. Null when `average` is.
  std::optional<double> average_double{};

  friend bool operator==(const RateDay&, const RateDay&) = default;
};

/// The answer for one origin and destination of a MatrixQuery.
struct LaneRates {
  std::string origin;
  std::string destination;
  std::vector<RateDay> days;
};

/// A currency's value of one US dollar on one day, as an exchange-rate file gives it: 0.9214
/// EUR per USD is the Decimal {921400000000, 12}.
struct ExchangeRate {
  std::string currency;
  Date day;
  /// Units of `currency` per USD, at scale exchange_rate_scale.
  std::int64_t units = 0;

  friend bool operator==(const ExchangeRate&, const ExchangeRate&) = default;
};

/// Fraction digits an exchange rate is kept with; a rate with more is refused, not rounded.
inline constexpr int exchange_rate_scale = 12;

/// A complete data set as a dump holds it. `source_line` vectors, when not empty, give the file
/// line each row came from, so errors can point at it.
struct Dataset {
  std::vector<Region> regions;
  std::vector<Port> ports;
  std::vector<Price> prices;
  /// Contracts valid over a period (the generator's; a dump has none).
  std::vector<Contract> contracts;
  std::vector<std::int64_t> region_lines;
  std::vector<std::int64_t> port_lines;
  std::vector<std::int64_t> price_lines;
};

}  // namespace prkl
