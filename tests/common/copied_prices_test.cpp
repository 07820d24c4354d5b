// SPDX-License-Identifier: MIT
// The in-memory copy's prices on every backend: once a lane's prices are kept, questions that
// need prices are answered from them, and every write, by prkl or by other SQL, to prices,
// their dimensions or contracts, reaches those answers; a copy without room answers from the
// store. The store's own answers (checked against PostgreSQL's aggregates elsewhere) are the
// oracle.

#include <catch2/catch.hpp>
#include <prkl/prkl.hpp>

#include "context.hpp"
#include "hooked_store.hpp"
#include "reference.hpp"

using namespace prkl;

namespace {

Date day(std::string_view text) {
  return parse_date(text);
}

// china > CNSHA, CNNGB; north_europe > NOOSL, NLRTM; prices on every lane over ten days, with
// every mix of dimensions.
Dataset small_market() {
  Dataset d;
  d.regions = {{"world", "World", std::nullopt},
               {"china", "China", "world"},
               {"north_europe", "North Europe", "world"}};
  d.ports = {{"CNSHA", "Shanghai", "china"},
             {"CNNGB", "Ningbo", "china"},
             {"NOOSL", "Oslo", "north_europe"},
             {"NLRTM", "Rotterdam", "north_europe"}};
  const char* equipment[] = {"", "40HC", "20DC"};
  int n = 0;
  for (const char* origin : {"CNSHA", "CNNGB"}) {
    for (const char* destination : {"NOOSL", "NLRTM"}) {
      for (int i = 0; i < 10; ++i) {
        for (int k = 0; k < 4; ++k, ++n) {
          Price p{origin, destination, day("2024-03-01") + std::chrono::days{i}, 100 + n * 7 % 900};
          p.equipment = equipment[n % 3];
          if (n % 4 != 3) p.term = n % 2 == 0 ? Term::short_term : Term::long_term;
          if (n % 5 != 4) p.received = p.day - std::chrono::days{n % 40};
          d.prices.push_back(p);
        }
      }
    }
  }
  return d;
}

const std::vector<PriceFilter> filters = {
    {}, {{"40HC"}, {}, {}}, {{}, Term::short_term, 20}, {{"20DC", "40HC"}, Term::long_term, {}}};

// Every question this file asks, as text rows: the band, rates with a median and rank, under
// each filter, for a region and a lane.
test::TextRows answers(Database& db) {
  test::TextRows all;
  const Date from = day("2024-02-25"), to = day("2024-03-12");
  for (const PriceFilter& filter : filters) {
    for (const auto& [origin, destination] :
         {std::pair<std::string, std::string>{"china", "north_europe"}, {"CNSHA", "NOOSL"}}) {
      MarketQuery m{from, to, origin, destination, 1, 3};
      m.filter = filter;
      RatesQuery r{from, to, origin, destination, 1, 3, Bucket::day, {50, 97.5}};
      r.filter = filter;
      RankQuery k{from, to, origin, destination, parse_decimal("450")};
      k.filter = filter;
      for (const test::TextRows& rows :
           {test::band_rows(db, m), test::rate_rows(db, r), test::rank_rows(db, k)}) {
        all.insert(all.end(), rows.begin(), rows.end());
        all.push_back({"--"});
      }
    }
  }
  return all;
}

Options from_store() {
  Options options;
  options.max_copied_prices = 0;
  return options;
}

}  // namespace

