// SPDX-License-Identifier: MIT
// prkl next to the plain way, side by side in one process: rates on SQLite and PostgreSQL
// against the hand-written recursive-CTE SQL on PostgreSQL, cold start, batch writes against a
// plain COPY (PostgreSQL) and a plain prepared-insert loop (SQLite), and readers while a large
// batch is applied. bench/run.sh runs it for each data size and writes docs/benchmarks.md.
//
//   prkl_bench --data real --dump PATH | --data LANES   (generated: 1,000 ports, a year of days)
//              --pg SERVER_CONNINFO --work DIR [--writes] [--readers] [--no-pg] [--smoke]
//
// Every figure is checked first: prkl on both backends and the plain SQL must give the same
// answer, or the program stops. One JSON object per measurement goes to stdout; a readable line
// for each goes to stderr.

#include <fmt/format.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <prkl/prkl.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

struct Timing {
  double median_ms = 0, p99_ms = 0, max_ms = 0;
  int runs = 0;
};

Timing summarize(std::vector<double> times) {
  std::sort(times.begin(), times.end());
  const auto at = [&](double q) { return times[std::size_t(q * double(times.size() - 1))]; };
  return {at(0.5), at(0.99), times.back(), int(times.size())};
}

Timing time_runs(int runs, const std::function<void()>& work) {
  work();  // warm
  std::vector<double> times;
  for (int i = 0; i < runs; ++i) {
    const auto start = Clock::now();
    work();
    times.push_back(ms_since(start));
  }
  return summarize(std::move(times));
}

void emit(json record) {
  fmt::print("{}\n", record.dump());
  std::fflush(stdout);
  fmt::print(stderr, "  {}\n", record.dump());
}

std::string text(const std::optional<prkl::Decimal>& value) {
  return value ? value->to_string() : "null";
}

std::vector<std::string> band_answer(const prkl::MarketAnswer& answer) {
  std::vector<std::string> out;
  for (const auto& d : answer.days) {
    const std::string values =
        d.median ? fmt::format("{},{},{},{},{},{}", text(d.low), text(d.midlow), text(d.median),
                               text(d.mean), text(d.midhigh), text(d.high))
                 : "null";
    out.push_back(fmt::format("{} {}", prkl::format_date(d.day), values));
  }
  return out;
}

std::vector<std::string> rank_answer(const std::vector<prkl::RankDay>& days) {
  std::vector<std::string> out;
  for (const auto& d : days) {
    const std::string values =
        d.percent_rank ? fmt::format("{},{}", text(d.percent_rank), text(d.cume_dist)) : "null";
    out.push_back(fmt::format("{} {}", prkl::format_date(d.day), values));
  }
  return out;
}

std::vector<std::string> percentile_answer(const std::vector<prkl::RateDay>& days) {
  std::vector<std::string> out;
  for (const auto& d : days) {
    std::string values;
    for (const auto& p : d.percentiles) {
      if (!values.empty()) values += ',';
      values += p.value ? p.value->to_string() : "null";
    }
    if (values == "null,null,null") values = "null";
    out.push_back(fmt::format("{} {}", prkl::format_date(d.day), values));
  }
  return out;
}

// Per day: count and, from 3 prices on, the average rounded half away from zero to a dollar.
using DayAnswer = std::map<std::string, std::pair<std::int64_t, std::string>>;

DayAnswer answer_of(const std::vector<prkl::RateDay>& days) {
  DayAnswer out;
  for (const auto& d : days) {
    out[prkl::format_date(d.day)] = {d.count, d.average ? d.average->to_string() : "null"};
  }
  return out;
}

// The port sets of $1 and $2, as the ratestask solutions resolve them: recursive CTEs.
constexpr const char* locations_sql = R"(
WITH RECURSIVE
  o_regions AS (SELECT slug FROM regions WHERE slug = $1
                UNION SELECT r.slug FROM regions r JOIN o_regions o ON r.parent_slug = o.slug),
  d_regions AS (SELECT slug FROM regions WHERE slug = $2
                UNION SELECT r.slug FROM regions r JOIN d_regions d ON r.parent_slug = d.slug),
  o_ports AS (SELECT code FROM ports WHERE code = $1 OR parent_slug IN (SELECT slug FROM o_regions)),
  d_ports AS (SELECT code FROM ports WHERE code = $2 OR parent_slug IN (SELECT slug FROM d_regions))
)";

