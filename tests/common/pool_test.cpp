// SPDX-License-Identifier: MIT
// prkl::Pool on every backend: one thread per Database at a time, waiting with a bound, closing.

#include <atomic>
#include <catch2/catch.hpp>
#include <prkl/prkl.hpp>
#include <thread>
#include <vector>

#include "context.hpp"

using namespace prkl;

namespace {

Dataset small_world() {
  Dataset d;
  d.regions = {{"r", "R", std::nullopt}};
  d.ports = {{"AAAAA", "A", "r"}, {"BBBBB", "B", "r"}};
  d.prices = {{"AAAAA", "BBBBB", parse_date("2024-01-01"), 10},
              {"AAAAA", "BBBBB", parse_date("2024-01-01"), 20}};
  return d;
}

std::string loaded_store() {
  const std::string url = test::new_store_url();
  Database::open(url, OpenMode::create).load(small_world());
  return url;
}

}  // namespace

TEST_CASE("a pool lends each Database to one thread at a time") {
  PoolOptions options;
  options.max_size = 3;
  Pool pool(loaded_store(), options);
  const RatesQuery query{parse_date("2024-01-01"), parse_date("2024-01-01"), "r", "r", 1, 0};
  std::atomic<int> lent = 0, most_lent = 0, wrong = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        auto db = pool.borrow();
        const int now = ++lent;
        for (int seen = most_lent; now > seen && !most_lent.compare_exchange_weak(seen, now);) {
        }
        if (db->rates(query).at(0).count != 2) ++wrong;
        --lent;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(wrong == 0);
  CHECK(most_lent <= 3);
  CHECK(pool.size() <= 3);
}

TEST_CASE("borrowing from a pool whose Databases are all lent gives up after borrow_timeout") {
  PoolOptions options;
  options.max_size = 1;
  options.borrow_timeout = std::chrono::milliseconds{50};
  Pool pool(loaded_store(), options);
  {
    auto held = pool.borrow();
    std::thread other([&] {
      try {
        (void)pool.borrow();
        FAIL("a second borrow from a pool of one succeeded while the first was held");
      } catch (const StorageError& e) {
        CHECK(e.kind() == StorageError::Kind::other);
        CHECK_THAT(e.what(), Catch::Contains("all 1 of the pool's are in use"));
      }
    });
    other.join();
  }
  CHECK(pool.borrow()->port("AAAAA").name == "A");  // given back, lent again
}

TEST_CASE("a closed pool lends nothing and closes lent Databases as they come back") {
  Pool pool(loaded_store());
  auto held = pool.borrow();
  auto second = pool.borrow();
  { auto returned = std::move(second); }
  CHECK(pool.size() == 2);
  pool.close();
  CHECK(pool.closed());
  CHECK(pool.size() == 1);  // the idle one closed at once
  CHECK_THROWS_AS(pool.borrow(), Error);
  CHECK(held->port("AAAAA").name == "A");  // a lent one works until it comes back
  { auto returned = std::move(held); }
  CHECK(pool.size() == 0);
  pool.close();  // again: nothing happens
}

TEST_CASE("a discarded lease is closed, not lent again") {
  Pool pool(loaded_store());
  {
    auto db = pool.borrow();
    db.discard();
  }
  CHECK(pool.size() == 0);
  CHECK(pool.borrow()->port("BBBBB").name == "B");
  CHECK(pool.size() == 1);
}

TEST_CASE("a pool refuses a size of 0 and a store it cannot open") {
  PoolOptions options;
  options.max_size = 0;
  CHECK_THROWS_AS(Pool(loaded_store(), options), InvalidArgument);
  CHECK_THROWS_AS(Pool(test::new_store_url()), Error);  // no store there yet: nothing created
}
