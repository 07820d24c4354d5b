// SPDX-License-Identifier: MIT
// The market's questions on every backend: the band against PostgreSQL's percentile_cont and
// avg over the same rows, the fallback up the region tree, and rank against PostgreSQL's
// hypothetical-set percent_rank and cume_dist.

#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <prkl/prkl.hpp>

#include "context.hpp"
#include "postgres_server.hpp"

using namespace prkl;

namespace {

Date day(std::string_view text) {
  return parse_date(text);
}

// The SQL of a lane's prices per day: the rows `columns` aggregate, days without prices left out.
std::string lane_sql(const std::string& origin, const std::string& destination, Date from, Date to,
                     const std::string& columns) {
  return fmt::format(R"(
WITH RECURSIVE
  o_regions AS (SELECT slug FROM regions WHERE slug = '{0}'
                UNION SELECT r.slug FROM regions r JOIN o_regions o ON r.parent_slug = o.slug),
  d_regions AS (SELECT slug FROM regions WHERE slug = '{1}'
                UNION SELECT r.slug FROM regions r JOIN d_regions d ON r.parent_slug = d.slug),
  o_ports AS (SELECT code FROM ports WHERE code = '{0}' OR parent_slug IN (SELECT slug FROM o_regions)),
  d_ports AS (SELECT code FROM ports WHERE code = '{1}' OR parent_slug IN (SELECT slug FROM d_regions))
SELECT day::text, count(*)::text, {4} FROM prices
WHERE day BETWEEN '{2}' AND '{3}'
  AND orig_code IN (SELECT code FROM o_ports) AND dest_code IN (SELECT code FROM d_ports)
GROUP BY day ORDER BY day)",
                     origin, destination, format_date(from), format_date(to), columns);
}

std::string text(const std::optional<Decimal>& value) {
  return value ? value->to_string() : "null";
}

}  // namespace

TEST_CASE("the market band is PostgreSQL's percentile_cont and avg over the same prices",
          "[conformance][market][reference]") {
  GeneratorOptions options;
  options.seed = 5;
  options.ports = 60;
  options.lanes = 500;
  options.days = 40;
  options.first_day = day("2024-01-01");
  const Dataset data = generate(options);
  Database db = Database::open(test::new_store_url(), OpenMode::create);
  db.load(data);
  const std::string reference = test::new_postgres_url();
  Database::open(reference, OpenMode::create).load(data);
  // At scale 3 the band's exact values (2.5 and 97.5 in fortieths of a rank) are not rounded.
  std::string columns;
  for (const char* p : {"0.025", "0.25", "0.5", "0.75", "0.975"}) {
    columns += fmt::format(
        "round((percentile_cont({}) WITHIN GROUP (ORDER BY price))::numeric, 3)::text, ", p);
  }
  columns += "round(avg(price), 3)::text";
  const Date from = day("2024-01-05"), to = day("2024-02-05");
  for (const auto& [origin, destination] :
       {std::pair<std::string, std::string>{"world", "world"},
        {data.prices.front().origin, "world"},
        {data.prices.front().origin, data.prices.front().destination}}) {
    INFO(origin << " -> " << destination);
    const MarketAnswer answer = db.market({from, to, origin, destination, 1, 3});
    CHECK(answer.asked == MarketLane{origin, destination});
    CHECK(answer.answered == answer.asked);
    CHECK(answer.steps == 0);
    std::vector<std::vector<std::string>> got;
    for (const MarketDay& d : answer.days) {
      if (d.count == 0) continue;
      got.push_back({format_date(d.day), std::to_string(d.count), text(d.low), text(d.midlow),
                     text(d.median), text(d.midhigh), text(d.high), text(d.mean)});
    }
    std::vector<std::vector<std::string>> expected;
    for (const auto& row :
         test::postgres_sql(reference, lane_sql(origin, destination, from, to, columns))) {
      auto& line = expected.emplace_back();
      for (const auto& value : row) line.push_back(value.value_or("null"));
    }
    REQUIRE(!expected.empty());
    CHECK(got == expected);
  }
}

namespace {

// world > asia > china > CNSHA, CNNGB; world > europe > north_europe > NOOSL, NLRTM.
Database fallback_world() {
  Database db = Database::open(test::new_store_url(), OpenMode::create);
  Dataset d;
  d.regions = {{"world", "World", std::nullopt},
               {"asia", "Asia", "world"},
               {"china", "China", "asia"},
               {"europe", "Europe", "world"},
               {"north_europe", "North Europe", "europe"}};
  d.ports = {{"CNSHA", "Shanghai", "china"},
             {"CNNGB", "Ningbo", "china"},
             {"NOOSL", "Oslo", "north_europe"},
             {"NLRTM", "Rotterdam", "north_europe"}};
  db.load(d);
  return db;
}

}  // namespace

