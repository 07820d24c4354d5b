// SPDX-License-Identifier: MIT
#pragma once

// The oracle of the market's tests: what PostgreSQL's own aggregates give over the raw rows of a
// lane (day prices, and contracts expanded day by day) that a filter keeps, and prkl's answers
// in the same text form to compare with.

#include <optional>
#include <prkl/prkl.hpp>
#include <string>
#include <vector>

namespace prkl::test {

using TextRows = std::vector<std::vector<std::string>>;

/// "day, count, <columns>" per day of [from, to] with rows, for the prices and contracts from
/// any port of `origin` to any of `destination` (regions recursive) that `filter` keeps;
/// `columns` aggregate the rows' `price`.
std::string reference_sql(const std::string& origin, const std::string& destination, Date from,
                          Date to, const PriceFilter& filter, const std::string& columns);

/// The band's columns: the five percentiles (percentile_cont) and the mean, at scale 3.
std::string band_columns();
/// percent_rank and cume_dist of `price` at 6 digits.
std::string rank_columns(const std::string& price);
/// avg at scale 3, min, max.
std::string rate_columns();

/// "equipment 40HC,20DC term long max_age 30", for a test's INFO.
std::string describe(const PriceFilter& filter);

/// `sql` run on the PostgreSQL store at `url`, every value as text ("null" for NULL).
TextRows reference_rows(const std::string& url, const std::string& sql);

/// prkl's answers as reference_sql() gives them (days without prices left out): the band (its
/// query's scale 3), the rates (scale 3), rank.
TextRows band_rows(Database& db, const MarketQuery& query);
TextRows rate_rows(Database& db, const RatesQuery& query);
TextRows rank_rows(Database& db, const RankQuery& query);

}  // namespace prkl::test
