// SPDX-License-Identifier: MIT
// PostgreSQL only: which StorageError kind and SQLSTATE a failure carries, provoked for real on
// the test server by a plain SQL client, as a database's owner or an administrator would.

#include <fmt/format.h>
#include <libpq-fe.h>

#include <catch2/catch.hpp>
#include <future>
#include <memory>
#include <prkl/prkl.hpp>
#include <thread>

#include "context.hpp"

using namespace prkl;
using namespace std::chrono_literals;

namespace {

Date day(std::string_view text) {
  return parse_date(text);
}

Dataset two_ports() {
  Dataset d;
  d.regions = {{"r", "R", std::nullopt}};
  d.ports = {{"AAAAA", "A", "r"}, {"BBBBB", "B", "r"}};
  d.prices = {{"AAAAA", "BBBBB", day("2024-01-01"), 10}};
  return d;
}

const RatesQuery january_first{day("2024-01-01"), day("2024-01-01"), "r", "r", 1, 0};

// The store's database: test URLs end in its name.
std::string database_name(const std::string& url) {
  return url.substr(url.rfind("dbname=") + 7);
}

// The same server, another database: for what cannot be done from inside the store's own.
std::string maintenance_url(const std::string& url) {
  return url + " dbname=postgres";
}

// A plain libpq session of its own, for what must stay open across calls (a lock held).
class Session {
 public:
  explicit Session(const std::string& url) : conn_(PQconnectdb(url.c_str()), PQfinish) {
    REQUIRE(PQstatus(conn_.get()) == CONNECTION_OK);
  }
  // The first column of the first row, or "" when there is none.
  std::string value(const std::string& sql) {
    const std::unique_ptr<PGresult, void (*)(PGresult*)> r(PQexec(conn_.get(), sql.c_str()),
                                                           PQclear);
    const auto status = PQresultStatus(r.get());
    INFO(sql << ": " << PQresultErrorMessage(r.get()));
    REQUIRE((status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK));
    return PQntuples(r.get()) > 0 ? PQgetvalue(r.get(), 0, 0) : "";
  }

 private:
  std::unique_ptr<PGconn, void (*)(PGconn*)> conn_;
};

// Ends every session on the store's database and waits until they are gone, as a failover or
// an administrator would.
void terminate_sessions(const std::string& url) {
  CHECK(test::run_sql(maintenance_url(url),
                      fmt::format("SELECT bool_and(pg_terminate_backend(pid, 60000)) "
                                  "FROM pg_stat_activity WHERE datname = '{}'",
                                  database_name(url)))
            .at(0)
            .at(0) == "t");
}

}  // namespace

TEST_CASE("an SQL error is a StorageError of no special kind carrying its SQLSTATE",
          "[postgresql][errors]") {
  const std::string url = test::new_store_url();
  Database db = Database::open(url, OpenMode::create);
  db.load(two_ports());

  SECTION("a unique index the owner added refuses a batch in the middle of its COPY") {
    test::run_sql(url, "CREATE UNIQUE INDEX one_price_a_day ON prices (orig_code, dest_code, day)");
    try {
      db.apply({"twice", {BatchRow::single("AAAAA", "BBBBB", day("2024-01-01"), 20)}});
      FAIL("the batch was applied");
    } catch (const StorageError& e) {
      CHECK(e.kind() == StorageError::Kind::other);
      CHECK(e.code() == "23505");
    }
    CHECK_FALSE(db.batch("twice"));
    CHECK(db.rates(january_first).at(0).count == 1);
  }

  SECTION("a role without privileges is refused a read") {
    const std::string role = database_name(url) + "_reader";
    test::run_sql(url, fmt::format("CREATE ROLE {} LOGIN", role));
    {
      Database reader = Database::open(fmt::format("{} user={}", url, role));
      try {
        reader.rates(january_first);
        FAIL("the role read the prices");
      } catch (const StorageError& e) {
        CHECK(e.kind() == StorageError::Kind::other);
        CHECK(e.code() == "42501");
      }
    }
    test::run_sql(url, fmt::format("DROP ROLE {}", role));
  }
}

TEST_CASE("a read whose connection cannot be got back is ConnectionLost, and works once it can",
          "[postgresql][errors]") {
  const std::string url = test::new_store_url();
  Database db = Database::open(url, OpenMode::create);
  db.load(two_ports());
  CHECK(db.rates(january_first).at(0).count == 1);

  const std::string name = database_name(url);
  test::run_sql(maintenance_url(url),
                fmt::format("ALTER DATABASE {} ALLOW_CONNECTIONS false", name));
  terminate_sessions(url);
  try {
    db.rates({day("2024-01-01"), day("2024-01-02"), "r", "r", 1, 0});
    FAIL("the read was answered without a server");
  } catch (const StorageError& e) {
    CHECK(e.kind() == StorageError::Kind::connection_lost);
  }
  CHECK_THROWS_AS(db.rates(january_first), ConnectionLost);

  test::run_sql(maintenance_url(url),
                fmt::format("ALTER DATABASE {} ALLOW_CONNECTIONS true", name));
  CHECK(db.rates(january_first).at(0).count == 1);
}

TEST_CASE("a write whose connection is lost while it commits is InDoubt, and its retry lands once",
          "[postgresql][errors]") {
  const std::string url = test::new_store_url();
  Database db = Database::open(url, OpenMode::create);
  db.load(two_ports());
  // A deferred trigger makes the COMMIT wait for a lock held here, so the connection is cut
  // while the COMMIT is in flight: never before it was sent, never after its answer came.
  test::run_sql(url,
                "CREATE FUNCTION hold_commit() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                "BEGIN PERFORM pg_advisory_xact_lock(7, 7); RETURN NULL; END $$;\n"
                "CREATE CONSTRAINT TRIGGER hold_commit AFTER INSERT ON prkl_batches\n"
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION hold_commit()");
  Session holder(url);
  holder.value("SELECT pg_advisory_lock(7, 7)");
  const Batch batch{"held", {BatchRow::single("AAAAA", "BBBBB", day("2024-01-01"), 20)}};
  auto applying = std::async(std::launch::async, [&] { return db.apply(batch); });
  std::string pid;
  while (applying.wait_for(0s) != std::future_status::ready) {
    pid = holder.value(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND query = 'COMMIT' AND wait_event_type = 'Lock' AND wait_event = 'advisory'");
    if (!pid.empty()) break;
    std::this_thread::sleep_for(10ms);
  }
  REQUIRE_FALSE(pid.empty());
  CHECK(holder.value(fmt::format("SELECT pg_terminate_backend({}, 60000)", pid)) == "t");
  try {
    applying.get();
    FAIL("the batch was applied");
  } catch (const StorageError& e) {
    CHECK(e.kind() == StorageError::Kind::in_doubt);
  }
  holder.value("SELECT pg_advisory_unlock(7, 7)");
  test::run_sql(url, "DROP TRIGGER hold_commit ON prkl_batches");

  // This COMMIT never completed, so the retry is the one that lands.
  const BatchResult retried = db.apply(batch);
  CHECK_FALSE(retried.replayed);
  CHECK(db.apply(batch).replayed);
  CHECK(db.rates(january_first).at(0).count == 2);
}
