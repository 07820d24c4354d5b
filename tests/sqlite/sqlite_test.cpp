// SPDX-License-Identifier: MIT
// What only the SQLite backend has: a file that may be something else, a directory that may be
// read-only, a file that may not grow, and writers of other processes waiting on one lock.

#include <fmt/format.h>
#include <grp.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <fstream>
#include <latch>
#include <prkl/prkl.hpp>
#include <sstream>
#include <thread>

#include "context.hpp"
#include "hooked_store.hpp"

using namespace prkl;
using namespace std::chrono_literals;

namespace {

Date day(std::string_view text) {
  return parse_date(text);
}

Dataset two_ports() {
  Dataset d;
  d.regions = {{"world", "World", std::nullopt}};
  d.ports = {{"CNSHA", "Shanghai", "world"}, {"NOOSL", "Oslo", "world"}};
  d.prices = {{"CNSHA", "NOOSL", day("2024-03-01"), 1000}};
  return d;
}

std::vector<BatchRow> rows_for(int count, std::string_view first_day) {
  std::vector<BatchRow> rows;
  for (int i = 0; i < count; ++i) {
    rows.push_back(BatchRow::single("CNSHA", "NOOSL", day(first_day) + std::chrono::days{i % 28},
                                    100 + i % 900));
  }
  return rows;
}

std::int64_t total_count(Database& db, std::string_view from, std::string_view to) {
  std::int64_t total = 0;
  for (const auto& d : db.rates({day(from), day(to), "CNSHA", "NOOSL", 1, 0})) total += d.count;
  return total;
}

std::string path_of(const std::string& url) {
  return url.substr(url.find(':') + 1);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The journal mode a SQLite file records in its header: 1 rollback journal, 2 WAL.
int header_journal_version(const std::string& path) {
  const std::string bytes = read_file(path);
  REQUIRE(bytes.size() >= 100);
  return bytes[18];
}

// Makes a SQLite file as another application would.
void make_sqlite_file(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  INFO(sqlite3_errmsg(db));
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

std::string error_of(const auto& work) {
  try {
    work();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

// A directory of the test's own, which the test may make read-only.
struct OwnDir {
  std::string path;
  OwnDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "prkl-sqlite-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()));
    path = pattern;
    // Others may enter it: the read-only checks run as nobody when the tests run as root.
    REQUIRE(chmod(path.c_str(), 0755) == 0);
  }
  ~OwnDir() {
    std::error_code ignored;
    chmod(path.c_str(), 0755);
    std::filesystem::remove_all(path, ignored);
  }
};

}  // namespace

TEST_CASE("a file that is not a SQLite database is refused naming it, and left alone", "[sqlite]") {
  const std::string path = path_of(test::new_store_url());
  const std::string text = "regions,ports\nthis is a text file, not a database\n";
  std::ofstream(path, std::ios::binary) << text;
  for (const OpenMode mode : {OpenMode::existing, OpenMode::create}) {
    try {
      Database::open("sqlite:" + path, mode);
      FAIL("opened a text file");
    } catch (const InvalidArgument& e) {
      CHECK_THAT(e.what(), Catch::Contains(path) && Catch::Contains("not a SQLite database"));
    }
  }
  CHECK(read_file(path) == text);
}

TEST_CASE("reading a store changes nothing in it", "[sqlite]") {
  const std::string url = test::new_store_url();
  const std::string path = path_of(url);

  SECTION("a store kept in rollback-journal mode stays in it") {
    Database::open(url, OpenMode::create).load(two_ports());
    test::run_sql(url, "PRAGMA journal_mode = DELETE");
    REQUIRE(header_journal_version(path) == 1);
    {
      Database db = Database::open(url, OpenMode::existing);
      CHECK(total_count(db, "2024-03-01", "2024-03-31") == 1);
    }
    CHECK(header_journal_version(path) == 1);
    // Initialising is prkl's to do: it puts its own store back in WAL mode.
    Database::open(url, OpenMode::existing).init();
    CHECK(header_journal_version(path) == 2);
  }
  SECTION("another application's database is refused, not switched to WAL") {
    make_sqlite_file(path, "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)");
    const std::string before = read_file(path);
    const std::string error = error_of([&] { Database::open(url, OpenMode::existing); });
    CHECK_THAT(error, Catch::Contains(path) && Catch::Contains("users"));
    CHECK(read_file(path) == before);
    CHECK(header_journal_version(path) == 1);
  }
}

TEST_CASE("creating a store refuses a SQLite file whose tables are not prkl's", "[sqlite]") {
  const std::string url = test::new_store_url();
  const std::string path = path_of(url);

  SECTION("another application's tables") {
    make_sqlite_file(path, "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)");
    const std::string before = read_file(path);
    try {
      Database::open(url, OpenMode::create);
      FAIL("adopted another application's database");
    } catch (const InvalidArgument& e) {
      CHECK_THAT(e.what(), Catch::Contains(path) && Catch::Contains("users"));
    }
    CHECK(read_file(path) == before);
  }
  SECTION("a table of prkl's name without prkl's columns") {
    make_sqlite_file(path, "CREATE TABLE prices (lane TEXT, amount REAL)");
    const std::string before = read_file(path);
    try {
      Database::open(url, OpenMode::create);
      FAIL("adopted a prices table without prkl's columns");
    } catch (const StorageError& e) {
      CHECK_THAT(e.what(), Catch::Contains(path) && Catch::Contains("prices") &&
                               Catch::Contains("orig_code, dest_code, day, price"));
    }
    CHECK(read_file(path) == before);
  }
  SECTION("the ratestask tables, made by hand, are adopted") {
    make_sqlite_file(
        path,
        "CREATE TABLE regions (slug TEXT PRIMARY KEY, name TEXT, parent_slug TEXT);"
        "CREATE TABLE ports (code TEXT PRIMARY KEY, name TEXT, parent_slug TEXT);"
        "CREATE TABLE prices (orig_code TEXT, dest_code TEXT, day TEXT, price INTEGER);"
        "INSERT INTO regions VALUES ('world', 'World', NULL);"
        "INSERT INTO ports VALUES ('CNSHA', 'Shanghai', 'world'),"
        " ('NOOSL', 'Oslo', 'world');"
        "INSERT INTO prices VALUES ('CNSHA', 'NOOSL', '2024-03-01', 1000);");
    Database db = Database::open(url, OpenMode::create);
    CHECK(total_count(db, "2024-03-01", "2024-03-31") == 1);
    CHECK(header_journal_version(path) == 2);
  }
}

namespace {

// SQLite's page limit is a setting of each connection, not of the file, so the test sets it on
// every connection this process opens (prkl's among them) while it is registered.
std::atomic<int> page_limit{0};

int limit_pages(sqlite3* db, char**, const sqlite3_api_routines*) {
  sqlite3_exec(db, fmt::format("PRAGMA max_page_count = {}", page_limit.load()).c_str(), nullptr,
               nullptr, nullptr);
  return SQLITE_OK;
}

void (*const limit_pages_entry)() = reinterpret_cast<void (*)()>(&limit_pages);

}  // namespace

TEST_CASE("a store that cannot grow: the batch fails clearly, the data stays, a retry lands once",
          "[sqlite][full]") {
  const std::string url = test::new_store_url();
  const std::string path = path_of(url);
  {
    Database db = Database::open(url, OpenMode::create);
    db.load(two_ports());
    db.apply({"earlier", rows_for(10, "2024-04-01")});
  }
  const Batch big{"big", rows_for(20'000, "2025-01-01")};
  const int pages = std::stoi(*test::run_sql(url, "PRAGMA page_count").at(0).at(0));
  page_limit = pages + 2;
  REQUIRE(sqlite3_auto_extension(limit_pages_entry) == SQLITE_OK);
  {
    Database db = Database::open(url, OpenMode::existing);
    try {
      db.apply(big);
      FAIL("a batch outgrew the page limit");
    } catch (const StorageError& e) {
      CHECK_THAT(e.what(), Catch::Contains(path) && Catch::Contains("full"));
    }
    // The same connection still reads, and the store holds what it held.
    CHECK(total_count(db, "2024-04-01", "2024-04-30") == 10);
    CHECK(total_count(db, "2025-01-01", "2025-12-31") == 0);
    CHECK_FALSE(db.batch("big"));
  }
  REQUIRE(sqlite3_cancel_auto_extension(limit_pages_entry) == 1);
  CHECK(test::run_sql(url, "PRAGMA integrity_check").at(0).at(0) == "ok");

  // Room again: the retry lands, and once.
  Database db = Database::open(url, OpenMode::existing);
  CHECK_FALSE(db.apply(big).replayed);
  CHECK(db.apply(big).replayed);
  CHECK(total_count(db, "2025-01-01", "2025-12-31") == 20'000);
  CHECK(total_count(db, "2024-04-01", "2024-04-30") == 10);
}

namespace {

// Runs `work` in a child process without root's rights (as root, file modes stop nothing);
// returns its exit code, or 77 when the rights cannot be dropped.
template <typename Work>
int run_unprivileged(Work work) {
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (geteuid() == 0 && (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0))
      _exit(77);
    int code = 99;
    try {
      code = work();
    } catch (const std::exception& e) {
      fmt::print(stderr, "child: {}\n", e.what());
    }
    _exit(code);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

TEST_CASE("a read-only store: reads work, writes fail naming the store", "[sqlite][read-only]") {
  const OwnDir dir;
  const std::string path = dir.path + "/store.db";
  const std::string url = "sqlite:" + path;
  {
    Database db = Database::open(url, OpenMode::create);
    db.load(two_ports());
    db.apply({"earlier", rows_for(10, "2024-04-01")});
  }
  REQUIRE(chmod(path.c_str(), 0444) == 0);
  const bool directory_read_only = GENERATE(false, true);
  INFO((directory_read_only ? "file and directory read-only" : "file read-only"));
  REQUIRE(chmod(dir.path.c_str(), directory_read_only ? 0555 : 0777) == 0);

  const int code = run_unprivileged([&] {
    int failures = 0;
    const auto expect = [&](bool ok, std::string_view what) {
      if (!ok) {
        fmt::print(stderr, "child: {}\n", what);
        ++failures;
      }
    };
    const auto names_store = [&](const std::string& error) {
      expect(error.find(path) != std::string::npos && error.find("read-only") != std::string::npos,
             "error does not say the store is read-only: " + error);
    };
    Database db = Database::open(url, OpenMode::existing);
    expect(total_count(db, "2024-03-01", "2024-04-30") == 11, "rates read wrong");
    expect(db.port("NOOSL").name == "Oslo", "port read wrong");
    expect(db.batch("earlier").has_value(), "ledger read wrong");
    names_store(error_of([&] { db.apply({"later", rows_for(5, "2024-05-01")}); }));
    expect(total_count(db, "2024-03-01", "2024-05-31") == 11, "a refused write changed the reads");
    names_store(error_of([&] { Database::open(url, OpenMode::create); }));
    return failures;
  });
  if (code == 77) {
    WARN("cannot drop root's rights here: the read-only store is not checked");
    return;
  }
  CHECK(code == 0);
  REQUIRE(chmod(dir.path.c_str(), 0755) == 0);
  REQUIRE(chmod(path.c_str(), 0644) == 0);
  Database db = Database::open(url, OpenMode::existing);
  CHECK(total_count(db, "2024-03-01", "2024-05-31") == 11);
}

TEST_CASE("a store its owner may still write is not read behind the owner's back",
          "[sqlite][read-only]") {
  // The reader cannot make the -shm file a WAL store needs, and reading the file as immutable
  // would miss what its owner writes meanwhile: the read fails, naming the store.
  const OwnDir dir;
  const std::string path = dir.path + "/store.db";
  const std::string url = "sqlite:" + path;
  Database::open(url, OpenMode::create).load(two_ports());
  const int code = run_unprivileged([&] {
    if (geteuid() != 0 && access(dir.path.c_str(), W_OK) == 0) return 77;  // the owner itself
    const std::string error = error_of([&] { Database::open(url, OpenMode::existing); });
    if (error.find(path) != std::string::npos && error.find("read-only") != std::string::npos) {
      return 0;
    }
    fmt::print(stderr, "child: {}\n", error);
    return 1;
  });
  if (code == 77) {
    WARN("no other user to read as here: not checked");
    return;
  }
  CHECK(code == 0);
}

TEST_CASE("two Databases creating the same new store at once both succeed", "[sqlite][lock]") {
  for (int round = 0; round < 40; ++round) {
    const std::string url = test::new_store_url();
    std::latch start(2);
    std::string errors[2];
    const auto create = [&](int k) {
      start.arrive_and_wait();
      errors[k] = error_of([&] { Database::open(url, OpenMode::create); });
    };
    std::thread a(create, 0), b(create, 1);
    a.join();
    b.join();
    INFO("round " << round);
    CHECK(errors[0] == "(no error)");
    CHECK(errors[1] == "(no error)");
  }
}

TEST_CASE("a writer kept waiting past busy_timeout says how long it waited", "[sqlite][lock]") {
  const std::string url = test::new_store_url();
  const std::string path = path_of(url);
  Options impatient;
  impatient.busy_timeout = 50ms;

  SECTION("behind another batch") {
    Database::open(url, OpenMode::create).load(two_ports());
    Database first = Database::open(url, OpenMode::existing);
    Database second = Database::open(url, OpenMode::existing, impatient);
    std::string error;
    // The first batch holds the write lock while it reports progress.
    first.apply({"first", rows_for(20'000, "2024-04-01")}, [&](std::int64_t, std::int64_t) {
      if (error.empty())
        error = error_of([&] { second.apply({"second", rows_for(5, "2024-05-01")}); });
    });
    CHECK_THAT(error, Catch::Contains(path) && Catch::Contains("locked") &&
                          Catch::Contains("waited 50 ms") && Catch::Contains("busy_timeout"));
    CHECK(second.apply({"second", rows_for(5, "2024-05-01")}).prices == 5);
  }
  SECTION("creating a store another connection is writing") {
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &raw) == SQLITE_OK);
    REQUIRE(sqlite3_exec(raw,
                         "BEGIN IMMEDIATE; CREATE TABLE prices (orig_code TEXT, "
                         "dest_code TEXT, day TEXT, price INTEGER)",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
    const std::string error = error_of([&] { Database::open(url, OpenMode::create, impatient); });
    CHECK_THAT(error, Catch::Contains(path) && Catch::Contains("waited 50 ms"));
    REQUIRE(sqlite3_exec(raw, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(raw);
    CHECK_NOTHROW(Database::open(url, OpenMode::create, impatient));
  }
  SECTION("the timeout is checked") {
    Options negative;
    negative.busy_timeout = -1ms;
    CHECK_THROWS_AS(Database::open(url, OpenMode::create, negative), InvalidArgument);
    CHECK_FALSE(std::filesystem::exists(path));
  }
}

TEST_CASE("percentiles from a standby behind the copy that a read from the primary brought further",
          "[sqlite][replicas]") {
  // The "standby" is a copy of the primary's file taken before its last batch; the hooks play
  // its replication state. (Real standbys: tests/python/test_replicas.py.)
  const std::string primary = test::new_store_url();
  const std::string standby = test::new_store_url();
  Database::open(primary, OpenMode::create).load(two_ports());
  test::run_sql(primary, fmt::format("VACUUM INTO '{}'", path_of(standby)));
  Database::open(primary).apply({"ahead", rows_for(5, "2024-03-01")});

  auto write = std::make_unique<test::HookedStore>(open_store(primary, OpenMode::existing));
  auto read = std::make_unique<test::HookedStore>(open_store(standby, OpenMode::existing));
  write->log_position_is = [] { return std::uint64_t{1}; };
  bool replayed = false;
  read->has_replayed_is = [&](std::uint64_t) { return replayed; };
  Options options;
  options.replica_wait = 0ms;
  Database db(std::move(write), std::move(read), options);

  const RatesQuery median{
      day("2024-03-01"), day("2024-03-05"), "CNSHA", "NOOSL", 1, 0, Bucket::day, {50}};
  db.apply({"mine", {BatchRow::single("CNSHA", "NOOSL", day("2024-03-02"), 700)}});
  // Not replayed: read from the primary, which brings the shared copy up to it.
  const std::vector<RateDay> from_primary = db.rates(median);
  CHECK(from_primary[1].count == 2);
  // The standby says it has replayed this Database's write, but it is behind the copy.
  replayed = true;
  CHECK(db.rates(median) == from_primary);
  CHECK(total_count(db, "2024-03-01", "2024-03-05") == 7);
}

TEST_CASE("init brings a store of the last release up to this one's objects", "[sqlite]") {
  const std::string url = test::new_store_url();
  Database::open(url, OpenMode::create).load(two_ports());
  // What a schema-1 store had: the index without the dimensions, the triggers that recount a
  // lane-day from the prices alone.
  test::run_sql(url,
                "DROP INDEX prices_by_lane;"
                "CREATE INDEX prices_lane_day ON prices (orig_code, dest_code, day, price);");
  CHECK_THROWS_WITH(Database::open(url, OpenMode::existing),
                    Catch::Contains("prices_by_lane") && Catch::Contains("prkl init"));
  Database db = Database::open(url, OpenMode::create);
  const auto added = db.init();
  CHECK(std::count(added.begin(), added.end(),
                   "dropped index prices_lane_day (replaced by prices_by_lane, which serves "
                   "filters too)") == 1);
  CHECK(std::count(added.begin(), added.end(), "index prices_by_lane") == 1);
  const auto indexes = test::run_sql(
      url, "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'prices'");
  REQUIRE(indexes.size() == 1);
  CHECK(indexes[0][0] == "prices_by_lane");
  CHECK(total_count(db, "2024-03-01", "2024-03-31") == 1);
  // A filtered read is answered from the index alone.
  const auto plan = test::run_sql(
      url,
      "EXPLAIN QUERY PLAN SELECT day, price FROM prices WHERE orig_code = 'CNSHA' AND dest_code "
      "= 'NOOSL' AND day BETWEEN '2024-03-01' AND '2024-03-31' AND term = 'long' AND "
      "equipment = '40HC' AND julianday(day) - julianday(coalesce(received, day)) <= 5");
  std::string steps;
  for (const auto& row : plan) steps += row.back().value_or("") + "\n";
  CHECK_THAT(steps, Catch::Contains("USING COVERING INDEX prices_by_lane"));
}

TEST_CASE("prkl init redefines a schema-2 update trigger, which missed a change of dimensions",
          "[sqlite][schema]") {
  const std::string url = test::new_store_url();
  Database::open(url, OpenMode::create).load(two_ports());
  // Schema 2's trigger fired only on an update of codes, day or price.
  test::run_sql(url,
                "DROP TRIGGER prkl_prices_updated;"
                "CREATE TRIGGER prkl_prices_updated AFTER UPDATE OF orig_code, dest_code, day, "
                "price ON prices BEGIN UPDATE prkl_meta SET value = value + 1 WHERE key = "
                "'data_version'; END;"
                "UPDATE prkl_meta SET value = 2 WHERE key = 'schema_version';");
  const auto version = [&] {
    return test::run_sql(url, "SELECT value FROM prkl_meta WHERE key = 'data_version'")
        .at(0)
        .at(0)
        .value();
  };
  const std::string before = version();
  test::run_sql(url, "UPDATE prices SET equipment = '40HC'");
  CHECK(version() == before);  // the change schema 2 missed
  // A prkl of schema 2 or this one still opens it (the trigger is there by name).
  Database db = Database::open(url, OpenMode::existing);
  CHECK_FALSE(db.readiness().ready);  // until init brings it to this schema
  const auto added = db.init();
  CHECK(std::count(added.begin(), added.end(),
                   "dropped trigger prkl_prices_updated (an earlier definition)") == 1);
  CHECK(std::count(added.begin(), added.end(), "trigger prkl_prices_updated") == 1);
  test::run_sql(url, "UPDATE prices SET term = 'long'");
  CHECK(version() != before);
  CHECK(db.readiness().ready);
  // Run again, init changes nothing.
  CHECK(db.init().empty());
}