// The plain way on PostgreSQL: locations resolved by recursive CTEs, days by generate_series,
// one query sent with PQexecParams, as a ratestask-style Flask + psycopg2 app asks.
class PlainPostgres {
 public:
  explicit PlainPostgres(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {
    if (PQstatus(conn_) != CONNECTION_OK) throw std::runtime_error(PQerrorMessage(conn_));
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
  }
  ~PlainPostgres() { PQfinish(conn_); }
  PlainPostgres(const PlainPostgres&) = delete;
  PlainPostgres& operator=(const PlainPostgres&) = delete;

  PGresult* exec(const std::string& sql, const std::vector<std::string>& params = {}) {
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p.c_str());
    PGresult* r = PQexecParams(conn_, sql.c_str(), int(values.size()), nullptr, values.data(),
                               nullptr, nullptr, 0);
    const auto status = PQresultStatus(r);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_COPY_IN) {
      const std::string message = PQresultErrorMessage(r);
      PQclear(r);
      throw std::runtime_error(sql.substr(0, 80) + ": " + message);
    }
    return r;
  }
  // Several statements at once, no parameters.
  void run(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    const auto status = PQresultStatus(r);
    const std::string message = PQresultErrorMessage(r);
    PQclear(r);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      throw std::runtime_error(sql.substr(0, 80) + ": " + message);
    }
  }

  DayAnswer rates(const std::string& origin, const std::string& destination,
                  const std::string& from, const std::string& to) {
    PGresult* r = exec(std::string(locations_sql) + R"(SELECT d.day::date::text, count(p.price),
       CASE WHEN count(p.price) >= 3 THEN round(avg(p.price))::text ELSE 'null' END
FROM generate_series($3::date, $4::date, interval '1 day') AS d(day)
LEFT JOIN prices p ON p.day = d.day::date
  AND p.orig_code IN (SELECT code FROM o_ports) AND p.dest_code IN (SELECT code FROM d_ports)
GROUP BY d.day ORDER BY d.day)",
                       {origin, destination, from, to});
    DayAnswer out;
    for (int i = 0; i < PQntuples(r); ++i) {
      out[PQgetvalue(r, i, 0)] = {std::stoll(PQgetvalue(r, i, 1)), PQgetvalue(r, i, 2)};
    }
    PQclear(r);
    return out;
  }

  // The same question with percentile_cont, per day, as a hand-written report would ask it.
  std::vector<std::string> percentiles(const std::string& origin, const std::string& destination,
                                       const std::string& from, const std::string& to) {
    return per_day(origin, destination, from, to, "TRUE", R"(CASE WHEN count(p.price) >= 3 THEN
         concat_ws(',', round(percentile_cont(0.25) WITHIN GROUP (ORDER BY p.price)::numeric),
                        round(percentile_cont(0.5) WITHIN GROUP (ORDER BY p.price)::numeric),
                        round(percentile_cont(0.75) WITHIN GROUP (ORDER BY p.price)::numeric))
       ELSE 'null' END)");
  }

  // "day value" per day of the range, `value` an aggregate over the lane's prices `p` of it
  // that meet `only`.
  std::vector<std::string> per_day(const std::string& origin, const std::string& destination,
                                   const std::string& from, const std::string& to,
                                   const std::string& only, const std::string& value) {
    PGresult* r = exec(std::string(locations_sql) + "SELECT d.day::date::text, " + value + R"(
FROM generate_series($3::date, $4::date, interval '1 day') AS d(day)
LEFT JOIN prices p ON p.day = d.day::date AND )" +
                           only + R"(
  AND p.orig_code IN (SELECT code FROM o_ports) AND p.dest_code IN (SELECT code FROM d_ports)
GROUP BY d.day ORDER BY d.day)",
                       {origin, destination, from, to});
    std::vector<std::string> out;
    for (int i = 0; i < PQntuples(r); ++i) {
      out.push_back(fmt::format("{} {}", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1)));
    }
    PQclear(r);
    return out;
  }

  // The market's band per day with percentile_cont and avg: what prkl's market() answers.
  // `only`: a condition on the prices `p` the band counts (a filter), TRUE for all.
  std::vector<std::string> band(const std::string& origin, const std::string& destination,
                                const std::string& from, const std::string& to,
                                const std::string& only = "TRUE") {
    return per_day(origin, destination, from, to, only, R"(CASE WHEN count(p.price) >= 3 THEN
         concat_ws(',', round(percentile_cont(0.025) WITHIN GROUP (ORDER BY p.price)::numeric),
                        round(percentile_cont(0.25) WITHIN GROUP (ORDER BY p.price)::numeric),
                        round(percentile_cont(0.5) WITHIN GROUP (ORDER BY p.price)::numeric),
                        round(avg(p.price)),
                        round(percentile_cont(0.75) WITHIN GROUP (ORDER BY p.price)::numeric),
                        round(percentile_cont(0.975) WITHIN GROUP (ORDER BY p.price)::numeric))
       ELSE 'null' END)");
  }

  // Where `price` stands per day, with the hypothetical-set aggregates.
  std::vector<std::string> rank(const std::string& origin, const std::string& destination,
                                const std::string& from, const std::string& to,
                                std::int64_t price) {
    return per_day(origin, destination, from, to, "TRUE",
                   fmt::format(R"(CASE WHEN count(p.price) >= 1 THEN
         concat_ws(',', round((percent_rank({0}) WITHIN GROUP (ORDER BY p.price))::numeric, 6),
                        round((cume_dist({0}) WITHIN GROUP (ORDER BY p.price))::numeric, 6))
       ELSE 'null' END)",
                               price));
  }

  void copy(const std::string& table, const std::string& rows) {
    run("BEGIN");
    PQclear(exec(fmt::format("COPY {} (orig_code, dest_code, day, price) FROM STDIN", table)));
    for (std::size_t at = 0; at < rows.size(); at += 1 << 20) {
      const auto part = std::string_view(rows).substr(at, 1 << 20);
      if (PQputCopyData(conn_, part.data(), int(part.size())) != 1) {
        throw std::runtime_error(PQerrorMessage(conn_));
      }
    }
    if (PQputCopyEnd(conn_, nullptr) != 1) throw std::runtime_error(PQerrorMessage(conn_));
    PGresult* r = PQgetResult(conn_);
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    while ((r = PQgetResult(conn_))) PQclear(r);
    if (!ok) throw std::runtime_error(PQerrorMessage(conn_));
    run("COMMIT");
  }

 private:
  PGconn* conn_;
};

