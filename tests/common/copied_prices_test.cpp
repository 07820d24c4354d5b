// SPDX-License-Identifier: MIT
// The in-memory copy's prices on every backend: once a lane's prices are kept, questions that
// need prices are answered from them, and every write, by prkl or by other SQL, to prices,
// their dimensions or contracts, reaches those answers; a copy without room answers from the
// store. The store's own answers (checked against PostgreSQL's aggregates elsewhere) are the
// oracle.

#include <fmt/format.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <prkl/prkl.hpp>
#include <thread>
#include <vector>

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

TEST_CASE("readers of the copy's prices under a writer see whole batches, in order",
          "[conformance][copy]") {
  const std::string url = test::new_store_url();
  Database::open(url, OpenMode::create).load(small_market());
  const Date day_of_batches = day("2024-03-05");
  MarketQuery lane{day_of_batches, day_of_batches, "CNSHA", "NOOSL", 1, 0};
  lane.filter = {{"40HC"}, {}, {}};
  const MarketQuery region{day_of_batches, day_of_batches, "china", "north_europe", 1, 0};
  const auto count = [](const MarketAnswer& answer) {
    return answer.days.empty() ? std::int64_t{0} : answer.days.front().count;
  };
  Database setup = Database::open(url);
  const std::int64_t lane_before = count(setup.market(lane));
  const std::int64_t region_before = count(setup.market(region));

  // Each batch: two 40HC prices on the lane and two others elsewhere in the region.
  constexpr int batches = 100;
  std::atomic<bool> done = false;
  std::atomic<int> wrong = 0, asked = 0;
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      Database db = Database::open(url);
      std::int64_t last_lane = 0, last_region = 0;
      while (!done) {
        const std::int64_t in_lane = count(db.market(lane)) - lane_before;
        const std::int64_t in_region = count(db.market(region)) - region_before;
        // Whole batches only, never fewer than seen before (the region is asked after the
        // lane, so it holds at least as many batches).
        if (in_lane % 2 != 0 || in_region % 4 != 0 || in_lane < last_lane ||
            in_region < last_region || in_region / 4 < in_lane / 2) {
          ++wrong;
        }
        last_lane = in_lane;
        last_region = in_region;
        ++asked;
      }
    });
  }
  Database writer = Database::open(url);
  for (int b = 0; b < batches; ++b) {
    std::vector<BatchRow> rows;
    for (int k = 0; k < 2; ++k) {
      BatchRow on_lane = BatchRow::single("CNSHA", "NOOSL", day_of_batches, 500 + b * 10 + k);
      on_lane.equipment = "40HC";
      rows.push_back(on_lane);
      rows.push_back(BatchRow::single("CNNGB", "NLRTM", day_of_batches, 700 + b * 10 + k));
    }
    writer.apply({fmt::format("batch-{}", b), rows});
  }
  done = true;
  for (std::thread& t : readers) t.join();
  CHECK(wrong == 0);
  CHECK(asked > 0);
  Database store = Database::open(url, OpenMode::existing, from_store());
  CHECK(count(setup.market(lane)) == lane_before + 2 * batches);
  CHECK(answers(setup) == answers(store));
}
