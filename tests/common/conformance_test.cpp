// SPDX-License-Identifier: MIT
// The conformance suite: every backend runs this same source with the same expectations.

#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <mutex>
#include <numeric>
#include <prkl/prkl.hpp>
#include <random>

#include "context.hpp"
#include "hooked_store.hpp"

using namespace prkl;
using namespace std::chrono_literals;

namespace {

Date day(std::string_view text) {
  return parse_date(text);
}

Database fresh() {
  return Database::open(test::new_store_url(), OpenMode::create);
}

// A world four region levels deep below its root, with one empty region:
//   world > europe > north_europe > scandinavia > norway
//   world > asia > china;  world > antarctica (no ports)
Dataset small_world() {
  Dataset d;
  d.regions = {{"world", "World", std::nullopt},
               {"europe", "Europe", "world"},
               {"north_europe", "North Europe", "europe"},
               {"scandinavia", "Scandinavia", "north_europe"},
               {"norway", "Norway", "scandinavia"},
               {"asia", "Asia", "world"},
               {"china", "China", "asia"},
               {"antarctica", "Antarctica", "world"}};
  d.ports = {{"NOOSL", "Oslo", "norway"},          {"NOMAY", "Måløy", "norway"},
             {"SEGOT", "Göteborg", "scandinavia"}, {"DEHAM", "Hamburg", "north_europe"},
             {"FRLEH", "Le Havre", "europe"},      {"CNSHA", "Shanghai", "china"},
             {"CNNGB", "Ningbo", "china"}};
  // Days 1..4 of March 2024 on lanes out of china: 0, 1, 2 and 3 prices into Norway.
  d.prices = {{"CNSHA", "NOOSL", day("2024-03-02"), 1000},
              {"CNSHA", "NOOSL", day("2024-03-03"), 1000},
              {"CNNGB", "NOMAY", day("2024-03-03"), 1001},
              {"CNSHA", "NOOSL", day("2024-03-04"), 1117},
              {"CNNGB", "NOOSL", day("2024-03-04"), 1120},
              {"CNNGB", "NOMAY", day("2024-03-04"), 1118},
              // Deeper and shallower destinations, for region nesting.
              {"CNSHA", "SEGOT", day("2024-03-05"), 10},
              {"CNSHA", "DEHAM", day("2024-03-05"), 20},
              {"CNSHA", "FRLEH", day("2024-03-05"), 30},
              // The reverse direction must never leak into a china -> europe query.
              {"NOOSL", "CNSHA", day("2024-03-04"), 99999}};
  return d;
}

Database small_world_db() {
  Database db = fresh();
  db.load(small_world());
  return db;
}

std::int64_t total_count(Database& db, std::string_view from, std::string_view to,
                         std::string origin = "world", std::string destination = "world") {
  std::int64_t total = 0;
  for (const auto& d : db.rates({day(from), day(to), origin, destination, 1, 0})) total += d.count;
  return total;
}

std::vector<BatchRow> rows_for(int count, std::string_view first_day = "2024-04-01") {
  std::vector<BatchRow> rows;
  for (int i = 0; i < count; ++i) {
    rows.push_back(BatchRow::single("CNSHA", "NOOSL", day(first_day) + std::chrono::days{i % 28},
                                    100 + i % 900));
  }
  return rows;
}

}  // namespace

TEST_CASE("every call is counted and timed, errors by type, batches by outcome",
          "[conformance][metrics]") {
  using test::metric;
  Database db = small_world_db();
  const auto before = [](std::string_view series) { return metric(series); };
  const double rates = before(R"(prkl_operation_duration_seconds_count{operation="rates"})");
  const double not_found =
      before(R"(prkl_operation_errors_total{operation="port",type="not_found"})");
  const double applied = before(R"(prkl_batches_total{outcome="applied"})");
  const double replayed = before(R"(prkl_batches_total{outcome="replayed"})");
  const double refused = before(R"(prkl_batches_total{outcome="refused"})");
  const double conflict = before(R"(prkl_batches_total{outcome="conflict"})");
  const double rows = before("prkl_batch_rows_total");
  const double prices = before("prkl_batch_prices_total");
  const double misses = before(R"(prkl_cache_requests_total{result="miss"})");
  const double hits = before(R"(prkl_cache_requests_total{result="hit"})");
  const double matrix =
      before(R"(prkl_operation_duration_seconds_count{operation="rates_matrix"})");

  const RatesQuery query{day("2024-03-01"), day("2024-03-04"), "china", "norway"};
  for (int i = 0; i < 3; ++i) db.rates(query);
  CHECK_THROWS_AS(db.port("XXXXX"), NotFound);
  db.apply(
      {"counted", {BatchRow::range("CNSHA", "NOOSL", day("2024-05-01"), day("2024-05-03"), 700)}});
  db.apply(
      {"counted", {BatchRow::range("CNSHA", "NOOSL", day("2024-05-01"), day("2024-05-03"), 700)}});
  CHECK_THROWS_AS(db.apply({"counted", {BatchRow::single("CNSHA", "NOOSL", day("2024-05-01"), 1)}}),
                  BatchConflict);
  CHECK_THROWS_AS(db.apply({"bad", {BatchRow::single("XXXXX", "NOOSL", day("2024-05-01"), 1)}}),
                  ValidationFailed);
  db.rates(query);  // after a write: the in-memory copy is brought forward first

  // rates() is counted once, as rates: not again as the rates_matrix it is answered by.
  CHECK(metric(R"(prkl_operation_duration_seconds_count{operation="rates"})") - rates == 4);
  CHECK(metric(R"(prkl_operation_duration_seconds_count{operation="rates_matrix"})") == matrix);
  CHECK(metric(R"(prkl_operation_errors_total{operation="port",type="not_found"})") - not_found ==
        1);
  CHECK(metric(R"(prkl_operation_errors_total{operation="apply",type="batch_conflict"})") >= 1);
  CHECK(metric(R"(prkl_batches_total{outcome="applied"})") - applied == 1);
  CHECK(metric(R"(prkl_batches_total{outcome="replayed"})") - replayed == 1);
  CHECK(metric(R"(prkl_batches_total{outcome="refused"})") - refused == 1);
  CHECK(metric(R"(prkl_batches_total{outcome="conflict"})") - conflict == 1);
  CHECK(metric("prkl_batch_rows_total") - rows == 1);
  CHECK(metric("prkl_batch_prices_total") - prices == 3);
  CHECK(metric(R"(prkl_cache_requests_total{result="miss"})") - misses >= 1);
  CHECK(metric(R"(prkl_cache_requests_total{result="hit"})") - hits >= 2);
  // A call's time lands in a bucket: the +Inf bucket holds every call.
  CHECK(metric(R"(prkl_operation_duration_seconds_bucket{operation="rates",le="+Inf"})") ==
        metric(R"(prkl_operation_duration_seconds_count{operation="rates"})"));

  set_metrics_enabled(false);
  db.rates(query);
  set_metrics_enabled(true);
  CHECK(metric(R"(prkl_operation_duration_seconds_count{operation="rates"})") - rates == 4);
}

