// SPDX-License-Identifier: MIT
// Contracts valid over a period on every backend: one stored row that counts as one price on
// each day of its validity in every answer, checked against PostgreSQL's own aggregates over
// the contracts expanded day by day; their batch rules; and writers that are not prkl.

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <catch2/catch.hpp>
#include <prkl/prkl.hpp>
#include <sstream>

#include "context.hpp"
#include "postgres_server.hpp"

using namespace prkl;

namespace {

Date day(std::string_view text) {
  return parse_date(text);
}

BatchRow contract(std::string origin, std::string destination, std::string valid_from,
                  std::string valid_to, std::string price) {
  BatchRow row;
  row.origin = std::move(origin);
  row.destination = std::move(destination);
  row.valid_from = std::move(valid_from);
  row.valid_to = std::move(valid_to);
  row.price = std::move(price);
  return row;
}

// Contracts on the data's own lanes, beginning up to 60 days before its first day and valid
// for 1 to 240 days, with every mix of dimensions.
Batch contracts_on(const Dataset& data, std::size_t count) {
  Batch batch{"contracts", {}};
  const char* codes[] = {"", "40HC", "20DC", "40DC"};
  const char* terms[] = {"long", "", "short"};
  std::uint64_t state = 7;
  const auto next = [&](std::uint64_t n) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return (state >> 33) % n;
  };
  for (std::size_t i = 0; i < count; ++i) {
    const Price& lane = data.prices[next(data.prices.size())];
    const Date from = day("2024-01-01") + std::chrono::days{std::int64_t(next(90)) - 60};
    const Date to = from + std::chrono::days{std::int64_t(next(240))};
    BatchRow row = contract(lane.origin, lane.destination, format_date(from), format_date(to),
                            std::to_string(300 + next(4000)));
    row.equipment = codes[i % 4];
    row.term = terms[i % 3];
    if (i % 5 == 1) row.received = format_date(from - std::chrono::days{std::int64_t(next(90))});
    batch.rows.push_back(std::move(row));
  }
  return batch;
}

// The rows PostgreSQL aggregates: the prices, and each contract once per day of its validity
// (received defaulting to its first day), that the filter keeps.
std::string lane_sql(const std::string& origin, const std::string& destination, Date from, Date to,
                     const PriceFilter& f, const std::string& columns) {
  std::string where = "TRUE";
  if (!f.equipment.empty()) {
    where += fmt::format(" AND equipment IN ('{}')", fmt::join(f.equipment, "', '"));
  }
  if (f.term) where += fmt::format(" AND term = '{}'", to_string(*f.term));
  if (f.max_age_days) {
    where += fmt::format(" AND day - coalesce(received, day) <= {}", *f.max_age_days);
  }
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
                     origin, destination, format_date(from), format_date(to), columns, where);
}

std::string text(const std::optional<Decimal>& value) {
  return value ? value->to_string() : "null";
}

std::vector<std::vector<std::string>> expected_rows(const std::string& url,
                                                    const std::string& sql) {
  std::vector<std::vector<std::string>> out;
  for (const auto& row : test::postgres_sql(url, sql)) {
    auto& line = out.emplace_back();
    for (const auto& value : row) line.push_back(value.value_or("null"));
  }
  return out;
}

// The band and the rates of a lane as text rows, days without prices left out.
std::vector<std::vector<std::string>> band_rows(Database& db, MarketQuery q) {
  std::vector<std::vector<std::string>> out;
  for (const MarketDay& d : db.market(q).days) {
    if (d.count == 0) continue;
    out.push_back({format_date(d.day), std::to_string(d.count), text(d.low), text(d.midlow),
                   text(d.median), text(d.midhigh), text(d.high), text(d.mean)});
  }
  return out;
}

std::vector<std::vector<std::string>> rate_rows(Database& db, RatesQuery q) {
  std::vector<std::vector<std::string>> out;
  for (const RateDay& d : db.rates(q)) {
    if (d.count == 0) continue;
    out.push_back({format_date(d.day), std::to_string(d.count), text(d.average),
                   std::to_string(*d.min), std::to_string(*d.max)});
  }
  return out;
}

}  // namespace

