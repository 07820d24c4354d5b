// Rates on SQLite: prkl next to the plain way (one hand-written recursive-CTE query, the kind the
// ratestask solutions use), on the same database file in the same process.
//
//   build/bench/prkl_bench_sqlite [DUMP.sql | --generate LANES DAYS] [--origin LOC --destination
//   LOC]
//
// Prints the import time, then the median time of each way for the same questions and the ratio.

#include <fmt/format.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <prkl/prkl.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double median_us(int runs, const std::function<void()>& work) {
  std::vector<double> times;
  for (int i = 0; i < runs; ++i) {
    const auto start = Clock::now();
    work();
    times.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

// The plain way: locations resolved by recursive CTEs, days generated in SQL, one query.
constexpr const char* baseline_sql = R"(
WITH RECURSIVE
  o_regions(slug) AS (SELECT ?1 UNION SELECT r.slug FROM regions r JOIN o_regions o ON r.parent_slug = o.slug),
  d_regions(slug) AS (SELECT ?2 UNION SELECT r.slug FROM regions r JOIN d_regions d ON r.parent_slug = d.slug),
  o_ports(code) AS (SELECT code FROM ports WHERE code = ?1 OR parent_slug IN (SELECT slug FROM o_regions)),
  d_ports(code) AS (SELECT code FROM ports WHERE code = ?2 OR parent_slug IN (SELECT slug FROM d_regions)),
  days(day) AS (SELECT ?3 UNION ALL SELECT date(day, '+1 day') FROM days WHERE day < ?4)
SELECT days.day, count(p.price),
       CASE WHEN count(p.price) >= 3 THEN CAST(round(avg(p.price)) AS INTEGER) END
FROM days LEFT JOIN prices p
  ON p.day = days.day
 AND p.orig_code IN (SELECT code FROM o_ports)
 AND p.dest_code IN (SELECT code FROM d_ports)
GROUP BY days.day ORDER BY days.day)";

struct Baseline {
  sqlite3* db = nullptr;
  sqlite3_stmt* stmt = nullptr;
  explicit Baseline(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(db, baseline_sql, -1, &stmt, nullptr) != SQLITE_OK) {
      throw std::runtime_error(sqlite3_errmsg(db));
    }
  }
  ~Baseline() {
    sqlite3_finalize(stmt);
    sqlite3_close(db);
  }
  std::int64_t run(const std::string& origin, const std::string& destination,
                   const std::string& from, const std::string& to) {
    sqlite3_reset(stmt);
    sqlite3_bind_text(stmt, 1, origin.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 2, destination.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 3, from.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 4, to.c_str(), -1, SQLITE_TRANSIENT);
    std::int64_t total = 0;
    while (sqlite3_step(stmt) == SQLITE_ROW) total += sqlite3_column_int64(stmt, 1);
    return total;
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string dump = "../shared/data/xeneta/ratestask-2016.sql";
  std::string origin = "china_main", destination = "northern_europe";
  std::string from = "2016-01-01", to = "2016-01-31";
  std::int64_t lanes = 0, days = 0;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--generate" && i + 2 < args.size()) {
      lanes = std::stoll(args[++i]);
      days = std::stoll(args[++i]);
    } else if (args[i] == "--origin" && i + 1 < args.size()) {
      origin = args[++i];
    } else if (args[i] == "--destination" && i + 1 < args.size()) {
      destination = args[++i];
    } else {
      dump = args[i];
    }
  }

  const auto path =
      std::filesystem::temp_directory_path() / fmt::format("prkl-bench-{}.db", getpid());
  auto db = prkl::Database::open("sqlite:" + path.string(), prkl::OpenMode::create);
  const auto load_start = Clock::now();
  std::string source;
  if (lanes > 0) {
    prkl::GeneratorOptions options;
    options.ports = 1000;
    options.lanes = lanes;
    options.days = days;
    options.first_day = prkl::parse_date("2016-01-01");
    source = fmt::format("generated: {} lanes x {} days", lanes, days);
    db.load(prkl::generate(options));
    if (origin == "china_main") origin = "china";
    if (destination == "northern_europe") destination = "north_europe";
    to = prkl::format_date(options.first_day +
                           std::chrono::days{std::min<std::int64_t>(days, 31) - 1});
  } else {
    source = dump;
    db.import_dump(dump);
  }
  const double load_s = std::chrono::duration<double>(Clock::now() - load_start).count();

  const prkl::RatesQuery query{prkl::parse_date(from), prkl::parse_date(to), origin, destination};
  std::int64_t prkl_total = 0;
  for (const auto& d : db.rates(query)) prkl_total += d.count;
  Baseline baseline(path.string());
  const std::int64_t baseline_total = baseline.run(origin, destination, from, to);
  if (prkl_total != baseline_total) {
    fmt::print(stderr, "answers differ: prkl {} prices, baseline {}\n", prkl_total, baseline_total);
    return 1;
  }

  const int runs = 51;
  const double prkl_us = median_us(runs, [&] { db.rates(query); });
  const double baseline_us = median_us(runs, [&] { baseline.run(origin, destination, from, to); });
  fmt::print("data: {}\nload (read + validate + write, one transaction): {:.3f} s\n", source,
             load_s);
  fmt::print("query: {} -> {}, {}..{}, {} prices counted; median of {} runs\n", origin, destination,
             from, to, prkl_total, runs);
  fmt::print("  prkl rates()              {:10.1f} us\n", prkl_us);
  fmt::print("  recursive-CTE SQL, SQLite {:10.1f} us\n", baseline_us);
  fmt::print("  speed-up                  {:10.1f} x\n", baseline_us / prkl_us);
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
}