TEST_CASE("readiness: the store answers with a schema this prkl serves", "[conformance][health]") {
  const std::string url = test::new_store_url();
  Database db = Database::open(url, OpenMode::create);
  Readiness r = db.readiness();
  CHECK(r.ready);
  CHECK(r.reason.empty());
  CHECK(r.store.schema_version == schema_version);
  CHECK(r.store.readable_from == schema_version);
  CHECK_FALSE(r.store.standby);
  CHECK_FALSE(r.store.replay_lag_seconds);

  test::run_sql(url, "DELETE FROM prkl_meta WHERE key = 'schema_version'");
  r = db.readiness();
  CHECK_FALSE(r.ready);
  CHECK_THAT(r.reason, Catch::Matchers::Contains("run 'prkl init'"));
  db.init();
  CHECK(db.readiness().ready);

  test::run_sql(url,
                fmt::format("UPDATE prkl_meta SET value = {} WHERE key = 'schema_readable_from'",
                            schema_version + 1));
  CHECK_THAT(db.readiness().reason, Catch::Matchers::Contains("by a newer prkl"));
  db.init();  // never lowers what a newer prkl recorded
  CHECK_FALSE(db.readiness().ready);
}

TEST_CASE("the log handler hears of slow calls and of batches, with ids and counts only",
          "[conformance][log]") {
  std::mutex mutex;
  std::vector<LogEvent> events;
  set_log_handler([&](const LogEvent& e) {
    const std::lock_guard lock(mutex);
    events.push_back({e.level, e.event, e.message, e.fields});
  });
  set_slow_call_threshold(std::chrono::seconds{0});
  Database db = small_world_db();
  db.rates({day("2024-03-01"), day("2024-03-04"), "china", "norway"});
  db.apply(
      {"logged", {BatchRow::range("CNSHA", "NOOSL", day("2024-06-01"), day("2024-06-02"), 7)}});
  CHECK_THROWS_AS(db.apply({"refused",
                            {BatchRow::single("CNSHA", "NOOSL", day("2024-06-01"), 5),
                             BatchRow::single("SECRET", "NOOSL", day("2024-06-01"), 5)}}),
                  ValidationFailed);
  set_slow_call_threshold(std::chrono::seconds{1});
  set_log_handler(nullptr);
  db.apply({"not-heard", {BatchRow::single("CNSHA", "NOOSL", day("2024-06-03"), 7)}});

  // The event `event` whose fields hold `name` = `value`.
  const auto find = [&](std::string_view event, std::string name,
                        std::string value) -> const LogEvent* {
    for (const LogEvent& e : events) {
      const std::pair<std::string, std::string> field{name, value};
      if (e.event == event && std::find(e.fields.begin(), e.fields.end(), field) != e.fields.end())
        return &e;
    }
    return nullptr;
  };
  const LogEvent* slow = find("slow_call", "operation", "rates");
  REQUIRE(slow);
  CHECK(slow->level == LogLevel::warning);
  CHECK_THAT(slow->message, Catch::Matchers::StartsWith("prkl rates took "));
  const LogEvent* applied = find("batch_applied", "batch_id", "logged");
  REQUIRE(applied);
  CHECK(applied->level == LogLevel::info);
  CHECK_THAT(applied->message,
             Catch::Matchers::StartsWith("batch 'logged' applied: 1 rows, 2 prices"));
  const LogEvent* refused = find("batch_refused", "batch_id", "refused");
  REQUIRE(refused);
  CHECK(refused->level == LogLevel::warning);
  CHECK_THAT(refused->message,
             Catch::Matchers::Equals("batch 'refused' refused: 1 of 2 rows bad, nothing written"));
  for (const LogEvent& e : events) CHECK(e.message.find("SECRET") == std::string::npos);
  CHECK_FALSE(find("batch_applied", "batch_id", "not-heard"));
}

TEST_CASE("known answer on the ratestask dump", "[conformance][xeneta]") {
  Database db = fresh();
  const auto summary = db.import_dump(test::xeneta_dir() / "ratestask-2016.sql");
  CHECK(summary.prices == 53056);
  CHECK(summary.ports == 143);
  CHECK(summary.regions == 20);

  const auto days = db.rates({day("2016-01-01"), day("2016-01-10"), "CNSGH", "north_europe_main"});
  struct Expected {
    const char* day;
    std::int64_t count;
    std::optional<std::int64_t> average;
  };
  const Expected expected[] = {{"2016-01-01", 24, 1112},        {"2016-01-02", 24, 1112},
                               {"2016-01-03", 0, std::nullopt}, {"2016-01-04", 1, std::nullopt},
                               {"2016-01-05", 24, 1142},        {"2016-01-06", 24, 1142},
                               {"2016-01-07", 24, 1137},        {"2016-01-08", 24, 1124},
                               {"2016-01-09", 24, 1124},        {"2016-01-10", 24, 1124}};
  REQUIRE(days.size() == std::size(expected));
  for (std::size_t i = 0; i < days.size(); ++i) {
    INFO(expected[i].day);
    CHECK(format_date(days[i].day) == expected[i].day);
    CHECK(days[i].count == expected[i].count);
    CHECK(days[i].average.has_value() == expected[i].average.has_value());
    if (days[i].average) CHECK(days[i].average->units == *expected[i].average);
  }
  CHECK(days[3].min == 100500);  // the one price of Jan 4, added by the dump's trailing INSERT
}

TEST_CASE("both real dumps load, and a region-to-region month adds up", "[conformance][xeneta]") {
  for (const auto& [file, prices] :
       {std::pair{"ratestask-2016.sql", 53056}, std::pair{"operations-task-2021.sql", 56689}}) {
    INFO(file);
    Database db = fresh();
    CHECK(db.import_dump(test::xeneta_dir() / file).prices == prices);
    const std::string month = std::string(file).starts_with("ratestask") ? "2016-01" : "2021-01";
    const auto days =
        db.rates({day(month + "-01"), day(month + "-31"), "china_main", "northern_europe", 3, 0});
    CHECK(days.size() == 31);
    std::int64_t counted = 0;
    for (const auto& d : days) counted += d.count;
    CHECK(counted > 0);
    CHECK(counted <= prices);
  }
}

TEST_CASE("every price row counts, duplicates included", "[conformance]") {
  Database db = fresh();
  Dataset data = small_world();
  data.prices = {{"CNSHA", "NOOSL", day("2024-03-01"), 500},
                 {"CNSHA", "NOOSL", day("2024-03-01"), 500},
                 {"CNSHA", "NOOSL", day("2024-03-01"), 503}};
  db.load(data);
  const auto days = db.rates({day("2024-03-01"), day("2024-03-01"), "CNSHA", "NOOSL"});
  REQUIRE(days.size() == 1);
  CHECK(days[0].count == 3);
  CHECK(days[0].average == Decimal{501, 0});
  CHECK(days[0].min == 500);
  CHECK(days[0].max == 503);
}

