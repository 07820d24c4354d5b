// SPDX-License-Identifier: MIT
// PostgreSQL only: a batch sums its own lane-days when the prices' trigger function lets it
// (this version's init), and leaves them to the trigger when an older prkl's init put back a
// function that does not; either way each price and contract counts once.

#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <prkl/prkl.hpp>
#include <thread>

#include "context.hpp"

using namespace prkl;

namespace {

BatchRow row(std::string day, std::string price) {
  BatchRow r;
  r.origin = "AAAAA";
  r.destination = "BBBBB";
  r.day = std::move(day);
  r.price = std::move(price);
  return r;
}

BatchRow contract(std::string from, std::string to, std::string price) {
  BatchRow r = row("", std::move(price));
  r.valid_from = std::move(from);
  r.valid_to = std::move(to);
  return r;
}

std::vector<std::int64_t> counts(Database& db) {
  std::vector<std::int64_t> out;
  for (const RateDay& d :
       db.rates({parse_date("2024-01-01"), parse_date("2024-01-04"), "r", "r", 1})) {
    out.push_back(d.count);
  }
  return out;
}

// A new store with the ports AAAAA and BBBBB in the region r.
Database two_ports(const std::string& url) {
  Database db = Database::open(url, OpenMode::create);
  Dataset d;
  d.regions = {{"r", "R", std::nullopt}};
  d.ports = {{"AAAAA", "A", "r"}, {"BBBBB", "B", "r"}};
  db.load(d);
  return db;
}

}  // namespace

TEST_CASE("a batch's prices count once whichever prices trigger the database has", "[postgres]") {
  const std::string url = test::new_store_url();
  Database db = two_ports(url);
  db.apply({"this-version",
            {row("2024-01-01", "10"), row("2024-01-02", "20"),
             contract("2024-01-02", "2024-01-03", "30")}});
  CHECK(counts(db) == std::vector<std::int64_t>{1, 2, 1, 0});

  // An older prkl's init: the same function without the setting that lets batches sum.
  const std::string definition =
      test::run_sql(url, "SELECT pg_get_functiondef('prkl_prices_inserted'::regproc)")
          .at(0)
          .at(0)
          .value();
  const auto at = definition.find("prkl.batch_prices_lane_days");
  REQUIRE(at != std::string::npos);
  std::string older = definition;
  older.replace(at, std::string_view("prkl.batch_prices_lane_days").size(), "prkl.no_such_setting");
  test::run_sql(url, older);
  db.apply({"older-trigger",
            {row("2024-01-01", "40"), row("2024-01-04", "50"),
             contract("2024-01-03", "2024-01-04", "60")}});
  Database fresh = Database::open(url, OpenMode::existing);
  CHECK(counts(fresh) == std::vector<std::int64_t>{2, 2, 2, 2});
  CHECK(counts(db) == counts(fresh));
}

TEST_CASE("prkl's batches and another application's inserts on the same lane-days at once",
          "[postgres]") {
  // Both take lane-day rows first and the version row last, so neither waits for the other
  // while holding what it waits for; a deadlock all the same would be retried by the batch.
  const std::string url = test::new_store_url();
  two_ports(url);
  constexpr int writers = 2, batches = 8, statements = 16;
  std::vector<std::string> failures(writers + 1);
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      try {
        Database db = Database::open(url, OpenMode::existing);
        for (int b = 0; b < batches; ++b) {
          Batch batch{fmt::format("mixed-{}-{}", w, b), {}};
          for (int d = 1; d <= 4; ++d)
            batch.rows.push_back(row(fmt::format("2024-01-0{}", d), "7"));
          batch.rows.push_back(contract("2024-01-02", "2024-01-04", "8"));
          db.apply(batch);
        }
      } catch (const std::exception& e) {
        failures[std::size_t(w)] = e.what();
      }
    });
  }
  threads.emplace_back([&] {
    try {
      for (int i = 0; i < statements; ++i) {
        test::run_sql(url,
                      "INSERT INTO prices (orig_code, dest_code, day, price) SELECT 'AAAAA', "
                      "'BBBBB', DATE '2024-01-01' + g, 9 FROM generate_series(0, 3) g");
      }
    } catch (const std::exception& e) {
      failures[writers] = e.what();
    }
  });
  for (auto& t : threads) t.join();
  for (const std::string& failure : failures) CHECK(failure.empty());
  Database fresh = Database::open(url, OpenMode::existing);
  // Day 1: a price a batch and a row a statement; days 2-4: a contract a batch as well.
  const std::int64_t day_one = writers * batches + statements;
  CHECK(counts(fresh) == std::vector<std::int64_t>{day_one, day_one + writers * batches,
                                                   day_one + writers * batches,
                                                   day_one + writers * batches});
}
