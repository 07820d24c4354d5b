// SPDX-License-Identifier: MIT
// The oracle of the market's tests: PostgreSQL's own aggregates over a lane's raw rows.
#include "reference.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "postgres_server.hpp"

namespace prkl::test {

namespace {

std::string where(const PriceFilter& f) {
  std::string sql = "TRUE";
  if (!f.equipment.empty()) {
    sql += fmt::format(" AND equipment IN ('{}')", fmt::join(f.equipment, "', '"));
  }
  if (f.term) sql += fmt::format(" AND term = '{}'", to_string(*f.term));
  if (f.max_age_days) {
    sql += fmt::format(" AND day - coalesce(received, day) <= {}", *f.max_age_days);
  }
  return sql;
}

std::string text(const std::optional<Decimal>& value) {
  return value ? value->to_string() : "null";
}

}  // namespace

std::string reference_sql(const std::string& origin, const std::string& destination, Date from,
                          Date to, const PriceFilter& filter, const std::string& columns) {
  // A contract's received defaults to its first day, as a day price's to its day.
  return fmt::format(R"(
WITH RECURSIVE
  o_regions AS (SELECT slug FROM regions WHERE slug = '{0}'
                UNION SELECT r.slug FROM regions r JOIN o_regions o ON r.parent_slug = o.slug),
  d_regions AS (SELECT slug FROM regions WHERE slug = '{1}'
                UNION SELECT r.slug FROM regions r JOIN d_regions d ON r.parent_slug = d.slug),
  o_ports AS (SELECT code FROM ports WHERE code = '{0}' OR parent_slug IN (SELECT slug FROM o_regions)),
  d_ports AS (SELECT code FROM ports WHERE code = '{1}' OR parent_slug IN (SELECT slug FROM d_regions)),
  every AS (SELECT orig_code, dest_code, day, price, equipment, term, received FROM prices
            UNION ALL
            SELECT c.orig_code, c.dest_code, g::date, c.price, c.equipment, c.term,
                   coalesce(c.received, c.valid_from)
            FROM prkl_contracts c, generate_series(c.valid_from, c.valid_to, interval '1 day') g)
SELECT day::text, count(*)::text, {4} FROM every
WHERE day BETWEEN '{2}' AND '{3}' AND {5}
  AND orig_code IN (SELECT code FROM o_ports) AND dest_code IN (SELECT code FROM d_ports)
GROUP BY day ORDER BY day)",
                     origin, destination, format_date(from), format_date(to), columns,
                     where(filter));
}

std::string describe(const PriceFilter& filter) {
  return fmt::format("equipment {} term {} max_age {}", fmt::join(filter.equipment, ","),
                     filter.term ? to_string(*filter.term) : "-",
                     filter.max_age_days ? std::to_string(*filter.max_age_days) : "-");
}

std::string band_columns() {
  // At scale 3 the band's exact values (2.5 and 97.5 in fortieths of a rank) are not rounded.
  std::string columns;
  for (const char* p : {"0.025", "0.25", "0.5", "0.75", "0.975"}) {
    columns += fmt::format(
        "round((percentile_cont({}) WITHIN GROUP (ORDER BY price))::numeric, 3)::text, ", p);
  }
  return columns + "round(avg(price), 3)::text";
}

std::string rank_columns(const std::string& price) {
  return fmt::format(
      "round((percent_rank({0}) WITHIN GROUP (ORDER BY price))::numeric, 6)::text, "
      "round((cume_dist({0}) WITHIN GROUP (ORDER BY price))::numeric, 6)::text",
      price);
}

std::string rate_columns() {
  return "round(avg(price), 3)::text, min(price)::text, max(price)::text";
}

TextRows reference_rows(const std::string& url, const std::string& sql) {
  TextRows out;
  for (const auto& row : postgres_sql(url, sql)) {
    auto& line = out.emplace_back();
    for (const auto& value : row) line.push_back(value.value_or("null"));
  }
  return out;
}

TextRows band_rows(Database& db, const MarketQuery& query) {
  TextRows out;
  for (const MarketDay& d : db.market(query).days) {
    if (d.count == 0) continue;
    out.push_back({format_date(d.day), std::to_string(d.count), text(d.low), text(d.midlow),
                   text(d.median), text(d.midhigh), text(d.high), text(d.mean)});
  }
  return out;
}

TextRows rate_rows(Database& db, const RatesQuery& query) {
  TextRows out;
  for (const RateDay& d : db.rates(query)) {
    if (d.count == 0) continue;
    out.push_back({format_date(d.day), std::to_string(d.count), text(d.average),
                   std::to_string(*d.min), std::to_string(*d.max)});
  }
  return out;
}

TextRows rank_rows(Database& db, const RankQuery& query) {
  TextRows out;
  for (const RankDay& d : db.rank(query)) {
    if (d.count == 0) continue;
    out.push_back(
        {format_date(d.day), std::to_string(d.count), text(d.percent_rank), text(d.cume_dist)});
  }
  return out;
}

}  // namespace prkl::test