TEST_CASE("a thin lane steps up the region tree, one side after the other, and says where",
          "[conformance][market]") {
  Database db = fallback_world();
  // Four days. CNSHA -> NOOSL: 3 prices on one day only (thin: 3 of 4 days below 3).
  // CNSHA -> NLRTM: 3 prices on two days, so CNSHA -> north_europe has 3 on two days, 6 on one:
  // two days of four below 3 is half, not more than half: not thin.
  Batch batch{"thin", {}};
  for (const int price : {100, 200, 300}) {
    batch.rows.push_back(BatchRow::single("CNSHA", "NOOSL", day("2024-03-01"), price));
    batch.rows.push_back(BatchRow::single("CNSHA", "NLRTM", day("2024-03-01"), price + 1));
    batch.rows.push_back(BatchRow::single("CNSHA", "NLRTM", day("2024-03-02"), price + 2));
  }
  db.apply(batch);
  const Date from = day("2024-03-01"), to = day("2024-03-04");
  MarketQuery q{from, to, "CNSHA", "NOOSL"};

  const MarketAnswer plain = db.market(q);
  CHECK(plain.steps == 0);
  CHECK(plain.answered == MarketLane{"CNSHA", "NOOSL"});
  REQUIRE(plain.days.size() == 4);
  CHECK(plain.days[0].median == Decimal{200, 0});
  CHECK(plain.days[1].count == 0);
  CHECK(!plain.days[1].median);

  q.fallback = true;
  // Origin first: china -> NOOSL is as thin (no other Chinese prices to Oslo); then the
  // destination: china -> north_europe is not.
  const MarketAnswer stepped = db.market(q);
  CHECK(stepped.asked == MarketLane{"CNSHA", "NOOSL"});
  CHECK(stepped.answered == MarketLane{"china", "north_europe"});
  CHECK(stepped.steps == 2);
  // The answer at that level is the answer to asking it directly.
  MarketQuery direct{from, to, "china", "north_europe"};
  CHECK(stepped.days == db.market(direct).days);
  CHECK(stepped.days[0].count == 6);

  // Nothing anywhere: both sides climb to the top and the thin answer stands there.
  const MarketAnswer empty = db.market(
      {day("2025-01-01"), day("2025-01-02"), "CNNGB", "NLRTM", 3, 0, Bucket::day, "USD", true});
  CHECK(empty.answered == MarketLane{"world", "world"});
  CHECK(empty.steps == 6);
  CHECK(!empty.days[0].median);
  // A lane that is not thin does not move.
  MarketQuery rich{from, to, "CNSHA", "north_europe", 3, 0, Bucket::day, "USD", true};
  CHECK(db.market(rich).steps == 0);
  // Errors are the rates question's, naming the value.
  CHECK_THROWS_MATCHES(
      db.market({from, to, "CNSHA", "atlantis", 3, 0, Bucket::day, "USD", true}), NotFound,
      Catch::Matchers::Message("unknown location 'atlantis': not a port code or region slug"));
  CHECK_THROWS_AS(db.market({to, from, "CNSHA", "NOOSL"}), InvalidArgument);
}

TEST_CASE("rank is PostgreSQL's hypothetical-set percent_rank and cume_dist",
          "[conformance][market][reference]") {
  GeneratorOptions options;
  options.seed = 9;
  options.ports = 40;
  options.lanes = 300;
  options.days = 20;
  options.first_day = day("2024-01-01");
  const Dataset data = generate(options);
  Database db = Database::open(test::new_store_url(), OpenMode::create);
  db.load(data);
  const std::string reference = test::new_postgres_url();
  Database::open(reference, OpenMode::create).load(data);
  const Date from = day("2024-01-03"), to = day("2024-01-15");
  const std::string origin = data.prices.front().origin;
  // Below every price, beyond every price, one that is a price (ties), one between.
  const std::vector<std::string> prices = {"1", "1500", "1500.5",
                                           std::to_string(data.prices.front().price), "99999"};
  for (const std::string& price : prices) {
    INFO("price " << price);
    const std::string columns = fmt::format(
        "round((percent_rank({0}) WITHIN GROUP (ORDER BY price))::numeric, 6)::text, "
        "round((cume_dist({0}) WITHIN GROUP (ORDER BY price))::numeric, 6)::text",
        price);
    std::vector<std::vector<std::string>> expected;
    for (const auto& row :
         test::postgres_sql(reference, lane_sql(origin, "world", from, to, columns))) {
      auto& line = expected.emplace_back();
      for (const auto& value : row) line.push_back(value.value_or("null"));
    }
    REQUIRE(!expected.empty());
    std::vector<std::vector<std::string>> got;
    for (const RankDay& d : db.rank({from, to, origin, "world", parse_decimal(price)})) {
      if (d.count == 0) continue;
      got.push_back(
          {format_date(d.day), std::to_string(d.count), text(d.percent_rank), text(d.cume_dist)});
    }
    CHECK(got == expected);
  }
}

