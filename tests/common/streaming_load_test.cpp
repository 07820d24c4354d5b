// SPDX-License-Identifier: MIT
// A dump streams into the store chunk by chunk: loaded in the file's own order, DELETEs taking
// back what came before them, and a bad row anywhere rolling every chunk back.
#include <fmt/format.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <numeric>
#include <prkl/prkl.hpp>
#include <sstream>
#include <string>

#include "context.hpp"
#include "hooked_store.hpp"

using namespace prkl;

namespace {

// Rows enough for several of the load's chunks (16,384 prices each).
constexpr int dump_prices = 50'000;
constexpr int dump_days = 100;

Date day(std::string_view text) {
  return parse_date(text);
}

std::string ports_copy(std::string_view extra = "") {
  return fmt::format(
      "COPY public.ports (code, name, parent_slug) FROM stdin;\n"
      "AAAAA\tA\teast\nBBBBB\tB\twest\n{}\\.\n",
      extra);
}

std::string regions_copy() {
  return "COPY public.regions (slug, name, parent_slug) FROM stdin;\n"
         "world\tWorld\t\\N\neast\tEast\tworld\nwest\tWest\tworld\n\\.\n";
}

// AAAAA -> BBBBB over 100 days from 2024-01-01, 500 prices a day; `row` replaces price row i.
template <typename Row>
std::string prices_copy(Row row) {
  std::string out = "COPY public.prices (orig_code, dest_code, day, price) FROM stdin;\n";
  for (int i = 0; i < dump_prices; ++i) {
    const Date d = day("2024-01-01") + std::chrono::days{i % dump_days};
    out += row(i, fmt::format("AAAAA\tBBBBB\t{}\t{}\n", format_date(d), 100 + i % 50));
  }
  return out + "\\.\n";
}

std::string as_is(int, std::string line) {
  return line;
}

// pg_dump's order (ports, prices, regions), a day's prices taken back and one given again.
std::string good_dump() {
  return ports_copy() + prices_copy(as_is) +
         "DELETE FROM prices WHERE day = date'2024-01-02';\n"
         "INSERT INTO prices VALUES ('AAAAA', 'BBBBB', date'2024-01-02', 777);\n" +
         regions_copy();
}

// Price row i is on dump line 6 + i: the ports' COPY takes lines 1-4, the prices' COPY line 5.
std::int64_t line_of_price(int i) {
  return 6 + i;
}

std::vector<RateDay> answers(Database& db) {
  return db.rates({day("2024-01-01"), day("2024-04-09"), "east", "west", 1, 0});
}

std::int64_t count_of(Database& db) {
  std::int64_t total = 0;
  for (const RateDay& d : answers(db)) total += d.count;
  return total;
}

ImportSummary import(Database& db, const std::string& dump, bool replace = false) {
  std::istringstream in(dump);
  return db.import_dump(in, replace);
}

}  // namespace

TEST_CASE("a dump streams into the store in its own order, a DELETE taking back what preceded it",
          "[conformance][load]") {
  auto db = Database::open(test::new_store_url(), OpenMode::create);
  std::string dump = good_dump();
  SECTION("pg_dump's order: ports, prices, regions") {}
  SECTION("prices first, their ports last") {
    dump = prices_copy(as_is) + regions_copy() + ports_copy();
  }
  const ImportSummary summary = import(db, dump);
  CHECK(summary.regions == 3);
  CHECK(summary.ports == 2);
  const bool deleted = dump.find("DELETE") != std::string::npos;
  const std::int64_t expected = deleted ? dump_prices - dump_prices / dump_days + 1 : dump_prices;
  CHECK(summary.prices == expected);
  CHECK(count_of(db) == expected);
  const auto days = answers(db);
  REQUIRE(days.size() == std::size_t(dump_days));
  CHECK(days[2].count == dump_prices / dump_days);
  if (deleted) {
    CHECK(days[1].count == 1);
    CHECK(days[1].min == 777);
  }
  // The same file read whole and loaded as a data set answers the same.
  std::istringstream in(dump);
  auto whole = Database::open(test::new_store_url(), OpenMode::create);
  whole.load(read_dump(in));
  CHECK(answers(whole) == days);
}