// The plain way to write on SQLite: one transaction, one prepared INSERT reused per row.
class PlainSqlite {
 public:
  explicit PlainSqlite(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) throw std::runtime_error("open");
    sqlite3_busy_timeout(db_, 60'000);
    exec("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL");
  }
  ~PlainSqlite() { sqlite3_close(db_); }
  PlainSqlite(const PlainSqlite&) = delete;
  PlainSqlite& operator=(const PlainSqlite&) = delete;

  void exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      const std::string message = error ? error : "?";
      sqlite3_free(error);
      throw std::runtime_error(sql.substr(0, 80) + ": " + message);
    }
  }

  void insert(const std::string& table, const std::vector<prkl::Price>& prices) {
    exec("BEGIN IMMEDIATE");
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(
        db_,
        fmt::format("INSERT INTO {} (orig_code, dest_code, day, price) VALUES (?, ?, ?, ?)", table)
            .c_str(),
        -1, &stmt, nullptr);
    for (const prkl::Price& p : prices) {
      sqlite3_reset(stmt);
      sqlite3_bind_text(stmt, 1, p.origin.data(), int(p.origin.size()), SQLITE_STATIC);
      sqlite3_bind_text(stmt, 2, p.destination.data(), int(p.destination.size()), SQLITE_STATIC);
      const std::string day = prkl::format_date(p.day);
      sqlite3_bind_text(stmt, 3, day.data(), int(day.size()), SQLITE_TRANSIENT);
      sqlite3_bind_int64(stmt, 4, p.price);
      if (sqlite3_step(stmt) != SQLITE_DONE) throw std::runtime_error(sqlite3_errmsg(db_));
    }
    sqlite3_finalize(stmt);
    exec("COMMIT");
  }

 private:
  sqlite3* db_ = nullptr;
};

struct Question {
  std::string name, origin, destination, from, to;
};

struct Backend {
  std::string name, url;
  std::optional<prkl::Database> db;
};

std::string copy_text(const std::vector<prkl::Price>& prices) {
  std::string out;
  for (const auto& p : prices) {
    out +=
        fmt::format("{}\t{}\t{}\t{}\n", p.origin, p.destination, prkl::format_date(p.day), p.price);
  }
  return out;
}

prkl::Batch batch_of(const std::string& id, const std::vector<prkl::Price>& prices) {
  prkl::Batch batch{id, {}};
  batch.rows.reserve(prices.size());
  for (const auto& p : prices) {
    batch.rows.push_back(prkl::BatchRow::single(p.origin, p.destination, p.day, p.price));
  }
  return batch;
}