TEST_CASE("days with 0, 1, 2 and 3 prices, min_count and halves", "[conformance]") {
  Database db = small_world_db();
  const auto days = db.rates({day("2024-03-01"), day("2024-03-04"), "china", "norway"});
  REQUIRE(days.size() == 4);
  CHECK(days[0] == RateDay{day("2024-03-01"), 0, std::nullopt, std::nullopt, std::nullopt});
  CHECK(days[1] == RateDay{day("2024-03-02"), 1, std::nullopt, 1000, 1000});
  CHECK(days[2] == RateDay{day("2024-03-03"), 2, std::nullopt, 1000, 1001});
  CHECK(days[3] == RateDay{day("2024-03-04"), 3, Decimal{1118, 0}, 1117, 1120, {}, 3355.0 / 3});

  SECTION("a lower min_count gives averages earlier, rounded half away from zero") {
    const auto low = db.rates({day("2024-03-01"), day("2024-03-04"), "china", "norway", 2});
    CHECK_FALSE(low[1].average);
    CHECK(low[2].average == Decimal{1001, 0});  // 1000.5 rounds up, not to the even 1000
    CHECK(low[2].average_double == 1000.5);     // unrounded, for float contracts
    const auto one = db.rates({day("2024-03-03"), day("2024-03-03"), "CNNGB", "NOMAY", 1});
    CHECK(one[0].average == Decimal{1001, 0});
  }
  SECTION("a scale gives exact decimals") {
    const auto scaled = db.rates({day("2024-03-03"), day("2024-03-04"), "china", "norway", 2, 2});
    CHECK(scaled[0].average->to_string() == "1000.50");
    CHECK(scaled[1].average->to_string() == "1118.33");
  }
}

TEST_CASE("regions resolve at every depth", "[conformance]") {
  Database db = small_world_db();
  using Codes = std::vector<std::string>;
  CHECK(db.resolve("norway") == Codes{"NOMAY", "NOOSL"});
  CHECK(db.resolve("scandinavia") == Codes{"NOMAY", "NOOSL", "SEGOT"});
  CHECK(db.resolve("north_europe") == Codes{"DEHAM", "NOMAY", "NOOSL", "SEGOT"});
  CHECK(db.resolve("europe") == Codes{"DEHAM", "FRLEH", "NOMAY", "NOOSL", "SEGOT"});
  CHECK(db.resolve("world").size() == 7);
  CHECK(db.resolve("NOOSL") == Codes{"NOOSL"});
  CHECK(db.resolve("antarctica").empty());

  const auto sum_on = [&](const char* destination) {
    return db.rates({day("2024-03-05"), day("2024-03-05"), "CNSHA", destination, 1})[0].max;
  };
  CHECK(sum_on("scandinavia") == 10);
  CHECK(sum_on("north_europe") == 20);
  CHECK(sum_on("europe") == 30);
  CHECK(total_count(db, "2024-03-01", "2024-03-31", "asia", "europe") == 9);
  CHECK(total_count(db, "2024-03-01", "2024-03-31", "europe", "asia") == 1);
}

TEST_CASE("another writer's new lanes and ports are seen by an open Database", "[conformance]") {
  const std::string url = test::new_store_url();
  Database reader = Database::open(url, OpenMode::create);
  reader.load(small_world());
  CHECK(total_count(reader, "2024-03-01", "2024-03-31", "china", "north_europe") == 8);

  Database writer = Database::open(url, OpenMode::existing);
  // CNNGB -> DEHAM had no prices: a lane the reader has not seen.
  writer.apply({"new-lane", {BatchRow::single("CNNGB", "DEHAM", day("2024-03-07"), 40)}});
  CHECK(total_count(reader, "2024-03-01", "2024-03-31", "china", "north_europe") == 9);
  writer.apply({"old-lane", {BatchRow::single("CNSHA", "NOOSL", day("2024-03-07"), 50)}});
  CHECK(total_count(reader, "2024-03-01", "2024-03-31", "china", "north_europe") == 10);
}

