// SPDX-License-Identifier: MIT
// PostgreSQL only: what happens when the server drops prkl's connection.

#include <fmt/format.h>
#include <libpq-fe.h>

#include <catch2/catch.hpp>
#include <prkl/prkl.hpp>

#include "context.hpp"

using namespace prkl;

namespace {

// Ends every other session on the store's database and waits until it is gone, as a failover
// or an admin would; exactly one must have been ended. A session closed just before may still be
// listed while its process exits: it is not one (pg_terminate_backend says false, with a warning).
void terminate_sessions(const std::string& url) {
  PGconn* admin = PQconnectdb(url.c_str());
  REQUIRE(PQstatus(admin) == CONNECTION_OK);
  PGresult* r = PQexec(admin,
                       "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 60000)) "
                       "FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()");
  const bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && std::string(PQgetvalue(r, 0, 0)) == "1";
  PQclear(r);
  PQfinish(admin);
  REQUIRE(ok);
}

Dataset two_ports() {
  Dataset d;
  d.regions = {{"r", "R", std::nullopt}};
  d.ports = {{"AAAAA", "A", "r"}, {"BBBBB", "B", "r"}};
  d.prices = {{"AAAAA", "BBBBB", parse_date("2024-01-01"), 10}};
  return d;
}

}  // namespace

TEST_CASE("a read is retried once on a fresh connection", "[postgresql]") {
  const std::string url = test::new_store_url();
  Database db = Database::open(url, OpenMode::create);
  db.load(two_ports());
  const RatesQuery query{parse_date("2024-01-01"), parse_date("2024-01-01"), "r", "r", 1, 0};
  CHECK(db.rates(query).at(0).count == 1);
  const double reconnects = test::metric("prkl_store_reconnects_total");
  terminate_sessions(url);
  CHECK(db.rates(query).at(0).count == 1);
  CHECK(test::metric("prkl_store_reconnects_total") - reconnects == 1);
  terminate_sessions(url);
  // apply looks the id up first (a read, retried), so the write starts on a live connection.
  CHECK(db.apply({"after-failover",
                  {BatchRow::single("AAAAA", "BBBBB", parse_date("2024-01-01"), 20)}})
            .prices == 1);
  CHECK(db.rates(query).at(0).count == 2);
}

TEST_CASE(
    "a write that loses its connection before COMMIT is ConnectionLost, and asking again works",
    "[postgresql]") {
  const std::string url = test::new_store_url();
  Database db = Database::open(url, OpenMode::create);
  db.load(two_ports());
  std::vector<BatchRow> rows;
  for (int i = 0; i < 100'000; ++i) {
    rows.push_back(BatchRow::single("AAAAA", "BBBBB", parse_date("2024-02-01"), 1 + i % 100));
  }
  bool terminated = false;
  CHECK_THROWS_AS(db.apply({"lost", rows},
                           [&](std::int64_t done, std::int64_t) {
                             if (done >= 20'000 && !terminated) {
                               terminated = true;
                               terminate_sessions(url);
                             }
                           }),
                  ConnectionLost);
  CHECK(terminated);
  // A write that reads nothing first finds the connection back too.
  CHECK(db.save_exchange_rates(std::vector<ExchangeRate>{{"EUR", parse_date("2024-02-01"), 1}}) ==
        1);
  const BatchResult retried = db.apply({"lost", rows});
  CHECK_FALSE(retried.replayed);
  CHECK(
      db.rates({parse_date("2024-02-01"), parse_date("2024-02-01"), "r", "r", 1, 0}).at(0).count ==
      100'000);
}

TEST_CASE("a pool lends a working Database after the server dropped its idle connections",
          "[postgresql]") {
  const std::string url = test::new_store_url();
  Database::open(url, OpenMode::create).load(two_ports());
  PoolOptions options;
  options.check_after_idle = std::chrono::milliseconds{0};  // check (and so revive) every borrow
  Pool pool(url, options);
  { auto warm = pool.borrow(); }
  terminate_sessions(url);  // as a failover or an idle timeout on the way would
  auto db = pool.borrow();
  CHECK(db->port("AAAAA").name == "A");
  CHECK(pool.size() == 1);
}