TEST_CASE("a contract counts on every day of its validity, as the same rows day by day do",
          "[conformance][contracts][reference]") {
  GeneratorOptions options;
  options.seed = 3;
  options.ports = 40;
  options.lanes = 200;
  options.days = 40;
  options.dimensions = true;
  const Dataset data = generate(options);
  Database db = Database::open(test::new_store_url(), OpenMode::create);
  db.load(data);
  const std::string reference = test::new_postgres_url();
  Database oracle = Database::open(reference, OpenMode::create);
  oracle.load(data);
  const Batch batch = contracts_on(data, 400);
  CHECK(db.apply(batch).prices == 400);  // one stored row each
  oracle.apply(batch);

  std::string band;
  for (const char* p : {"0.025", "0.25", "0.5", "0.75", "0.975"}) {
    band += fmt::format(
        "round((percentile_cont({}) WITHIN GROUP (ORDER BY price))::numeric, 3)::text, ", p);
  }
  band += "round(avg(price), 3)::text";
  const std::string rates = "round(avg(price), 3)::text, min(price)::text, max(price)::text";
  const Date from = day("2023-12-20"), to = day("2024-02-15");  // days of contracts alone too
  const std::string port = data.prices.front().origin;
  for (const PriceFilter& filter : std::vector<PriceFilter>{
           {}, {{"40HC"}, {}, {}}, {{}, Term::long_term, 30}, {{"20DC", "40DC"}, {}, 10}}) {
    for (const auto& [origin, destination] :
         {std::pair<std::string, std::string>{"world", "world"}, {port, "world"}}) {
      INFO(origin << " -> " << destination << " filter " << fmt::format("{}", filter.equipment)
                  << " " << (filter.term ? to_string(*filter.term) : "-") << " "
                  << filter.max_age_days.value_or(-1));
      const auto expected =
          expected_rows(reference, lane_sql(origin, destination, from, to, filter, band));
      REQUIRE(!expected.empty());
      MarketQuery m{from, to, origin, destination, 1, 3};
      m.filter = filter;
      CHECK(band_rows(db, m) == expected);
      RatesQuery r{from, to, origin, destination, 1, 3};
      r.filter = filter;
      CHECK(rate_rows(db, r) ==
            expected_rows(reference, lane_sql(origin, destination, from, to, filter, rates)));
      RankQuery k{from, to, origin, destination, parse_decimal(expected.front()[4])};
      k.filter = filter;
      std::vector<std::vector<std::string>> ranks;
      for (const RankDay& d : db.rank(k)) {
        if (d.count > 0) {
          ranks.push_back({format_date(d.day), std::to_string(d.count), text(d.percent_rank),
                           text(d.cume_dist)});
        }
      }
      CHECK(ranks ==
            expected_rows(reference, lane_sql(origin, destination, from, to, filter,
                                              fmt::format("round((percent_rank({0}) WITHIN GROUP "
                                                          "(ORDER BY price))::numeric, 6)::text, "
                                                          "round((cume_dist({0}) WITHIN GROUP "
                                                          "(ORDER BY price))::numeric, 6)::text",
                                                          expected.front()[4]))));
    }
  }
  // Buckets: a month counts a contract once per day of it.
  RatesQuery months{from, to, "world", "world", 1, 3, Bucket::month};
  std::int64_t counted = 0;
  for (const RateDay& d : db.rates(months)) counted += d.count;
  CHECK(std::to_string(counted) ==
        test::postgres_sql(reference, fmt::format("SELECT sum(count::bigint)::text FROM ({}) x",
                                                  lane_sql("world", "world", from, to, {}, "1")))
            .at(0)
            .at(0)
            .value());
}

