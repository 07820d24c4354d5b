// SPDX-License-Identifier: MIT
// Contracts valid over a period on every backend: one stored row that counts as one price on
// each day of its validity in every answer, checked against PostgreSQL's own aggregates over
// the contracts expanded day by day; their batch rules; and writers that are not prkl.

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <catch2/catch.hpp>
#include <prkl/prkl.hpp>
#include <sstream>
#include <thread>

#include "context.hpp"
#include "postgres_server.hpp"
#include "price_source.hpp"
#include "reference.hpp"

using namespace prkl;
using test::band_rows, test::rate_rows, test::rank_rows, test::reference_rows;

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

// A new store at `url` with the ports CNSHA and NOOSL in the region world.
Database two_ports(const std::string& url) {
  Database db = Database::open(url, OpenMode::create);
  Dataset d;
  d.regions = {{"world", "World", std::nullopt}};
  d.ports = {{"CNSHA", "Shanghai", "world"}, {"NOOSL", "Oslo", "world"}};
  db.load(d);
  return db;
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
  Database db = Database::open(test::new_store_url(), OpenMode::create, test::store_or_copy());
  db.load(data);
  const std::string reference = test::new_postgres_url();
  Database oracle = Database::open(reference, OpenMode::create);
  oracle.load(data);
  const Batch batch = contracts_on(data, 400);
  CHECK(db.apply(batch).prices == 400);  // one stored row each
  oracle.apply(batch);

  const Date from = day("2023-12-20"), to = day("2024-02-15");  // days of contracts alone too
  const std::string port = data.prices.front().origin;
  for (const PriceFilter& filter : std::vector<PriceFilter>{
           {}, {{"40HC"}, {}, {}}, {{}, Term::long_term, 30}, {{"20DC", "40DC"}, {}, 10}}) {
    for (const auto& [origin, destination] :
         {std::pair<std::string, std::string>{"world", "world"}, {port, "world"}}) {
      INFO(origin << " -> " << destination << ", " << test::describe(filter));
      const auto sql = [&](const std::string& columns) {
        return test::reference_sql(origin, destination, from, to, filter, columns);
      };
      const auto band = reference_rows(reference, sql(test::band_columns()));
      REQUIRE(!band.empty());
      MarketQuery m{from, to, origin, destination, 1, 3};
      m.filter = filter;
      CHECK(band_rows(db, m) == band);
      RatesQuery r{from, to, origin, destination, 1, 3};
      r.filter = filter;
      CHECK(rate_rows(db, r) == reference_rows(reference, sql(test::rate_columns())));
      RankQuery k{from, to, origin, destination, parse_decimal(band.front()[4])};
      k.filter = filter;
      CHECK(rank_rows(db, k) ==
            reference_rows(reference, sql(test::rank_columns(band.front()[4]))));
    }
  }
  // Buckets: a month counts a contract once per day of it.
  RatesQuery months{from, to, "world", "world", 1, 3, Bucket::month};
  std::int64_t counted = 0;
  for (const RateDay& d : db.rates(months)) counted += d.count;
  CHECK(std::to_string(counted) ==
        test::postgres_sql(reference,
                           fmt::format("SELECT sum(count::bigint)::text FROM ({}) x",
                                       test::reference_sql("world", "world", from, to, {}, "1")))
            .at(0)
            .at(0)
            .value());
}

TEST_CASE("a contract row is checked whole, and a batch of them lands once",
          "[conformance][contracts]") {
  const std::string url = test::new_store_url();
  Database db = two_ports(url);
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
  Database db = two_ports(url);
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
  Database db = Database::open(test::new_store_url(), OpenMode::create, test::store_or_copy());
  db.load(data);
  const std::string reference = test::new_postgres_url();
  Database::open(reference, OpenMode::create).load(data);
  const Date from = day("2024-02-01"), to = day("2024-04-30");
  for (const PriceFilter& filter : std::vector<PriceFilter>{{}, {{}, Term::long_term, 45}}) {
    MarketQuery m{from, to, "world", "world", 1, 3};
    m.filter = filter;
    CHECK(band_rows(db, m) ==
          reference_rows(reference, test::reference_sql("world", "world", from, to, filter,
                                                        test::band_columns())));
  }
  // Without a filter, from the lane-days: the load's sums of the contracts' days.
  CHECK(rate_rows(db, {from, to, "world", "world", 1, 3}) ==
        reference_rows(reference,
                       test::reference_sql("world", "world", from, to, {}, test::rate_columns())));
  std::ostringstream dump;
  CHECK_THROWS_WITH(write_dump(dump, data), Catch::Contains("contracts"));
  CHECK(dump.str().empty());
}