// `count` prices on existing lanes for days starting at `first`, about three per lane and day
// (the generator's mix), lane after lane: the shape of a daily or weekly upload.
std::vector<prkl::Price> new_prices(const std::vector<std::pair<std::string, std::string>>& lanes,
                                    prkl::Date first, std::int64_t days, std::int64_t count,
                                    std::uint64_t seed) {
  std::vector<prkl::Price> out;
  out.reserve(std::size_t(count));
  std::uint64_t state = seed;
  const auto next = [&] {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  for (std::size_t lane = 0; std::int64_t(out.size()) < count; lane = (lane + 1) % lanes.size()) {
    for (std::int64_t d = 0; d < days && std::int64_t(out.size()) < count; ++d) {
      for (std::uint64_t i = 0, n = next() % 7; i < n && std::int64_t(out.size()) < count; ++i) {
        out.push_back({lanes[lane].first, lanes[lane].second, first + std::chrono::days{d},
                       std::int32_t(300 + next() % 4000)});
      }
    }
  }
  return out;
}

}  // namespace

// The market's band and rank of every question, checked against the plain SQL (percentile_cont,
// avg, percent_rank, cume_dist) first, then timed on each backend and in plain SQL.
template <typename Plain, typename Record>
void measure_market(const std::vector<Question>& questions, std::vector<Backend>& backends,
                    Plain* plain, bool smoke, const Record& record) {
  constexpr std::int64_t price = 1500;  // near the middle of the generated and the real prices
  for (const Question& q : questions) {
    const prkl::Date from = prkl::parse_date(q.from), to = prkl::parse_date(q.to);
    const prkl::MarketQuery band{from, to, q.origin, q.destination};
    const prkl::RankQuery rank{from, to, q.origin, q.destination, prkl::Decimal{price, 0}};
    std::optional<std::vector<std::string>> expected_band, expected_rank;
    if (plain) {
      expected_band = plain->band(q.origin, q.destination, q.from, q.to);
      expected_rank = plain->rank(q.origin, q.destination, q.from, q.to, price);
    }
    for (Backend& b : backends) {
      // The first band reads the lanes the copy's prices lack (those of a question before it
      // may be there already); the timed ones after it answer from memory.
      const auto first = Clock::now();
      const auto got_band = band_answer(b.db->market(band));
      record({{"what", "band_first"},
              {"question", q.name},
              {"backend", b.name},
              {"way", "prkl"},
              {"ms", ms_since(first)}});
      const auto got_rank = rank_answer(b.db->rank(rank));
      if (!expected_band) expected_band = got_band, expected_rank = got_rank;
      if (got_band != *expected_band || got_rank != *expected_rank) {
        throw std::runtime_error(
            fmt::format("market {}: prkl on {} and the plain SQL disagree", q.name, b.name));
      }
      for (const auto& [what, ask] :
           {std::pair<const char*, std::function<void()>>{"band", [&] { b.db->market(band); }},
            {"rank", [&] { b.db->rank(rank); }}}) {
        const Timing t = time_runs(smoke ? 3 : 21, ask);
        record({{"what", what},
                {"question", q.name},
                {"backend", b.name},
                {"way", "prkl"},
                {"median_ms", t.median_ms},
                {"p99_ms", t.p99_ms},
                {"runs", t.runs}});
      }
    }
    for (Backend& b : backends) {
      const prkl::CacheStats stats = b.db->cache_stats();
      record({{"what", "copied_prices"},
              {"question", q.name},
              {"backend", b.name},
              {"prices", stats.prices},
              {"bytes", stats.price_bytes}});
    }
    if (!plain) continue;
    for (const char* what : {"band", "rank"}) {
      const Timing t = time_runs(smoke ? 1 : 3, [&] {
        if (std::string_view(what) == "band") {
          plain->band(q.origin, q.destination, q.from, q.to);
        } else {
          plain->rank(q.origin, q.destination, q.from, q.to, price);
        }
      });
      record({{"what", what},
              {"question", q.name},
              {"backend", "postgresql"},
              {"way", "plain_sql"},
              {"median_ms", t.median_ms},
              {"runs", t.runs}});
    }
  }
}

