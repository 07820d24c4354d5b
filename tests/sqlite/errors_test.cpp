// SPDX-License-Identifier: MIT
// SQLite only: a StorageError carries SQLite's extended result code.

#include <catch2/catch.hpp>
#include <prkl/prkl.hpp>

#include "context.hpp"

using namespace prkl;

TEST_CASE("an SQLite error carries its extended result code", "[sqlite][errors]") {
  const std::string url = test::new_store_url();
  Database db = Database::open(url, OpenMode::create);
  Dataset d;
  d.regions = {{"r", "R", std::nullopt}};
  d.ports = {{"AAAAA", "A", "r"}, {"BBBBB", "B", "r"}};
  d.prices = {{"AAAAA", "BBBBB", parse_date("2024-01-01"), 10}};
  db.load(d);
  test::run_sql(url, "CREATE UNIQUE INDEX one_price_a_day ON prices (orig_code, dest_code, day)");
  try {
    db.apply({"twice", {BatchRow::single("AAAAA", "BBBBB", parse_date("2024-01-01"), 20)}});
    FAIL("the batch was applied");
  } catch (const StorageError& e) {
    CHECK(e.kind() == StorageError::Kind::other);
    CHECK(e.code() == "2067");  // SQLITE_CONSTRAINT_UNIQUE
  }
}