TEST_CASE("the change log keeps the last versions, and a copy older than them is read again whole",
          "[conformance]") {
  const std::string url = test::new_store_url();
  Database reader = Database::open(url, OpenMode::create);
  reader.load(small_world());
  CHECK(total_count(reader, "2024-03-01", "2024-03-31", "china", "north_europe") == 8);
  // Another client writes one price per statement, each its own data version, well past what
  // the log keeps; then prkl writes, which prunes the log.
  std::string sql;
  for (int i = 0; i < 1'200; ++i) {
    sql += fmt::format(
        "INSERT INTO prices (orig_code, dest_code, day, price) VALUES ('CNNGB', "
        "'DEHAM', '2024-03-{:02}', {});\n",
        1 + i % 28, 100 + i);
  }
  test::run_sql(url, sql);
  Database writer = Database::open(url, OpenMode::existing);
  writer.apply({"after", {BatchRow::single("CNSHA", "NOOSL", day("2024-03-07"), 50)}});
  const auto logged = test::run_sql(url, "SELECT count(*) FROM prkl_day_changes");
  CHECK(std::stoll(*logged.at(0).at(0)) <= 1'000);
  // The reader's copy predates every change still logged: it must read the lane-days again.
  CHECK(total_count(reader, "2024-03-01", "2024-03-31", "china", "north_europe") == 1'209);
}

TEST_CASE("with a read store, questions go to it and everything a batch does to the write store",
          "[conformance][replicas]") {
  // Both on one store: which one is asked is what this checks. The replication itself is
  // tested on real PostgreSQL standbys (tests/python/test_replicas.py).
  const std::string url = test::new_store_url();
  Database::open(url, OpenMode::create).load(small_world());
  auto write_owned = std::make_unique<test::HookedStore>(open_store(url, OpenMode::existing));
  auto read_owned = std::make_unique<test::HookedStore>(open_store(url, OpenMode::existing));
  test::HookedStore& write = *write_owned;
  test::HookedStore& read = *read_owned;
  Database db(std::move(write_owned), std::move(read_owned));
  REQUIRE(db.read_store() == &read);

  CHECK(total_count(db, "2024-03-01", "2024-03-31", "china", "north_europe") == 8);
  CHECK(db.port("NOOSL").name == "Oslo");
  CHECK(db.search_ports("ning").size() == 1);
  CHECK(db.readiness().ready);
  const RatesQuery median{
      day("2024-03-04"), day("2024-03-04"), "china", "norway", 1, 0, Bucket::day, {50}};
  CHECK(db.rates(median).front().count == 3);
  CHECK_FALSE(db.batch("nothing-yet"));
  CHECK(write.calls.empty());
  CHECK(read.calls["read_lanes"] == 1);  // the lane's prices, kept in the copy from now on
  CHECK(read.calls["health"] == 1);

  read.calls.clear();
  CHECK(
      db.validate({"check", {BatchRow::single("CNSHA", "NOOSL", day("2024-03-07"), 50)}}).empty());
  db.apply({"routed", {BatchRow::single("CNSHA", "NOOSL", day("2024-03-07"), 50)}});
  CHECK(write.calls["apply_batch"] == 1);
  CHECK(write.calls["version"] == 2);  // validation reads the write store's geography
  // After the write, the position the read store must reach; a store without replicas has
  // none, and its read store holds the write at once.
  CHECK(write.calls["log_position"] == 1);
  CHECK(read.calls.empty());
  CHECK(total_count(db, "2024-03-01", "2024-03-31", "china", "north_europe") == 9);
  CHECK(db.batch("routed")->prices == 1);
  CHECK(write.calls["apply_batch"] == 1);
  CHECK(read.calls["find_batch"] == 1);
  // Checked once after the write at most (a store without replicas has nothing to check), not
  // on every read.
  const int checks = read.calls["has_replayed"];
  CHECK(total_count(db, "2024-03-01", "2024-03-31", "china", "north_europe") == 9);
  CHECK(read.calls["has_replayed"] == checks);
}

TEST_CASE("rates agree with a count done by hand on generated data", "[conformance]") {
  // Many ports and few lanes (sparse region pairs) next to port-to-port and region-to-port
  // questions (dense ones), so every way a store may answer is checked against the same sums.
  GeneratorOptions options;
  options.seed = 7;
  options.ports = 300;
  options.lanes = 400;
  options.days = 6;
  const Dataset data = generate(options);
  Database db = fresh();
  db.load(data);
  const Date first = options.first_day;
  const Date last = first + std::chrono::days{options.days - 1};
  const std::string busy_origin = data.prices.front().origin;
  const std::string busy_destination = data.prices.front().destination;
  const std::pair<std::string, std::string> questions[] = {
      {"world", "world"},     {"china", "north_europe"},   {"north_europe_main", "south_east_asia"},
      {busy_origin, "world"}, {"world", busy_destination}, {busy_origin, busy_destination},
  };
  for (const auto& [origin, destination] : questions) {
    INFO(origin << " -> " << destination);
    const auto origins = db.resolve(origin);
    const auto destinations = db.resolve(destination);
    const auto in = [](const std::vector<std::string>& codes, const std::string& code) {
      return std::binary_search(codes.begin(), codes.end(), code);
    };
    std::map<Date, std::vector<std::int32_t>> expected;
    for (const Price& p : data.prices) {
      if (in(origins, p.origin) && in(destinations, p.destination)) {
        expected[p.day].push_back(p.price);
      }
    }
    const auto days = db.rates({first, last, origin, destination, 2, 3});
    REQUIRE(days.size() == std::size_t(options.days));
    for (const RateDay& d : days) {
      const auto& prices = expected[d.day];
      CHECK(d.count == std::int64_t(prices.size()));
      if (prices.empty()) continue;
      const std::int64_t sum = std::accumulate(prices.begin(), prices.end(), std::int64_t{0});
      CHECK(d.min == *std::min_element(prices.begin(), prices.end()));
      CHECK(d.max == *std::max_element(prices.begin(), prices.end()));
      if (prices.size() >= 2) {
        CHECK(d.average == exact_average(sum, std::int64_t(prices.size()), 3));
      } else {
        CHECK_FALSE(d.average);
      }
    }
  }
}

TEST_CASE("a region without ports gives days with count 0", "[conformance]") {
  Database db = small_world_db();
  const auto days = db.rates({day("2024-03-01"), day("2024-03-05"), "china", "antarctica"});
  REQUIRE(days.size() == 5);
  for (const auto& d : days) {
    CHECK(d.count == 0);
    CHECK_FALSE(d.average);
  }
}

TEST_CASE("bad rates questions are typed errors that name the value", "[conformance]") {
  Database db = small_world_db();
  CHECK_THROWS_MATCHES(
      db.rates({day("2024-03-05"), day("2024-03-01"), "china", "norway"}), InvalidArgument,
      Catch::Matchers::Message("reversed range: date_from 2024-03-05 is after date_to 2024-03-01"));
  CHECK_THROWS_WITH(parse_date("2024-3-01", "date_from"),
                    "date_from: malformed date '2024-3-01': expected YYYY-MM-DD");
  CHECK_THROWS_AS(parse_date("2024-02-30"), InvalidArgument);
  CHECK_THROWS_MATCHES(
      db.rates({day("2024-03-01"), day("2024-03-02"), "XXXXX", "norway"}), NotFound,
      Catch::Matchers::Message("unknown location 'XXXXX': not a port code or region slug"));
  CHECK_THROWS_WITH(db.rates({day("2024-03-01"), day("2024-03-02"), "china", "atlantis"}),
                    Catch::Contains("'atlantis'"));
  CHECK_THROWS_WITH(db.rates({day("2000-01-01"), day("2024-03-02"), "china", "norway"}),
                    Catch::Contains("more than the maximum"));
  CHECK_THROWS_AS(db.rates({day("2024-03-01"), day("2024-03-02"), "china", "norway", 0}),
                  InvalidArgument);
  CHECK_THROWS_AS(db.rates({day("2024-03-01"), day("2024-03-02"), "china", "norway", 3, 10}),
                  InvalidArgument);
}

TEST_CASE("port lookup", "[conformance]") {
  Database db = small_world_db();
  CHECK(db.port("NOMAY") == Port{"NOMAY", "Måløy", "norway"});
  CHECK_THROWS_WITH(db.port("NOXXX"), "unknown port 'NOXXX'");
  CHECK(db.ports_in_region("scandinavia").size() == 3);
  CHECK_THROWS_AS(db.ports_in_region("atlantis"), NotFound);

  SECTION("search ignores case, including outside ASCII") {
    CHECK(db.search_ports("MÅLØY").at(0).code == "NOMAY");
    CHECK(db.search_ports("göte").at(0).code == "SEGOT");
    CHECK(db.search_ports("cn").size() == 2);
    CHECK(db.search_ports("").size() == 7);
    CHECK(db.search_ports("", 2, 0).size() == 2);
    CHECK(db.search_ports("", 10, 6).size() == 1);
    CHECK(db.search_ports("", 2, 1).at(0).code == "CNSHA");
    CHECK(db.search_ports("nowhere").empty());
    CHECK_THROWS_AS(db.search_ports("", -1, 0), InvalidArgument);
  }
  SECTION("search within a region, at any depth") {
    CHECK(db.search_ports("oslo", 10, 0, "europe").at(0).code == "NOOSL");
    CHECK(db.search_ports("oslo", 10, 0, "asia").empty());
    CHECK(db.search_ports("", 10, 0, "scandinavia").size() == 3);
    CHECK(db.search_ports("", 10, 1, "scandinavia").at(0).code == "NOOSL");
    CHECK_THROWS_WITH(db.search_ports("", 10, 0, "atlantis"), "unknown region 'atlantis'");
  }
  SECTION("the region tree") {
    const auto tree = db.region_tree();
    REQUIRE(tree.size() == 1);
    CHECK(tree[0].region.slug == "world");
    REQUIRE(tree[0].children.size() == 3);
    CHECK(tree[0].children[0].region.slug == "antarctica");
    const auto& europe = tree[0].children[2];
    CHECK(europe.port_codes == std::vector<std::string>{"FRLEH"});
    CHECK(europe.children.at(0).children.at(0).children.at(0).port_codes ==
          std::vector<std::string>{"NOMAY", "NOOSL"});
  }
}

TEST_CASE("a batch with several bad rows reports every one and writes nothing",
          "[conformance][batch]") {
  Database db = small_world_db();
  const std::int64_t before =
      total_count(db, "2000-01-01", "2004-12-31") + total_count(db, "2024-01-01", "2028-12-31");
  Batch batch{"bad-1",
              {{"CNSHA", "NOOSL", "2024-04-01", "", "", "100", 0},
               {"CNXXX", "NOOSL", "2024-04-01", "", "", "100", 0},
               {"CNSHA", "norway", "2024-04-01", "", "", "100", 0},
               {"CNSHA", "NOOSL", "2024-04-31", "", "", "100", 0},
               {"CNSHA", "NOOSL", "", "2024-04-05", "2024-04-01", "100", 0},
               {"CNSHA", "NOOSL", "2024-04-01", "", "", "-5", 0},
               {"CNSHA", "NOOSL", "2024-04-01", "", "", "12.5", 0},
               {"CNSHA", "NOOSL", "2024-04-01", "", "", "5000000", 0},
               {"", "NOOSL", "", "", "", "", 0}}};
  const std::vector<RowError> expected{
      {2, "origin", "unknown port 'CNXXX'"},
      {3, "destination", "'norway' is a region; a price needs a port code"},
      {4, "day", "day: '2024-04-31' is not a calendar day"},
      {5, "date_to", "reversed range: date_to 2024-04-01 is before date_from 2024-04-05"},
      {6, "price", "price -5 is not positive"},
      {7, "price", "price '12.5' is not a whole number of dollars"},
      {8, "price", "price 5000000 is above the maximum of 1000000"},
      {9, "origin", "origin is missing"},
      {9, "day", "day is missing (or give date_from and date_to, or valid_from and valid_to)"},
      {9, "price", "price is missing"}};
  CHECK(db.validate(batch) == expected);
  try {
    db.apply(batch);
    FAIL("apply accepted a bad batch");
  } catch (const ValidationFailed& e) {
    CHECK(e.errors() == expected);
    CHECK_THAT(e.what(), Catch::Contains("'bad-1' has 8 bad rows"));
  }
  CHECK_FALSE(db.store().find_batch("bad-1"));
  CHECK(total_count(db, "2000-01-01", "2004-12-31") + total_count(db, "2024-01-01", "2028-12-31") ==
        before);
}

TEST_CASE("a batch of nothing but bad rows lists the first errors and counts the rest",
          "[conformance][batch]") {
  Database db = Database::open(test::new_store_url(), OpenMode::create);
  db.load(small_world());
  Batch bad{"all-bad", {}};
  for (int i = 0; i < 12'000; ++i) {
    bad.rows.push_back(BatchRow::single("CNSHA", "NOOSL", day("2024-01-01"), -1));
  }
  bad.rows.push_back(BatchRow::single("XXXXX", "NOOSL", day("2024-01-01"), 5));
  const std::vector<RowError> errors = db.validate(bad);
  REQUIRE(errors.size() == 10'001);
  CHECK(errors[9'999] == RowError{10'000, "price", "price -1 is not positive"});
  CHECK(
      errors.back() ==
      RowError{0, "batch", "2001 more bad rows are not listed: the list stops after 10000 errors"});
  CHECK_THROWS_WITH(db.apply(bad), "batch 'all-bad' has 12001 bad rows; nothing was written");
  CHECK_THROWS_WITH(db.apply(Batch{"empty", {}}),
                    "batch 'empty' is refused: the batch has no rows; nothing was written");
}

TEST_CASE("a question whose answer would exceed max_answer_values is refused before any read",
          "[conformance]") {
  Options options;
  options.max_answer_values = 31 * 2 * (5 + 2);  // two lanes of a month with two percentiles
  Database db = Database::open(test::new_store_url(), OpenMode::create, options);
  db.load(small_world());
  const RatesOptions two{1, 0, Bucket::day, {25, 75}};
  CHECK(db.rates_matrix({day("2024-03-01"), day("2024-03-31"), {"CNSHA"}, {"NOOSL", "DEHAM"}, two})
            .size() == 2);
  CHECK_THROWS_MATCHES(
      db.rates_matrix({day("2024-03-01"), day("2024-04-01"), {"CNSHA"}, {"NOOSL", "DEHAM"}, two}),
      AnswerTooLarge,
      Catch::Matchers::Message(
          "the answer would hold 448 values (2 lanes x 32 buckets x 7 values), more than the "
          "maximum of 434 (Options::max_answer_values): ask fewer lanes, a shorter range, a "
          "coarser bucket or fewer percentiles"));
  // A coarser bucket fits.
  CHECK(db.rates_matrix({day("2024-03-01"),
                         day("2024-04-01"),
                         {"CNSHA"},
                         {"NOOSL", "DEHAM"},
                         {1, 0, Bucket::month, {25, 75}}})
            .size() == 2);
  CHECK_THROWS_AS(
      Database::open("sqlite::memory:", OpenMode::create, Options{.max_answer_values = 0}),
      InvalidArgument);
}

TEST_CASE("a batch whose ranges expand past max_batch_prices is refused before any is written",
          "[conformance][batch]") {
  Options options;
  options.max_batch_prices = 100;
  options.max_price = 5'000'000'000;  // more than the stores' 32-bit prices hold
  Database db = Database::open(test::new_store_url(), OpenMode::create, options);
  db.load(small_world());
  const auto range = [](std::string_view from, std::string_view to) {
    return BatchRow::range("CNSHA", "NOOSL", day(from), day(to), 500);
  };
  // 61 + 40 days: one price too many.
  const Batch too_big{"too-big",
                      {range("2024-05-01", "2024-06-30"), range("2024-07-01", "2024-08-09")}};
  const std::vector<RowError> expected{
      {0, "batch",
       "the batch's rows expand to 101 prices, more than the maximum of 100 "
       "(Options::max_batch_prices); split it"}};
  CHECK(db.validate(too_big) == expected);
  CHECK_THROWS_AS(db.apply(too_big), ValidationFailed);
  CHECK(total_count(db, "2024-05-01", "2024-08-31") == 0);
  CHECK_FALSE(db.store().find_batch("too-big"));

  const Batch just_fits{"fits",
                        {range("2024-05-01", "2024-06-30"), range("2024-07-01", "2024-08-08")}};
  CHECK(db.apply(just_fits).prices == 100);
  CHECK(total_count(db, "2024-05-01", "2024-08-31") == 100);

  // A price the store cannot hold is refused whatever max_price says, never truncated.
  const Batch huge{"huge", {BatchRow::single("CNSHA", "NOOSL", day("2024-09-01"), 3'000'000'000)}};
  CHECK(db.validate(huge) ==
        std::vector<RowError>{{1, "price", "price 3000000000 is above the maximum of 2147483647"}});
}

TEST_CASE("a batch lands whole, and a re-applied id changes nothing", "[conformance][batch]") {
  Database db = small_world_db();
  const std::int64_t before = total_count(db, "2024-04-01", "2024-04-30");
  Batch batch{"upload-7", rows_for(50)};
  batch.rows.push_back(
      BatchRow::range("CNNGB", "SEGOT", day("2024-04-10"), day("2024-04-12"), 700));

  const BatchResult first = db.apply(batch);
  CHECK(first.batch_id == "upload-7");
  CHECK(first.rows == 51);
  CHECK(first.prices == 53);
  CHECK_FALSE(first.replayed);
  CHECK(total_count(db, "2024-04-01", "2024-04-30") == before + 53);
  CHECK(db.rates({day("2024-04-11"), day("2024-04-11"), "CNNGB", "SEGOT", 1})[0].average ==
        Decimal{700, 0});

  const BatchResult again = db.apply(batch);
  CHECK(again.replayed);
  CHECK(again.applied_at == first.applied_at);
  CHECK(again.prices == first.prices);
  CHECK(total_count(db, "2024-04-01", "2024-04-30") == before + 53);

  SECTION("the same id with other rows is a conflict, and the first batch stands") {
    batch.rows.pop_back();
    CHECK_THROWS_AS(db.apply(batch), BatchConflict);
    CHECK(total_count(db, "2024-04-01", "2024-04-30") == before + 53);
  }
  SECTION("without an id, the content names the batch") {
    Batch anonymous{"", rows_for(3, "2024-06-01")};
    const auto a = db.apply(anonymous);
    CHECK(a.batch_id.starts_with("content-"));
    CHECK(db.apply(anonymous).replayed);
    CHECK(total_count(db, "2024-06-01", "2024-06-30") == 3);
  }
  SECTION("bad ids and empty batches are refused") {
    CHECK_THROWS_AS(db.apply({"bad\nid", rows_for(1)}), InvalidArgument);
    CHECK_THROWS_AS(db.apply({"empty", {}}), ValidationFailed);
  }
}

namespace {

// Runs `work` in a child process that opens its own connection; returns the child's exit code.
template <typename Work>
pid_t spawn(Work work) {
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int code = 99;
    try {
      code = work();
    } catch (const std::exception& e) {
      fmt::print(stderr, "child: {}\n", e.what());
    }
    _exit(code);
  }
  return pid;
}

int wait_for(pid_t pid) {
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

TEST_CASE("a process killed in the middle of a large apply leaves nothing of it",
          "[conformance][batch][crash]") {
  const std::string url = test::new_store_url();
  {
    Database db = Database::open(url, OpenMode::create);
    db.load(small_world());
    db.apply({"earlier", rows_for(10)});
  }
  int ready[2];
  REQUIRE(pipe(ready) == 0);
  const pid_t child = spawn([&] {
    Database db = Database::open(url, OpenMode::existing);
    db.apply({"big", rows_for(200'000, "2025-01-01")}, [&](std::int64_t done, std::int64_t) {
      if (done >= 50'000) {
        // Half way through the write: tell the parent, then wait to be killed.
        const char byte = 1;
        if (write(ready[1], &byte, 1) != 1) _exit(98);
        for (;;) pause();
      }
    });
    return 0;
  });
  close(ready[1]);
  char byte = 0;
  REQUIRE(read(ready[0], &byte, 1) == 1);
  close(ready[0]);
  REQUIRE(kill(child, SIGKILL) == 0);
  CHECK(wait_for(child) == 128 + SIGKILL);

  Database db = Database::open(url, OpenMode::existing);
  CHECK_FALSE(db.store().find_batch("big"));
  CHECK(db.store().find_batch("earlier"));
  CHECK(total_count(db, "2025-01-01", "2025-12-31") == 0);
  CHECK(total_count(db, "2024-04-01", "2024-04-30") == 10);
  // The store is usable after the crash: the same batch applies cleanly now.
  CHECK(db.apply({"big", rows_for(1000, "2025-01-01")}).prices == 1000);
}

TEST_CASE("concurrent writers serialize, and a raced batch id lands once", "[conformance][batch]") {
  const std::string url = test::new_store_url();
  Database::open(url, OpenMode::create).load(small_world());
  const auto apply_in_child = [&](std::string id, std::string first_day) {
    return spawn([=] {
      Database db = Database::open(url, OpenMode::existing);
      return db.apply({id, rows_for(20'000, first_day)}).replayed ? 10 : 0;
    });
  };
  SECTION("different ids: both land") {
    const pid_t a = apply_in_child("a", "2024-04-01");
    const pid_t b = apply_in_child("b", "2024-04-01");
    CHECK(wait_for(a) == 0);
    CHECK(wait_for(b) == 0);
    Database db = Database::open(url, OpenMode::existing);
    CHECK(total_count(db, "2024-04-01", "2024-04-30") == 40'000);
  }
  SECTION("both adding the same new lanes, in opposite orders: both land") {
    std::vector<BatchRow> rows;
    const auto world = small_world();
    for (const Port& from : world.ports) {
      for (const Port& to : world.ports) {
        if (from.code == to.code) continue;
        for (int i = 0; i < 50; ++i) {
          rows.push_back(BatchRow::single(from.code, to.code, day("2024-05-01"), 100 + i));
        }
      }
    }
    const auto apply_rows = [&](std::string id, std::vector<BatchRow> batch) {
      return spawn([=] {
        Database db = Database::open(url, OpenMode::existing);
        return db.apply({id, batch}).replayed ? 10 : 0;
      });
    };
    const pid_t a = apply_rows("forward", rows);
    const pid_t b = apply_rows("backward", std::vector<BatchRow>(rows.rbegin(), rows.rend()));
    CHECK(wait_for(a) == 0);
    CHECK(wait_for(b) == 0);
    Database db = Database::open(url, OpenMode::existing);
    CHECK(total_count(db, "2024-05-01", "2024-05-01") == 2 * std::int64_t(rows.size()));
  }
  SECTION("the same id: one applies, the other gets the first result") {
    const pid_t a = apply_in_child("same", "2024-04-01");
    const pid_t b = apply_in_child("same", "2024-04-01");
    const int codes = wait_for(a) + wait_for(b);
    CHECK(codes == 10);
    Database db = Database::open(url, OpenMode::existing);
    CHECK(total_count(db, "2024-04-01", "2024-04-30") == 20'000);
  }
}

TEST_CASE("a constraint the store's owner added refuses a batch with the backend's code",
          "[conformance][batch][errors]") {
  const std::string url = test::new_store_url();
  Database db = Database::open(url, OpenMode::create);
  db.load(small_world());
  test::run_sql(url, "CREATE UNIQUE INDEX one_price_a_day ON prices (orig_code, dest_code, day)");
  try {
    db.apply({"twice", {BatchRow::single("CNSHA", "NOOSL", day("2024-03-02"), 1200)}});
    FAIL("the batch was applied");
  } catch (const StorageError& e) {
    // Asking again would fail the same way: not a kind that invites a retry.
    CHECK(e.kind() == StorageError::Kind::other);
    CHECK_FALSE(e.code().empty());
  }
  CHECK_FALSE(db.batch("twice"));
  CHECK(total_count(db, "2024-03-02", "2024-03-02", "china", "norway") == 1);
}

TEST_CASE("a negative connect_timeout is refused, naming it", "[conformance]") {
  Options options;
  options.connect_timeout = -3s;
  const std::string url = test::new_store_url();
  CHECK_THROWS_AS(Database::open(url, OpenMode::create, options), InvalidArgument);
  CHECK_THROWS_WITH(Database::open(url, OpenMode::create, options),
                    Catch::Contains("connect_timeout of -3"));
}

TEST_CASE("loading a data set checks it as a whole", "[conformance][load]") {
  Database db = fresh();
  SECTION("a region cycle, an unknown region and an unknown port are named") {
    Dataset bad = small_world();
    bad.regions.push_back({"loop_a", "A", "loop_b"});
    bad.regions.push_back({"loop_b", "B", "loop_a"});
    bad.ports.push_back({"XXAAA", "Lost", "atlantis"});
    bad.prices.push_back({"CNSHA", "ZZZZZ", day("2024-03-01"), 5});
    try {
      db.load(bad);
      FAIL("a broken data set loaded");
    } catch (const ValidationFailed& e) {
      std::string all;
      for (const auto& error : e.errors()) all += error.message + "\n";
      CHECK_THAT(all, Catch::Contains("cycle") && Catch::Contains("'atlantis'") &&
                          Catch::Contains("'ZZZZZ'"));
    }
    CHECK(db.store().empty());
  }
  SECTION("a store with data is not loaded over unless asked") {
    db.load(small_world());
    CHECK_THROWS_AS(db.load(small_world()), InvalidArgument);
    db.apply({"x", rows_for(5)});
    CHECK(db.load(small_world(), true).prices == 10);
    CHECK_FALSE(db.store().find_batch("x"));
    CHECK(total_count(db, "2024-03-01", "2024-04-30") == 10);
  }
  SECTION("geography changes are seen by an open Database") {
    db.load(small_world());
    CHECK(db.resolve("china").size() == 2);
    Dataset other = small_world();
    other.ports.push_back({"CNTXG", "Tianjin", "china"});
    Database::open(test::new_store_url(), OpenMode::create);  // unrelated store, untouched
    db.load(other, true);
    CHECK(db.resolve("china").size() == 3);
  }
}

TEST_CASE("of two loads into an empty store, the one that writes second is refused",
          "[conformance][load]") {
  const std::string url = test::new_store_url();
  Database::open(url, OpenMode::create);
  Dataset first = small_world();
  first.ports.push_back({"CNTXG", "Tianjin", "china"});
  // The other load lands after this Database decided to load and before its write began.
  auto store = std::make_unique<test::HookedStore>(open_store(url, OpenMode::existing));
  store->before_load = [&] { Database::open(url).load(first); };
  Database db(std::move(store));
  CHECK_THROWS_WITH(db.load(small_world()),
                    Catch::StartsWith("the store already holds data; loading would mix two"));
  CHECK(Database::open(url).resolve("china").size() == 3);  // the first load stands
}

TEST_CASE("loaded prices follow the batches' rule: positive and at most max_price",
          "[conformance][load]") {
  Database db = fresh();
  Dataset bad = small_world();
  bad.prices.push_back({"CNSHA", "NOOSL", day("2024-03-05"), 0});
  bad.prices.push_back({"CNSHA", "NOOSL", day("2024-03-05"), -5});
  bad.price_lines.assign(bad.prices.size(), 0);
  for (std::size_t i = 0; i < bad.prices.size(); ++i) bad.price_lines[i] = 100 + std::int64_t(i);
  try {
    db.load(bad);
    FAIL("prices of 0 and -5 loaded");
  } catch (const ValidationFailed& e) {
    REQUIRE(e.errors().size() == 2);
    const auto n = std::int64_t(bad.prices.size());
    CHECK(e.errors()[0] == RowError{100 + n - 2, "price", "price 0 is not positive"});
    CHECK(e.errors()[1] == RowError{100 + n - 1, "price", "price -5 is not positive"});
  }
  CHECK(db.store().empty());
  Options options;
  options.max_price = 1100;
  Database capped = Database::open(test::new_store_url(), OpenMode::create, options);
  CHECK_THROWS_WITH(capped.load(small_world()), "the data has 4 bad rows; nothing was loaded");
}

TEST_CASE("a dump with broken rows is rejected naming the line", "[conformance][load]") {
  const auto path = std::filesystem::temp_directory_path() /
                    fmt::format("prkl-bad-dump-{}-{}.sql", test::backend_name(), getpid());
  struct Remove {
    std::filesystem::path path;
    ~Remove() { std::filesystem::remove(path); }
  } remove_at_end{path};
  {
    std::ofstream out(path);
    out << "COPY public.regions (slug, name, parent_slug) FROM stdin;\n"
           "a\tA\tb\nb\tB\ta\n\\.\n"
           "COPY public.ports (code, name, parent_slug) FROM stdin;\n"
           "AAAAA\tPort\tnowhere\n\\.\n"
           "COPY public.prices (orig_code, dest_code, day, price) FROM stdin;\n"
           "AAAAA\tBBBBB\t2024-01-01\t5\n\\.\n";
  }
  Database db = fresh();
  try {
    db.import_dump(path);
    FAIL("a broken dump loaded");
  } catch (const ValidationFailed& e) {
    const std::vector<std::int64_t> lines{3, 6, 9};
    std::vector<std::int64_t> got;
    for (const auto& error : e.errors()) {
      if (got.empty() || got.back() != error.row) got.push_back(error.row);
    }
    CHECK(got == lines);
  }
  CHECK(db.store().empty());
}

namespace {

std::string quoted_list(const std::vector<std::string>& codes) {
  std::string out;
  for (const std::string& code : codes) out += fmt::format("{}'{}'", out.empty() ? "" : ", ", code);
  return out.empty() ? "NULL" : out;
}

// The question answered by plain SQL over the prices table, with the backend's own client.
std::vector<RateDay> rates_by_plain_sql(Database& db, const std::string& url, const RatesQuery& q) {
  const auto rows = test::run_sql(
      url, fmt::format("SELECT CAST(day AS TEXT), count(*), sum(price), min(price), max(price)\n"
                       "FROM prices WHERE orig_code IN ({}) AND dest_code IN ({})\n"
                       "  AND day BETWEEN '{}' AND '{}'\n"
                       "GROUP BY day ORDER BY day",
                       quoted_list(db.resolve(q.origin)), quoted_list(db.resolve(q.destination)),
                       format_date(q.date_from), format_date(q.date_to)));
  std::vector<RateDay> out;
  auto row = rows.begin();
  for (Date d = q.date_from; d <= q.date_to; d += std::chrono::days{1}) {
    RateDay rate{d, 0, std::nullopt, std::nullopt, std::nullopt};
    if (row != rows.end() && parse_date(*(*row)[0]) == d) {
      rate.count = std::stoll(*(*row)[1]);
      rate.min = std::stoi(*(*row)[3]);
      rate.max = std::stoi(*(*row)[4]);
      if (rate.count >= q.min_count) {
        const std::int64_t sum = std::stoll(*(*row)[2]);
        rate.average = exact_average(sum, rate.count, q.scale);
        rate.average_double = double(sum) / double(rate.count);  // both exact: one rounding
      }
      ++row;
    }
    out.push_back(rate);
  }
  return out;
}

}  // namespace

TEST_CASE("answers match plain SQL after random writes by prkl and by other SQL clients",
          "[conformance][foreign]") {
  GeneratorOptions options;
  options.seed = 11;
  options.ports = 40;
  options.lanes = 150;
  options.days = 20;
  const Dataset data = generate(options);
  const std::string url = test::new_store_url();
  Database reader = Database::open(url, OpenMode::create);
  reader.load(data);
  // A second prkl writer with a connection (and an in-memory copy) of its own, as another
  // process would have.
  Database writer(open_store(url, OpenMode::existing));

  std::mt19937_64 random(20261123);
  const auto pick = [&](std::size_t n) { return std::size_t(random() % n); };
  const auto any_port = [&] { return data.ports[pick(data.ports.size())].code; };
  const auto any_day = [&] {
    // Mostly inside the generated days, sometimes just outside them.
    return format_date(options.first_day + std::chrono::days{std::int64_t(pick(24)) - 2});
  };
  const auto existing_lane_day = [&]() -> std::optional<std::array<std::string, 3>> {
    const auto rows = test::run_sql(url,
                                    "SELECT orig_code, dest_code, CAST(day AS TEXT) FROM prices "
                                    "ORDER BY orig_code, dest_code, day");
    if (rows.empty()) return std::nullopt;
    const auto& row = rows[pick(rows.size())];
    return std::array<std::string, 3>{*row[0], *row[1], *row[2]};
  };
  std::vector<std::string> locations = {"world", "china", "north_europe", "west_europe_main"};
  for (int i = 0; i < 6; ++i) locations.push_back(any_port());

  const auto check_answers = [&](const std::string& after) {
    INFO("after " << after);
    for (int q = 0; q < 6; ++q) {
      const Date from = options.first_day + std::chrono::days{std::int64_t(pick(22)) - 1};
      const RatesQuery query{from,
                             from + std::chrono::days{std::int64_t(pick(10))},
                             locations[pick(locations.size())],
                             locations[pick(locations.size())],
                             std::int64_t(1 + pick(3)),
                             int(pick(3))};
      INFO(query.origin << " -> " << query.destination << " " << format_date(query.date_from)
                        << ".." << format_date(query.date_to));
      const auto expected = rates_by_plain_sql(reader, url, query);
      CHECK(reader.rates(query) == expected);
      CHECK(writer.rates(query) == expected);
    }
  };

  check_answers("the load");
  for (int step = 0; step < 60; ++step) {
    std::string sql;
    switch (pick(8)) {
      case 0:  // rows on new lanes, and extremes on a lane-day that has prices
        for (int i = 0, n = int(1 + pick(3)); i < n; ++i) {
          sql += fmt::format(
              "INSERT INTO prices (orig_code, dest_code, day, price) VALUES ('{}', '{}', '{}', "
              "{});\n",
              any_port(), any_port(), any_day(), 1 + pick(5000));
        }
        if (const auto at = existing_lane_day()) {
          sql += fmt::format(
              "INSERT INTO prices (orig_code, dest_code, day, price) VALUES ('{0}', '{1}', '{2}', "
              "{3}), ('{0}', '{1}', '{2}', {4});\n",
              (*at)[0], (*at)[1], (*at)[2], 1 + pick(50), 20000 + pick(50));
        }
        break;
      case 1:  // a lane-day emptied
        if (const auto at = existing_lane_day()) {
          sql = fmt::format(
              "DELETE FROM prices WHERE orig_code = '{}' AND dest_code = '{}' AND day = '{}'",
              (*at)[0], (*at)[1], (*at)[2]);
        }
        break;
      case 2:  // the lowest price of a lane-day removed: its min must move
        if (const auto at = existing_lane_day()) {
          sql = fmt::format(
              "DELETE FROM prices WHERE orig_code = '{0}' AND dest_code = '{1}' AND day = '{2}' "
              "AND price = (SELECT min(price) FROM prices WHERE orig_code = '{0}' AND "
              "dest_code = '{1}' AND day = '{2}')",
              (*at)[0], (*at)[1], (*at)[2]);
        }
        break;
      case 3:  // prices changed in place, up or down
        if (const auto at = existing_lane_day()) {
          sql = fmt::format(
              "UPDATE prices SET price = price + {} WHERE orig_code = '{}' AND dest_code = '{}' "
              "AND day >= '{}'",
              int(pick(200)) - 100 + 101, (*at)[0], (*at)[1], (*at)[2]);
        }
        break;
      case 4:  // rows moved to another lane and day
        if (const auto at = existing_lane_day()) {
          sql = fmt::format(
              "UPDATE prices SET dest_code = '{}', day = '{}' WHERE orig_code = '{}' AND "
              "dest_code = '{}' AND day = '{}'",
              any_port(), any_day(), (*at)[0], (*at)[1], (*at)[2]);
        }
        break;
      case 5:  // several statements in one transaction
        if (const auto at = existing_lane_day()) {
          sql = fmt::format(
              "BEGIN;\n"
              "INSERT INTO prices (orig_code, dest_code, day, price) VALUES ('{0}', '{1}', '{2}', "
              "7), ('{0}', '{1}', '{2}', 9000);\n"
              "DELETE FROM prices WHERE orig_code = '{0}' AND dest_code = '{1}' AND price = 7;\n"
              "UPDATE prices SET price = price * 2 WHERE orig_code = '{0}' AND price = 9000;\n"
              "COMMIT;",
              (*at)[0], (*at)[1], (*at)[2]);
        }
        break;
      case 6: {  // a prkl batch from the other connection
        std::vector<BatchRow> rows;
        for (int i = 0, n = int(1 + pick(20)); i < n; ++i) {
          rows.push_back(BatchRow::single(any_port(), any_port(), parse_date(any_day()),
                                          std::int32_t(1 + pick(5000))));
        }
        std::erase_if(rows, [](const BatchRow& r) { return r.origin == r.destination; });
        if (const auto at = existing_lane_day()) {
          for (const std::int64_t price : {std::int64_t(1 + pick(50)), std::int64_t(30000)}) {
            rows.push_back(BatchRow::single((*at)[0], (*at)[1], parse_date((*at)[2]), price));
          }
        }
        if (!rows.empty()) writer.apply({fmt::format("step-{}", step), rows});
        check_answers(fmt::format("step {}: a prkl batch", step));
        continue;
      }
      default:  // rarely, everything goes
        if (pick(4) == 0) {
          sql = test::backend_name() == "postgresql" ? "TRUNCATE prices" : "DELETE FROM prices";
        }
    }
    if (sql.empty()) continue;
    test::run_sql(url, sql);
    check_answers(fmt::format("step {}: {}", step, sql));
  }
  // A Database that loads everything now agrees with the ones that caught up step by step.
  Database cold(open_store(url, OpenMode::existing));
  for (const auto& origin : {"world", "china"}) {
    const RatesQuery query{options.first_day - std::chrono::days{2},
                           options.first_day + std::chrono::days{25},
                           origin,
                           "world",
                           1,
                           2};
    CHECK(cold.rates(query) == reader.rates(query));
  }
  // An import with replace starts a new epoch: the copies reload instead of catching up.
  reader.load(data, true);
  check_answers("a replacing load");
}

TEST_CASE("the in-memory copy stays within 64 bytes per lane-day, sparse or dense",
          "[conformance]") {
  // One lane per port or so (where per-port sums would only double the memory) and many lanes
  // per port (where they pay for themselves).
  for (const auto& [ports, lanes] : {std::pair{600, 300}, std::pair{60, 1500}}) {
    GeneratorOptions options;
    options.ports = ports;
    options.lanes = lanes;
    options.days = 60;
    Database db = fresh();
    db.load(generate(options));
    db.rates({options.first_day, options.first_day + std::chrono::days{30}, "world", "world"});
    const CacheStats stats = db.cache_stats();
    INFO(ports << " ports, " << lanes << " lanes: " << stats.bytes << " bytes, " << stats.lane_days
               << " lane-days");
    CHECK(stats.lanes == lanes);
    CHECK(stats.bytes <= 64 * stats.lane_days);
  }
}