// The band under a filter (40HC or 40DC, short term, received at most 14 days before the day)
// beside the same band unfiltered: a filter reads the prices it keeps, where the unfiltered
// band reads them all. Checked against the plain SQL with the same conditions first.
template <typename Plain, typename Record>
void measure_filtered_band(const std::vector<Question>& questions, std::vector<Backend>& backends,
                           Plain* plain, bool smoke, const Record& record) {
  const prkl::PriceFilter filter{{"40HC", "40DC"}, prkl::Term::short_term, 14};
  const std::string only =
      "p.equipment IN ('40HC', '40DC') AND p.term = 'short' "
      "AND p.day - coalesce(p.received, p.day) <= 14";
  for (const Question& q : questions) {
    prkl::MarketQuery band{prkl::parse_date(q.from), prkl::parse_date(q.to), q.origin,
                           q.destination};
    band.filter = filter;
    std::optional<std::vector<std::string>> expected;
    if (plain) expected = plain->band(q.origin, q.destination, q.from, q.to, only);
    for (Backend& b : backends) {
      const auto got = band_answer(b.db->market(band));
      if (!expected) expected = got;
      if (got != *expected) {
        throw std::runtime_error(
            fmt::format("filtered band {}: prkl on {} and the plain SQL disagree", q.name, b.name));
      }
      const Timing t = time_runs(smoke ? 3 : 21, [&] { b.db->market(band); });
      record({{"what", "band_filtered"},
              {"question", q.name},
              {"backend", b.name},
              {"way", "prkl"},
              {"median_ms", t.median_ms},
              {"p99_ms", t.p99_ms},
              {"runs", t.runs}});
    }
    if (!plain) continue;
    const Timing t =
        time_runs(smoke ? 1 : 3, [&] { plain->band(q.origin, q.destination, q.from, q.to, only); });
    record({{"what", "band_filtered"},
            {"question", q.name},
            {"backend", "postgresql"},
            {"way", "plain_sql"},
            {"median_ms", t.median_ms},
            {"runs", t.runs}});
  }
}