TEST_CASE("the copy's prices answer as the store does, and follow every write",
          "[conformance][copy]") {
  const std::string url = test::new_store_url();
  Database::open(url, OpenMode::create).load(small_market());
  Database db = Database::open(url);
  Database store = Database::open(url, OpenMode::existing, from_store());
  const auto same = [&](const char* after) {
    INFO("after " << after);
    const test::TextRows expected = answers(store);
    CHECK(answers(db) == expected);
    CHECK(db.cache_stats().prices > 0);
  };
  same("the load");
  test::run_sql(url,
                "INSERT INTO prices (orig_code, dest_code, day, price, equipment, term, received) "
                "VALUES ('CNSHA', 'NOOSL', '2024-03-03', 450, '40HC', 'short', '2024-02-28')");
  same("another client's insert");
  // Only a dimension changes: the lane's aggregates stay as they were.
  test::run_sql(url, "UPDATE prices SET equipment = '40HC' WHERE equipment = '20DC'");
  same("an update of equipment alone");
  test::run_sql(url, "UPDATE prices SET received = NULL WHERE term = 'short'");
  same("an update of received alone");
  test::run_sql(url, "UPDATE prices SET term = 'long' WHERE term IS NULL");
  same("an update of term alone");
  test::run_sql(url, "DELETE FROM prices WHERE price < 300");
  same("a delete");
  // What other SQL may store that prkl would not: the copy reads it as the store's SQL does.
  test::run_sql(url, "UPDATE prices SET term = 'LONG' WHERE price % 3 = 0");
  same("a term prkl does not know");
  if (test::backend_name() == "sqlite") {
    test::run_sql(url, "UPDATE prices SET received = '2024-02-31' WHERE price % 3 = 1");
    same("a received day past its month's end");
  }
  Database writer = Database::open(url);
  BatchRow contract;
  contract.origin = "CNNGB";
  contract.destination = "NLRTM";
  contract.valid_from = "2024-03-01";
  contract.valid_to = "2024-03-20";
  contract.price = "650";
  contract.equipment = "40HC";
  writer.apply({"more", {BatchRow::single("CNNGB", "NOOSL", day("2024-03-05"), 333), contract}});
  same("a batch with a contract");
  test::run_sql(url, "UPDATE prkl_contracts SET term = 'short', received = '2024-02-01'");
  same("an update of a contract's dimensions");
  test::run_sql(url, "DELETE FROM prkl_contracts");
  same("a contract's delete");
  Dataset replaced = small_market();
  for (Price& p : replaced.prices) p.price += 1;
  writer.load(replaced, true);
  same("a load over the data");
}

TEST_CASE("a question over lanes the copy keeps reads nothing from the store",
          "[conformance][copy]") {
  const std::string url = test::new_store_url();
  Database::open(url, OpenMode::create).load(small_market());
  auto owned = std::make_unique<test::HookedStore>(open_store(url, OpenMode::existing));
  test::HookedStore& hooked = *owned;
  Database db(std::move(owned));
  const MarketQuery question{day("2024-03-01"), day("2024-03-10"), "china", "north_europe", 1, 3};
  const MarketAnswer first = db.market(question);
  CHECK(hooked.calls["read_lanes"] == 1);  // the four lanes, in one read
  hooked.calls.clear();
  CHECK(db.market(question) == first);
  RankQuery rank{day("2024-03-02"), day("2024-03-04"), "CNSHA", "world", parse_decimal("400")};
  rank.filter = {{"40HC"}, {}, {}};
  db.rank(rank);
  CHECK(hooked.calls["read_lanes"] == 0);
  CHECK(hooked.calls["read_prices"] == 0);
  const CacheStats stats = db.cache_stats();
  CHECK(stats.prices == 160);
  CHECK(stats.price_bytes >= 160 * 16);
}

TEST_CASE("a copy without room for a question's lanes answers from the store",
          "[conformance][copy]") {
  const std::string url = test::new_store_url();
  Database::open(url, OpenMode::create).load(small_market());
  Database store = Database::open(url, OpenMode::existing, from_store());
  // Room for one lane's 40 prices, not for a region's four lanes.
  Options small;
  small.max_copied_prices = 50;
  Database db = Database::open(url, OpenMode::existing, small);
  CHECK(answers(db) == answers(store));
  CHECK(db.cache_stats().prices <= 50);
  CHECK(db.cache_stats().prices > 0);
  small.max_copied_prices = -1;
  CHECK_THROWS_WITH(Database::open(url, OpenMode::existing, small),
                    Catch::Contains("max_copied_prices is -1"));
}