TEST_CASE("a contract row is checked whole, and a batch of them lands once",
          "[conformance][contracts]") {
  const std::string url = test::new_store_url();
  Database db = Database::open(url, OpenMode::create);
  Dataset d;
  d.regions = {{"world", "World", std::nullopt}};
  d.ports = {{"CNSHA", "Shanghai", "world"}, {"NOOSL", "Oslo", "world"}};
  db.load(d);
  BatchRow both = contract("CNSHA", "NOOSL", "2024-01-01", "2024-12-31", "100");
  both.day = "2024-01-01";
  BatchRow open_ended = contract("CNSHA", "NOOSL", "2024-01-01", "", "100");
  Batch bad{"bad",
            {contract("CNSHA", "NOOSL", "2024-01-01", "2024-12-31", "100"),
             contract("CNSHA", "NOOSL", "2024-03-01", "2024-02-01", "100"),
             contract("CNSHA", "NOOSL", "2024-01-01", "2026-01-01", "100"), both, open_ended,
             contract("CNSHA", "NOOSL", "2024-01-01", "2024-02-30", "100")}};
  try {
    db.apply(bad);
    FAIL("applied");
  } catch (const ValidationFailed& e) {
    const std::vector<RowError> expected{
        {2, "valid_to", "reversed range: valid_to 2024-02-01 is before valid_from 2024-03-01"},
        {3, "valid_to", "validity 2024-01-01..2026-01-01 is longer than 731 days"},
        {4, "day", "give one of day, date_from and date_to, or valid_from and valid_to"},
        {5, "valid_to", "valid_to is missing"},
        {6, "valid_to", "valid_to: '2024-02-30' is not a calendar day"}};
    CHECK(e.errors() == expected);
  }
  RatesQuery year{day("2024-01-01"), day("2024-12-31"), "CNSHA", "NOOSL", 1};
  for (const RateDay& r : db.rates(year)) REQUIRE(r.count == 0);

  // A year's contract and a day's price on the same lane: one stored row for the year.
  Batch good{"year",
             {contract("CNSHA", "NOOSL", "2024-01-01", "2024-12-31", "100"),
              BatchRow::single("CNSHA", "NOOSL", day("2024-06-01"), 300)}};
  const BatchResult applied = db.apply(good);
  CHECK((applied.rows == 2 && applied.prices == 2 && !applied.replayed));
  const auto days = db.rates(year);
  REQUIRE(days.size() == 366);
  CHECK(std::all_of(days.begin(), days.end(), [](const RateDay& r) {
    return r.count == (r.day == day("2024-06-01") ? 2 : 1);
  }));
  CHECK(days[152].average == Decimal{200, 0});  // 2024-06-01
  CHECK(test::run_sql(url, "SELECT count(*) FROM prkl_contracts").at(0).at(0) == "1");
  // The same id again lands nothing; other rows under it are a conflict.
  CHECK(db.apply(good).replayed);
  CHECK(db.rates(year)[0].count == 1);
  Batch other = good;
  other.rows[0].valid_to = "2024-12-30";
  CHECK_THROWS_AS(db.apply(other), BatchConflict);

  Options few;
  few.max_batch_contracts = 1;
  Database capped = Database::open(url, OpenMode::existing, few);
  Batch two{"two",
            {contract("CNSHA", "NOOSL", "2025-01-01", "2025-01-31", "100"),
             contract("CNSHA", "NOOSL", "2025-02-01", "2025-02-28", "100")}};
  CHECK_THROWS_WITH(capped.apply(two), Catch::Contains("Options::max_batch_contracts"));
}