int main(int argc, char** argv) try {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string data_arg = "real", dump, server, work = "/tmp";
  bool writes = false, readers = false, with_pg = true, smoke = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto value = [&] {
      if (i + 1 >= args.size()) throw std::runtime_error(args[i] + " needs a value");
      return args[++i];
    };
    if (args[i] == "--data") {
      data_arg = value();
    } else if (args[i] == "--dump") {
      dump = value();
    } else if (args[i] == "--pg") {
      server = value();
    } else if (args[i] == "--work") {
      work = value();
    } else if (args[i] == "--writes") {
      writes = true;
    } else if (args[i] == "--readers") {
      readers = true;
    } else if (args[i] == "--no-pg") {
      with_pg = false;
    } else if (args[i] == "--smoke") {
      smoke = true;
    } else {
      throw std::runtime_error("unknown argument " + args[i]);
    }
  }
  if (with_pg && server.empty()) throw std::runtime_error("--pg SERVER_CONNINFO is needed");

  // The data set, and the questions asked of it.
  prkl::Dataset data;
  std::vector<Question> questions;
  std::string label;
  prkl::Date first_day = prkl::parse_date("2016-01-01");
  std::int64_t days = 0;
  if (data_arg == "real") {
    data = prkl::read_dump(dump);
    label = "real";
    questions = {{"region_month", "china_main", "northern_europe", "2016-01-01", "2016-01-31"}};
  } else {
    prkl::GeneratorOptions options;
    options.ports = 1000;
    options.lanes = std::stoll(data_arg);
    options.days = days = smoke ? 60 : 365;
    options.first_day = first_day;
    options.dimensions = true;  // the same prices, with the market's mix of dimensions
    data = prkl::generate(options);
    label = fmt::format("{:.0f}M", double(data.prices.size()) / 1e6);
    if (data.prices.size() < 500'000) label = fmt::format("{}k", data.prices.size() / 1000);
    const std::string last = prkl::format_date(first_day + std::chrono::days{days - 1});
    questions = {{"region_month", "china", "north_europe", "2016-02-01", "2016-02-29"},
                 {"region_year", "china", "north_europe", "2016-01-01", last},
                 {"world_month", "world", "world", "2016-02-01", "2016-02-29"}};
  }
  const auto prices = std::int64_t(data.prices.size());
  fmt::print(stderr, "data {}: {} prices\n", label, prices);
  const json base = {{"data", label}, {"prices", prices}};
  const auto record = [&](json fields) {
    json r = base;
    r.update(fields);
    emit(r);
  };

  const std::string db_name = fmt::format("prkl_bench_{}", data_arg);
  std::filesystem::create_directories(work);
  const std::string sqlite_path = fmt::format("{}/{}.db", work, db_name);
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(sqlite_path + suffix);
  const std::string pg_url =
      server.substr(0, server.rfind(" dbname=")) + fmt::format(" dbname={}", db_name);

  std::vector<Backend> backends;
  backends.push_back({"sqlite", "sqlite:" + sqlite_path, {}});
  std::optional<PlainPostgres> admin;
  if (with_pg) {
    admin.emplace(server);
    admin->run(fmt::format("DROP DATABASE IF EXISTS {}", db_name));
    admin->run(fmt::format("CREATE DATABASE {}", db_name));
    backends.push_back({"postgresql", pg_url, {}});
  }
  for (Backend& b : backends) {
    const auto start = Clock::now();
    b.db.emplace(prkl::Database::open(b.url, prkl::OpenMode::create));
    b.db->load(data);
    record({{"what", "load"}, {"backend", b.name}, {"ms", ms_since(start)}});
  }
  // A load leaves gigabytes of dirty pages (the VACUUM after it touches every page) that the
  // server writes out over the next minutes; flushed now, they stay out of the timings.
  if (admin) admin->run("CHECKPOINT");
  std::optional<PlainPostgres> plain;
  if (with_pg) plain.emplace(pg_url);

  // Rates, warm, after checking that every way gives the same answer.
  for (const Question& q : questions) {
    const prkl::RatesQuery query{prkl::parse_date(q.from), prkl::parse_date(q.to), q.origin,
                                 q.destination};
    std::optional<DayAnswer> expected;
    if (plain) expected = plain->rates(q.origin, q.destination, q.from, q.to);
    for (Backend& b : backends) {
      const DayAnswer got = answer_of(b.db->rates(query));
      if (!expected) expected = got;
      if (got != *expected) {
        throw std::runtime_error(
            fmt::format("{}: prkl on {} and the plain SQL disagree", q.name, b.name));
      }
    }
    std::int64_t counted = 0;
    for (const auto& [day, answer] : *expected) counted += answer.first;
    for (Backend& b : backends) {
      const Timing t = time_runs(smoke ? 5 : 301, [&] { b.db->rates(query); });
      record({{"what", "rates"},
              {"question", q.name},
              {"backend", b.name},
              {"way", "prkl"},
              {"median_ms", t.median_ms},
              {"p99_ms", t.p99_ms},
              {"runs", t.runs},
              {"prices_counted", counted},
              {"origin", q.origin},
              {"destination", q.destination},
              {"from", q.from},
              {"to", q.to}});
    }
    // The cost of prkl's metrics: the same question with counting off and on, in alternating
    // blocks so that drift in the machine falls on both alike.
    if (&q == &questions.front()) {
      for (Backend& b : backends) {
        std::vector<double> on, off;
        for (int block = 0; block < (smoke ? 2 : 20); ++block) {
          for (const bool enabled : {false, true}) {
            prkl::set_metrics_enabled(enabled);
            auto& times = enabled ? on : off;
            for (int i = 0; i < (smoke ? 3 : 50); ++i) {
              const auto start = Clock::now();
              b.db->rates(query);
              times.push_back(ms_since(start));
            }
          }
        }
        prkl::set_metrics_enabled(true);
        const Timing with = summarize(std::move(on)), without = summarize(std::move(off));
        record({{"what", "metrics_overhead"},
                {"question", q.name},
                {"backend", b.name},
                {"on_median_ms", with.median_ms},
                {"off_median_ms", without.median_ms},
                {"runs", with.runs},
                {"ratio", with.median_ms / without.median_ms}});
      }
    }
    if (plain) {
      const int runs = smoke ? 1 : prices > 5'000'000 ? 3 : prices > 500'000 ? 7 : 21;
      const Timing t =
          time_runs(runs, [&] { plain->rates(q.origin, q.destination, q.from, q.to); });
      record({{"what", "rates"},
              {"question", q.name},
              {"backend", "postgresql"},
              {"way", "plain_sql"},
              {"median_ms", t.median_ms},
              {"p99_ms", t.p99_ms},
              {"runs", t.runs},
              {"prices_counted", counted}});
    }
  }

  measure_market(questions, backends, plain ? &*plain : nullptr, smoke, record);
  if (data_arg != "real") {  // the real dumps have no dimensions to filter on
    measure_filtered_band(questions, backends, plain ? &*plain : nullptr, smoke, record);
  }

  if (data_arg != "real") {
    // Percentiles come from the prices themselves: a year of a region pair, next to the same
    // question without them and to percentile_cont in plain SQL.
    const Question& q = questions[1];
    prkl::RatesQuery query{prkl::parse_date(q.from), prkl::parse_date(q.to), q.origin,
                           q.destination};
    query.percentiles = {25, 50, 75};
    std::optional<std::vector<std::string>> expected;
    if (plain) expected = plain->percentiles(q.origin, q.destination, q.from, q.to);
    for (Backend& b : backends) {
      const auto got = percentile_answer(b.db->rates(query));
      if (!expected) expected = got;
      if (got != *expected) {
        throw std::runtime_error(
            fmt::format("percentiles: prkl on {} and the plain SQL disagree", b.name));
      }
      const Timing t = time_runs(smoke ? 3 : 21, [&] { b.db->rates(query); });
      record({{"what", "percentiles"},
              {"question", q.name},
              {"backend", b.name},
              {"way", "prkl"},
              {"median_ms", t.median_ms},
              {"p99_ms", t.p99_ms},
              {"runs", t.runs}});
    }
    if (plain) {
      const Timing t = time_runs(
          smoke ? 1 : 3, [&] { plain->percentiles(q.origin, q.destination, q.from, q.to); });
      record({{"what", "percentiles"},
              {"question", q.name},
              {"backend", "postgresql"},
              {"way", "plain_sql"},
              {"median_ms", t.median_ms},
              {"runs", t.runs}});
    }

    // A 10 x 10 region matrix for a month: one call against the hundred rates calls it
    // replaces, in the same process, after checking that they agree.
    // (The market's band and rank are measured for every data set below.)
    const std::vector<std::string> regions = {
        "north_europe",  "west_europe",   "south_europe", "china",      "south_east_asia",
        "north_america", "south_america", "middle_east",  "china_main", "north_europe_main"};
    const prkl::MatrixQuery matrix{prkl::parse_date(questions[0].from),
                                   prkl::parse_date(questions[0].to),
                                   regions,
                                   regions,
                                   {}};
    for (Backend& b : backends) {
      const auto lanes = b.db->rates_matrix(matrix);
      const auto separately = [&] {
        std::vector<prkl::LaneRates> out;
        for (const auto& origin : regions) {
          for (const auto& destination : regions) {
            out.push_back({origin, destination,
                           b.db->rates({matrix.date_from, matrix.date_to, origin, destination})});
          }
        }
        return out;
      };
      const auto singles = separately();
      for (std::size_t i = 0; i < lanes.size(); ++i) {
        if (lanes[i].days != singles[i].days) {
          throw std::runtime_error(fmt::format("matrix: {} -> {} differs from rates() on {}",
                                               lanes[i].origin, lanes[i].destination, b.name));
        }
      }
      const int runs = smoke ? 3 : 101;
      const Timing one = time_runs(runs, [&] { b.db->rates_matrix(matrix); });
      const Timing hundred = time_runs(runs, separately);
      record({{"what", "matrix"},
              {"backend", b.name},
              {"pairs", lanes.size()},
              {"matrix_ms", one.median_ms},
              {"separate_ms", hundred.median_ms},
              {"speedup", hundred.median_ms / one.median_ms},
              {"runs", one.runs}});
    }
  }

  // Cold start: a new connection with nothing in memory answers its first question.
  for (Backend& b : backends) {
    const Question& q = questions.front();
    const auto start = Clock::now();
    prkl::Database cold(prkl::open_store(b.url, prkl::OpenMode::existing));
    cold.rates({prkl::parse_date(q.from), prkl::parse_date(q.to), q.origin, q.destination});
    const double ms = ms_since(start);
    const prkl::CacheStats stats = cold.cache_stats();
    record({{"what", "cold_start"},
            {"backend", b.name},
            {"ms", ms},
            {"lanes", stats.lanes},
            {"lane_days", stats.lane_days},
            {"bytes", stats.bytes},
            {"bytes_per_lane_day",
             double(stats.bytes) / double(std::max<std::int64_t>(1, stats.lane_days))}});
  }

  std::vector<std::pair<std::string, std::string>> lanes;
  for (const auto& p : data.prices) {
    if (lanes.empty() || lanes.back() != std::pair{p.origin, p.destination}) {
      lanes.emplace_back(p.origin, p.destination);
    }
  }
  std::sort(lanes.begin(), lanes.end());
  lanes.erase(std::unique(lanes.begin(), lanes.end()), lanes.end());
  const prkl::Date after_data = first_day + std::chrono::days{std::max<std::int64_t>(days, 400)};

  if (writes) {
    // The baselines write into a plain copy of prices: same rows, same lane/day index and
    // foreign keys, none of prkl's triggers or aggregates.
    PlainSqlite plain_sqlite(sqlite_path);
    plain_sqlite.exec(
        "CREATE TABLE prices_plain (orig_code TEXT NOT NULL REFERENCES ports(code),"
        " dest_code TEXT NOT NULL REFERENCES ports(code), day TEXT NOT NULL,"
        " price INTEGER NOT NULL);"
        "INSERT INTO prices_plain SELECT orig_code, dest_code, day, price FROM prices;"
        "CREATE INDEX prices_plain_lane_day ON prices_plain (orig_code, dest_code, day, price)");
    if (plain) {
      plain->run(
          "CREATE TABLE prices_plain (orig_code text NOT NULL REFERENCES ports(code),"
          " dest_code text NOT NULL REFERENCES ports(code), day date NOT NULL,"
          " price integer NOT NULL);"
          "INSERT INTO prices_plain SELECT orig_code, dest_code, day, price FROM prices;"
          "CREATE INDEX prices_plain_lane_day ON prices_plain (orig_code, dest_code, day)"
          " INCLUDE (price)");
      plain->run("VACUUM ANALYZE prices_plain");
    }
    const std::int64_t rows = smoke ? 2'000 : 100'000;
    std::map<std::string, std::vector<double>> times;
    for (int round = 0; round < (smoke ? 1 : 3); ++round) {
      const auto batch_prices =
          new_prices(lanes, after_data + std::chrono::days{40 * round}, 30, rows, 99 + round);
      const prkl::Batch batch = batch_of(fmt::format("bench-{}-{}", label, round), batch_prices);
      const std::string text = copy_text(batch_prices);
      for (Backend& b : backends) {
        auto start = Clock::now();
        b.db->apply(batch);
        times[b.name + "/prkl"].push_back(ms_since(start));
        start = Clock::now();
        if (b.name == "sqlite") {
          plain_sqlite.insert("prices_plain", batch_prices);
        } else {
          plain->copy("prices_plain", text);
        }
        times[b.name + "/plain"].push_back(ms_since(start));
      }
    }
    for (Backend& b : backends) {
      const Timing mine = summarize(times[b.name + "/prkl"]);
      const Timing theirs = summarize(times[b.name + "/plain"]);
      record({{"what", "batch"},
              {"backend", b.name},
              {"rows", rows},
              {"prkl_ms", mine.median_ms},
              {"plain_ms", theirs.median_ms},
              {"plain_way", b.name == "sqlite" ? "prepared INSERT loop, one transaction"
                                               : "COPY, one transaction"},
              {"ratio", mine.median_ms / theirs.median_ms},
              {"runs", mine.runs}});
    }
  }

  if (readers) {
    // A reader asks the first question over and over; a writer thread applies a large batch on
    // days of their own. The reader's totals for those days must be all of the batch or none.
    const std::int64_t rows = smoke ? 20'000 : 1'000'000;
    const prkl::Date batch_first = after_data + std::chrono::days{200};
    const auto batch_prices = new_prices(lanes, batch_first, 30, rows, 7);
    const prkl::Batch batch = batch_of(fmt::format("bench-readers-{}", label), batch_prices);
    const Question& q = questions.front();
    const prkl::RatesQuery latency_query{prkl::parse_date(q.from), prkl::parse_date(q.to), q.origin,
                                         q.destination};
    const prkl::RatesQuery atomic_query{
        batch_first, batch_first + std::chrono::days{29}, q.origin, q.destination, 1, 0};
    std::int64_t added = 0;
    {
      const auto origins = backends.front().db->resolve(q.origin);
      const auto destinations = backends.front().db->resolve(q.destination);
      for (const auto& p : batch_prices) {
        added += std::binary_search(origins.begin(), origins.end(), p.origin) &&
                 std::binary_search(destinations.begin(), destinations.end(), p.destination);
      }
    }
    for (Backend& b : backends) {
      prkl::Database reader = prkl::Database::open(b.url);
      const auto total = [&] {
        std::int64_t sum = 0;
        for (const auto& d : reader.rates(atomic_query)) sum += d.count;
        return sum;
      };
      const std::int64_t before = total();
      const Timing idle = time_runs(smoke ? 20 : 2000, [&] { reader.rates(latency_query); });
      std::atomic<bool> done = false;
      std::thread writer([&] {
        prkl::Database own(prkl::open_store(b.url, prkl::OpenMode::existing));
        own.apply(batch);
        done = true;
      });
      std::vector<double> during;
      std::int64_t partial = 0, seen_after = 0;
      for (;;) {
        const bool finished = done;
        const auto start = Clock::now();
        reader.rates(latency_query);
        during.push_back(ms_since(start));
        const std::int64_t now = total();
        if (now != before && now != before + added) ++partial;
        if (now == before + added) ++seen_after;
        if (finished && seen_after > 0) break;
      }
      writer.join();
      const Timing busy = summarize(during);
      record({{"what", "readers_during_write"},
              {"backend", b.name},
              {"batch_rows", rows},
              {"idle_p99_ms", idle.p99_ms},
              {"busy_p99_ms", busy.p99_ms},
              {"busy_max_ms", busy.max_ms},
              {"busy_runs", busy.runs},
              {"ratio", busy.p99_ms / idle.p99_ms},
              {"partial_answers", partial}});
      if (partial != 0) throw std::runtime_error("a reader saw part of a batch");
    }
  }
  if (admin) {
    for (Backend& b : backends) b.db.reset();
    plain.reset();
    admin->run(fmt::format("DROP DATABASE IF EXISTS {}", db_name));
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(sqlite_path + suffix);
  return 0;
} catch (const std::exception& e) {
  fmt::print(stderr, "prkl_bench: {}\n", e.what());
  return 1;
}