TEST_CASE("a bad row after chunks were written leaves the store as it was", "[conformance][load]") {
  auto db = Database::open(test::new_store_url(), OpenMode::create);
  const std::int64_t before = import(db, good_dump()).prices;
  constexpr int bad = 40'000;  // two chunks and more before it
  SECTION("a price that is not positive, and a port no row defines") {
    const std::string dump = ports_copy() + prices_copy([](int i, std::string line) {
                               if (i == bad) return std::string("AAAAA\tBBBBB\t2024-01-01\t0\n");
                               if (i == bad + 1 || i == bad + 2)
                                 return std::string("AAAAA\tZZZZZ\t2024-01-01\t5\n");
                               return line;
                             }) +
                             regions_copy();
    try {
      import(db, dump, true);
      FAIL("a dump with bad rows loaded");
    } catch (const ValidationFailed& e) {
      REQUIRE(e.errors().size() == 2);
      CHECK(e.errors()[0] == RowError{line_of_price(bad), "price", "price 0 is not positive"});
      CHECK(e.errors()[1] == RowError{line_of_price(bad + 1), "dest_code",
                                      "price on unknown port 'ZZZZZ' (2 rows)"});
    }
  }
  SECTION("a row the reader cannot read") {
    const std::string dump = ports_copy() + prices_copy([](int i, std::string line) {
                               return i == bad ? std::string("AAAAA\tBBBBB\t2024-01-01\n") : line;
                             }) +
                             regions_copy();
    CHECK_THROWS_WITH(import(db, dump, true),
                      fmt::format("dump line {}: 3 fields for 4 columns", line_of_price(bad)));
  }
  SECTION("a region tree that does not hold") {
    const std::string dump =
        ports_copy("CCCCC\tC\tnowhere\n") + prices_copy(as_is) + regions_copy();
    CHECK_THROWS_AS(import(db, dump, true), ValidationFailed);
  }
  CHECK(count_of(db) == before);
  CHECK(db.resolve("east") == std::vector<std::string>{"AAAAA"});
}

TEST_CASE("a bad dump into a new store leaves it empty", "[conformance][load]") {
  auto db = Database::open(test::new_store_url(), OpenMode::create);
  const std::string dump =
      ports_copy() + prices_copy([](int i, std::string line) {
        return i == dump_prices - 1 ? std::string("AAAAA\tBBBBB\t2024-01-01\t-1\n") : line;
      }) +
      regions_copy();
  CHECK_THROWS_AS(import(db, dump), ValidationFailed);
  CHECK(db.store().empty());
  CHECK(import(db, good_dump()).prices == dump_prices - dump_prices / dump_days + 1);
}

TEST_CASE("a load hands the store its prices a chunk at a time, whatever their number",
          "[conformance][load]") {
  const std::string url = test::new_store_url();
  Database::open(url, OpenMode::create);
  auto store = std::make_unique<test::HookedStore>(open_store(url, OpenMode::existing));
  auto& chunks = store->price_chunks;
  Database db(std::move(store));
  import(db, good_dump());
  REQUIRE(chunks.size() >= 4);
  CHECK(*std::max_element(chunks.begin(), chunks.end()) <= 16'384);
  // The prices before the DELETE, handed over before it ran, and the one after it.
  CHECK(std::accumulate(chunks.begin(), chunks.end(), std::size_t{0}) == dump_prices + 1);
}

TEST_CASE("what a load holds while prices stream past is bounded", "[conformance][load]") {
  auto db = Database::open(test::new_store_url(), OpenMode::create);
  Dataset data;
  SECTION("ports and regions") {
    data.regions.push_back({"world", "World", std::nullopt});
    for (std::int64_t i = 0; i < max_geography_rows; ++i) {
      data.ports.push_back({fmt::format("P{:07}", i), "Port", "world"});
    }
    CHECK_THROWS_WITH(db.load(data), fmt::format("the data holds more than {} ports and "
                                                 "regions; nothing was loaded",
                                                 max_geography_rows));
  }
  SECTION("port codes prices name before any port row has them") {
    for (std::int64_t i = 0; i <= max_geography_rows / 2; ++i) {
      data.prices.push_back(
          {fmt::format("O{:07}", i), fmt::format("D{:07}", i), day("2024-01-01"), 100});
    }
    CHECK_THROWS_WITH(db.load(data), Catch::StartsWith(fmt::format(
                                         "the prices name more than {} port codes that no port "
                                         "row (so far) has",
                                         max_geography_rows)));
  }
  CHECK(db.store().empty());
}
