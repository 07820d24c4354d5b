// SPDX-License-Identifier: MIT
// PostgreSQL only: a batch sums its own lane-days when the prices' trigger function lets it
// (this version's init), and leaves them to the trigger when an older prkl's init put back a
// function that does not; either way each price and contract counts once.

#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <prkl/prkl.hpp>

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

}  // namespace

TEST_CASE("a batch's prices count once whichever prices trigger the database has", "[postgres]") {
  const std::string url = test::new_store_url();
  Database db = Database::open(url, OpenMode::create);
  Dataset d;
  d.regions = {{"r", "R", std::nullopt}};
  d.ports = {{"AAAAA", "A", "r"}, {"BBBBB", "B", "r"}};
  db.load(d);
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