TEST_CASE("a generator streams into a store what its data set loaded whole holds",
          "[conformance][contracts]") {
  const GeneratorOptions options{.seed = 11,
                                 .ports = 40,
                                 .lanes = 400,
                                 .days = 60,
                                 .dimensions = true,
                                 .contracts_percent = 20};
  const Dataset data = generate(options);
  // More than one chunk of prices (16,384) and of contracts (1,024).
  REQUIRE(data.prices.size() > 40'000);
  REQUIRE(data.contracts.size() > 5'000);
  Database whole = Database::open(test::new_store_url(), OpenMode::create);
  whole.load(data);
  Database streamed = Database::open(test::new_store_url(), OpenMode::create);
  Generator generator(options);
  const ImportSummary summary = streamed.load(generator);
  CHECK(summary.prices == std::int64_t(data.prices.size()));
  CHECK(summary.contracts == std::int64_t(data.contracts.size()));
  CHECK(summary.ports == 40);
  const Date from = options.first_day, to = options.first_day + std::chrono::days{89};
  CHECK(rate_rows(streamed, {from, to, "world", "world", 1, 3}) ==
        rate_rows(whole, {from, to, "world", "world", 1, 3}));
  for (const auto& lane : std::vector<std::pair<std::string, std::string>>{
           {data.prices.front().origin, data.prices.front().destination},
           {data.contracts.back().origin, data.contracts.back().destination}}) {
    MarketQuery m{from, to, lane.first, lane.second, 1, 3};
    CHECK(band_rows(streamed, m) == band_rows(whole, m));
  }
}

TEST_CASE("a data set's bad contracts are listed, and nothing of the load is written",
          "[conformance][contracts]") {
  Database db = Database::open(test::new_store_url(), OpenMode::create);
  const GeneratorOptions options{.ports = 10, .lanes = 20, .days = 5};
  Dataset data = generate(options);
  db.load(data);
  const std::int64_t before =
      db.rates({options.first_day, options.first_day, "world", "world", 1}).at(0).count;
  data.contracts.assign(1'500, Contract{data.ports[0].code, data.ports[1].code, options.first_day,
                                        options.first_day + std::chrono::days{30}, 500});
  data.contracts[1'200].destination = "XXNOPE";
  data.contracts[1'300].valid_to = options.first_day - std::chrono::days{1};
  try {
    db.load(data, true);
    FAIL("the load was taken");
  } catch (const ValidationFailed& e) {
    REQUIRE(e.errors().size() == 2);
    CHECK(e.errors()[0].row == 1'201);
    CHECK_THAT(e.errors()[0].message, Catch::Contains("contract on unknown port 'XXNOPE'"));
    CHECK(e.errors()[1].row == 1'301);
    CHECK_THAT(e.errors()[1].message, Catch::Contains("reversed"));
  }
  // The first 1,024 contracts had gone to the store before the bad ones came: rolled back.
  CHECK(db.rates({options.first_day, options.first_day, "world", "world", 1}).at(0).count ==
        before);
}

TEST_CASE("writers on the same lane-days at once, with prices and contracts, each land once",
          "[conformance][contracts]") {
  // PostgreSQL writers run side by side until the data version moves; SQLite's queue. Either
  // way every lane-day must end up counting every batch once, and none may deadlock.
  const std::string url = test::new_store_url();
  two_ports(url);
  constexpr int writers = 4, batches = 6;
  std::vector<std::thread> threads;
  std::vector<std::string> failures(writers);
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      try {
        Database db = Database::open(url, OpenMode::existing);
        for (int b = 0; b < batches; ++b) {
          Batch batch{fmt::format("same-lanes-{}-{}", w, b), {}};
          for (const auto& [origin, destination] :
               {std::pair{"CNSHA", "NOOSL"}, std::pair{"NOOSL", "CNSHA"}}) {
            for (int d = 1; d <= 10; ++d) {
              BatchRow row;
              row.origin = origin;
              row.destination = destination;
              row.day = fmt::format("2025-03-{:02}", d);
              row.price = std::to_string(100 + w * 10 + b);
              batch.rows.push_back(std::move(row));
            }
            batch.rows.push_back(contract(origin, destination, "2025-03-05", "2025-03-20", "900"));
          }
          db.apply(batch);
        }
      } catch (const std::exception& e) {
        failures[std::size_t(w)] = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const std::string& failure : failures) CHECK(failure.empty());
  Database fresh = Database::open(url, OpenMode::existing);
  const std::vector<RateDay> days =
      fresh.rates({day("2025-03-01"), day("2025-03-20"), "CNSHA", "NOOSL", 1});
  REQUIRE(days.size() == 20);
  for (std::size_t i = 0; i < days.size(); ++i) {
    // A price a batch on days 1-10, a contract a batch on days 5-20.
    const std::int64_t prices = i < 10 ? 1 : 0, contracts = i >= 4 ? 1 : 0;
    CHECK(days[i].count == (prices + contracts) * writers * batches);
  }
}