TEST_CASE("contracts and prices written by other SQL keep the lane-days right",
          "[conformance][contracts]") {
  const std::string url = test::new_store_url();
  Database db = Database::open(url, OpenMode::create);
  Dataset d;
  d.regions = {{"world", "World", std::nullopt}};
  d.ports = {{"CNSHA", "Shanghai", "world"}, {"NOOSL", "Oslo", "world"}};
  db.load(d);
  db.apply({"c",
            {contract("CNSHA", "NOOSL", "2024-03-01", "2024-03-10", "500"),
             BatchRow::single("CNSHA", "NOOSL", day("2024-03-05"), 100),
             BatchRow::single("CNSHA", "NOOSL", day("2024-03-05"), 900)}});
  const RatesQuery q{day("2024-03-01"), day("2024-03-12"), "CNSHA", "NOOSL", 1};
  const auto at = [&](std::size_t i) {
    const RateDay r = db.rates(q).at(i);
    return std::tuple{r.count, r.min.value_or(0), r.max.value_or(0)};
  };
  CHECK(at(4) == std::tuple{3, 100, 900});
  // Taking away a day's min is counted again from the prices and the contract left.
  test::run_sql(url, "DELETE FROM prices WHERE price = 100");
  CHECK(at(4) == std::tuple{2, 500, 900});
  test::run_sql(url, "UPDATE prices SET price = 50 WHERE price = 900");
  CHECK(at(4) == std::tuple{2, 50, 500});
  // A contract inserted, changed and deleted by hand counts, moves and goes.
  test::run_sql(url,
                "INSERT INTO prkl_contracts (orig_code, dest_code, valid_from, valid_to, price) "
                "VALUES ('CNSHA', 'NOOSL', '2024-03-09', '2024-03-11', 700)");
  CHECK(at(8) == std::tuple{2, 500, 700});
  CHECK(at(10) == std::tuple{1, 700, 700});
  test::run_sql(url, "UPDATE prkl_contracts SET valid_to = '2024-03-12' WHERE price = 700");
  CHECK(at(11) == std::tuple{1, 700, 700});
  test::run_sql(url, "DELETE FROM prkl_contracts WHERE price = 500");
  CHECK(at(0) == std::tuple{0, 0, 0});
  CHECK(at(4) == std::tuple{1, 50, 50});
  CHECK(at(9) == std::tuple{1, 700, 700});
  // What a reader relies on is checked by the table itself.
  CHECK_THROWS(test::run_sql(url,
                             "INSERT INTO prkl_contracts (orig_code, dest_code, valid_from, "
                             "valid_to, price) VALUES ('CNSHA', 'NOOSL', '2024-01-01', "
                             "'2026-01-01', 700)"));
}

TEST_CASE("a data set's contracts load and count as a batch's do", "[conformance][contracts]") {
  GeneratorOptions options;
  options.seed = 8;
  options.ports = 30;
  options.lanes = 150;
  options.days = 60;
  options.dimensions = true;
  options.contracts_percent = 20;
  const Dataset data = generate(options);
  REQUIRE(!data.contracts.empty());
  Database db = Database::open(test::new_store_url(), OpenMode::create);
  db.load(data);
  const std::string reference = test::new_postgres_url();
  Database::open(reference, OpenMode::create).load(data);
  const Date from = day("2024-02-01"), to = day("2024-04-30");
  for (const PriceFilter& filter : std::vector<PriceFilter>{{}, {{}, Term::long_term, 45}}) {
    MarketQuery m{from, to, "world", "world", 1, 3};
    m.filter = filter;
    std::string band;
    for (const char* p : {"0.025", "0.25", "0.5", "0.75", "0.975"}) {
      band += fmt::format(
          "round((percentile_cont({}) WITHIN GROUP (ORDER BY price))::numeric, 3)::text, ", p);
    }
    band += "round(avg(price), 3)::text";
    CHECK(band_rows(db, m) ==
          expected_rows(reference, lane_sql("world", "world", from, to, filter, band)));
  }
  // Without a filter, from the lane-days: the load's sums of the contracts' days.
  CHECK(rate_rows(db, {from, to, "world", "world", 1, 3}) ==
        expected_rows(reference,
                      lane_sql("world", "world", from, to, {},
                               "round(avg(price), 3)::text, min(price)::text, max(price)::text")));
  std::ostringstream dump;
  CHECK_THROWS_WITH(write_dump(dump, data), Catch::Contains("contracts"));
  CHECK(dump.str().empty());
}
