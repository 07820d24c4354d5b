// SPDX-License-Identifier: MIT
// The market's questions on every backend: the band against PostgreSQL's percentile_cont and
// avg over the same rows, the fallback up the region tree, and rank against PostgreSQL's
// hypothetical-set percent_rank and cume_dist.

#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <prkl/prkl.hpp>

#include "context.hpp"
#include "postgres_server.hpp"
#include "price_source.hpp"
#include "reference.hpp"

using namespace prkl;

namespace {

Date day(std::string_view text) {
  return parse_date(text);
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
  Database db = Database::open(test::new_store_url(), OpenMode::create, test::store_or_copy());
  db.load(data);
  const std::string reference = test::new_postgres_url();
  Database::open(reference, OpenMode::create).load(data);
  const Date from = day("2024-01-05"), to = day("2024-02-05");
  for (const auto& [origin, destination] :
       {std::pair<std::string, std::string>{"world", "world"},
        {data.prices.front().origin, "world"},
        {data.prices.front().origin, data.prices.front().destination}}) {
    INFO(origin << " -> " << destination);
    const MarketQuery query{from, to, origin, destination, 1, 3};
    const MarketAnswer answer = db.market(query);
    CHECK(answer.asked == MarketLane{origin, destination});
    CHECK(answer.answered == answer.asked);
    CHECK(answer.steps == 0);
    const auto expected = test::reference_rows(
        reference, test::reference_sql(origin, destination, from, to, {}, test::band_columns()));
    REQUIRE(!expected.empty());
    CHECK(test::band_rows(db, query) == expected);
  }
}

TEST_CASE("the band is exact whether a day's prices are close together or far apart",
          "[conformance][market][reference]") {
  // Close together, a day's prices are counted by value; far apart, they are selected by rank.
  for (const auto& [spread, name] : {std::pair{41, "close"}, std::pair{900'000, "far apart"}}) {
    INFO(name);
    Dataset d;
    d.regions = {{"world", "World", std::nullopt}};
    d.ports = {{"CNSHA", "Shanghai", "world"}, {"NOOSL", "Oslo", "world"}};
    std::uint64_t state = 17;
    for (int i = 0; i < 12; ++i) {
      for (int k = 0; k < 60 + 13 * i; ++k) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        const auto price = 1000 + std::int32_t((state >> 33) % std::uint64_t(spread));
        d.prices.push_back({k % 3 ? "CNSHA" : "NOOSL", k % 3 ? "NOOSL" : "CNSHA",
                            day("2024-01-01") + std::chrono::days{i}, price});
      }
    }
    Database db = Database::open(test::new_store_url(), OpenMode::create, test::store_or_copy());
    db.load(d);
    const std::string reference = test::new_postgres_url();
    Database::open(reference, OpenMode::create).load(d);
    const Date from = day("2024-01-01"), to = day("2024-01-12");
    const auto expected = test::reference_rows(
        reference, test::reference_sql("world", "world", from, to, {}, test::band_columns()));
    REQUIRE(expected.size() == 12);
    CHECK(test::band_rows(db, {from, to, "world", "world", 1, 3}) == expected);
  }
}

TEST_CASE("prices at both ends of 32 bits, written by other SQL, give percentile_cont's band",
          "[conformance][market][reference]") {
  Dataset d;
  d.regions = {{"world", "World", std::nullopt}};
  d.ports = {{"CNSHA", "Shanghai", "world"}, {"NOOSL", "Oslo", "world"}};
  for (int i = 0; i < 3; ++i) d.prices.push_back({"CNSHA", "NOOSL", day("2024-01-01"), 100 + i});
  const std::string url = test::new_store_url(), reference = test::new_postgres_url();
  Database db = Database::open(url, OpenMode::create, test::store_or_copy());
  db.load(d);
  Database::open(reference, OpenMode::create).load(d);
  const std::string extremes =
      "INSERT INTO prices (orig_code, dest_code, day, price) VALUES "
      "('CNSHA', 'NOOSL', '2024-01-01', -2147483647), ('CNSHA', 'NOOSL', '2024-01-01', "
      "2147483647), ('CNSHA', 'NOOSL', '2024-01-02', -2000000000), ('CNSHA', 'NOOSL', "
      "'2024-01-02', 2000000000), ('CNSHA', 'NOOSL', '2024-01-02', 5)";
  test::run_sql(url, extremes);
  test::postgres_sql(reference, extremes);
  const Date from = day("2024-01-01"), to = day("2024-01-02");
  CHECK(test::band_rows(db, {from, to, "world", "world", 1, 3}) ==
        test::reference_rows(
            reference, test::reference_sql("world", "world", from, to, {}, test::band_columns())));
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
  Database db = Database::open(test::new_store_url(), OpenMode::create, test::store_or_copy());
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
    const auto expected = test::reference_rows(
        reference, test::reference_sql(origin, "world", from, to, {}, test::rank_columns(price)));
    REQUIRE(!expected.empty());
    CHECK(test::rank_rows(db, {from, to, origin, "world", parse_decimal(price)}) == expected);
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