TEST_CASE("rank in another currency compares at each day's rate, and refuses bad prices",
          "[conformance][market]") {
  Database db = fallback_world();
  const ExchangeRate rates[] = {{"EUR", day("2024-03-01"), 500'000'000'000}};  // 0.5 EUR per USD
  db.save_exchange_rates(rates);
  Batch batch{"eur", {}};
  for (const int price : {100, 200, 300, 400}) {
    batch.rows.push_back(BatchRow::single("CNSHA", "NOOSL", day("2024-03-01"), price));
  }
  db.apply(batch);
  // In EUR the day's prices are 50, 100, 150, 200: 100 EUR has one below, two at or below.
  RankQuery q{day("2024-03-01"), day("2024-03-01"), "CNSHA", "NOOSL", Decimal{100, 0}, "EUR"};
  const auto eur = db.rank(q);
  REQUIRE(eur.size() == 1);
  CHECK(eur[0].count == 4);
  CHECK(eur[0].percent_rank == Decimal{250'000, 6});
  CHECK(eur[0].cume_dist == Decimal{600'000, 6});
  // 2/3 rounds half away from zero at the sixth digit.
  q.currency = "USD";
  q.price = Decimal{3001, 1};  // 300.1: three below, three at or below
  CHECK(db.rank(q)[0].cume_dist == Decimal{800'000, 6});
  q.price = Decimal{0, 0};
  CHECK_THROWS_MATCHES(db.rank(q), InvalidArgument,
                       Catch::Matchers::Message("price '0' is not above 0"));
  q.price = Decimal{100, 0};
  q.min_count = 0;
  CHECK_THROWS_MATCHES(db.rank(q), InvalidArgument,
                       Catch::Matchers::Message("min_count 0 must be at least 1"));
  q.min_count = 5;
  CHECK(!db.rank(q)[0].percent_rank);  // four prices, fewer than asked
  CHECK_THROWS_MATCHES(
      parse_decimal("1.2.3"), InvalidArgument,
      Catch::Matchers::Message("'1.2.3' is not a decimal such as 1234 or 1234.50"));
  CHECK_THROWS_AS(parse_decimal("-5"), InvalidArgument);
  CHECK_THROWS_AS(parse_decimal("1e3"), InvalidArgument);
  CHECK(parse_decimal("1234.50") == Decimal{123450, 2});
}

TEST_CASE("market and rank JSON: decimal strings, nulls, the levels asked and answered",
          "[conformance][market]") {
  MarketAnswer answer{{"CNSHA", "NOOSL"}, {"china", "NOOSL"}, 1, {}};
  answer.days.push_back({day("2024-03-01"), 3, Decimal{1, 0}, Decimal{2, 0}, Decimal{250, 2},
                         Decimal{3, 0}, Decimal{4, 0}, Decimal{5, 0}});
  answer.days.push_back({day("2024-03-02"), 0, {}, {}, {}, {}, {}, {}});
  CHECK(market_json(answer) ==
        R"({"asked":{"origin":"CNSHA","destination":"NOOSL"},)"
        R"("answered":{"origin":"china","destination":"NOOSL","steps":1},"days":[)"
        R"({"day":"2024-03-01","count":3,"low":"1","midlow":"2","median":"2.50","mean":"3",)"
        R"("midhigh":"4","high":"5"},{"day":"2024-03-02","count":0,"low":null,"midlow":null,)"
        R"("median":null,"mean":null,"midhigh":null,"high":null}]})");
  CHECK(rank_json({{day("2024-03-01"), 4, Decimal{250'000, 6}, Decimal{600'000, 6}},
                   {day("2024-03-02"), 0, {}, {}}}) ==
        R"([{"day":"2024-03-01","count":4,"percent_rank":"0.250000","cume_dist":"0.600000"},)"
        R"({"day":"2024-03-02","count":0,"percent_rank":null,"cume_dist":null}])");
}
