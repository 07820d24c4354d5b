// PostgreSQL: prkl next to the plain way, on the same server and database, in one process.
//
//   build/bench/prkl_bench_postgres CONNINFO [DUMP.sql | --generate LANES DAYS] [--batch ROWS]
//
// 1. Rates: Database::rates against one hand-written recursive-CTE query with generate_series,
//    the way ratestask-style Flask apps ask (sent with PQexecParams, as psycopg2 would send it).
// 2. Batches: Database::apply of ROWS rows (validation, ledger and all) against a plain
//    BEGIN; COPY prices FROM STDIN; COMMIT of the same rows.
// Prints medians and ratios. bench/run_pg_bench.sh starts a throwaway server around it.

#include <fmt/format.h>
#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <prkl/prkl.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double seconds_of(const std::function<void()>& work) {
  const auto start = Clock::now();
  work();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

class Plain {
 public:
  explicit Plain(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {
    if (PQstatus(conn_) != CONNECTION_OK) throw std::runtime_error(PQerrorMessage(conn_));
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
  }
  ~Plain() { PQfinish(conn_); }

  PGresult* exec(const std::string& sql, const std::vector<std::string>& params = {}) {
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p.c_str());
    PGresult* r = PQexecParams(conn_, sql.c_str(), int(values.size()), nullptr, values.data(),
                               nullptr, nullptr, 0);
    const auto status = PQresultStatus(r);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_COPY_IN) {
      const std::string message = PQresultErrorMessage(r);
      PQclear(r);
      throw std::runtime_error(sql.substr(0, 60) + ": " + message);
    }
    return r;
  }
  void run(const std::string& sql) { PQclear(exec(sql)); }

  std::int64_t rates(const std::string& origin, const std::string& destination,
                     const std::string& from, const std::string& to) {
    PGresult* r = exec(R"(
WITH RECURSIVE
  o_regions AS (SELECT slug FROM regions WHERE slug = $1
                UNION SELECT r.slug FROM regions r JOIN o_regions o ON r.parent_slug = o.slug),
  d_regions AS (SELECT slug FROM regions WHERE slug = $2
                UNION SELECT r.slug FROM regions r JOIN d_regions d ON r.parent_slug = d.slug),
  o_ports AS (SELECT code FROM ports WHERE code = $1 OR parent_slug IN (SELECT slug FROM o_regions)),
  d_ports AS (SELECT code FROM ports WHERE code = $2 OR parent_slug IN (SELECT slug FROM d_regions))
SELECT d.day::date, count(p.price),
       CASE WHEN count(p.price) >= 3 THEN round(avg(p.price)) END
FROM generate_series($3::date, $4::date, interval '1 day') AS d(day)
LEFT JOIN prices p ON p.day = d.day::date
  AND p.orig_code IN (SELECT code FROM o_ports) AND p.dest_code IN (SELECT code FROM d_ports)
GROUP BY d.day ORDER BY d.day)",
                       {origin, destination, from, to});
    std::int64_t total = 0;
    for (int i = 0; i < PQntuples(r); ++i) total += std::stoll(PQgetvalue(r, i, 1));
    PQclear(r);
    return total;
  }

  void copy(const std::string& rows) {
    run("BEGIN");
    PQclear(exec("COPY prices (orig_code, dest_code, day, price) FROM STDIN"));
    for (std::size_t at = 0; at < rows.size(); at += 1 << 20) {
      const auto part = std::string_view(rows).substr(at, 1 << 20);
      if (PQputCopyData(conn_, part.data(), int(part.size())) != 1)
        throw std::runtime_error("copy");
    }
    if (PQputCopyEnd(conn_, nullptr) != 1) throw std::runtime_error("copy end");
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

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fmt::print(stderr, "usage: {} CONNINFO [DUMP.sql | --generate LANES DAYS] [--batch ROWS]\n",
               argv[0]);
    return 2;
  }
  const std::string conninfo = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  std::string dump = "../shared/data/xeneta/ratestask-2016.sql";
  std::int64_t lanes = 0, days = 0, batch_rows = 100'000;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--generate" && i + 2 < args.size()) {
      lanes = std::stoll(args[++i]);
      days = std::stoll(args[++i]);
    } else if (args[i] == "--batch" && i + 1 < args.size()) {
      batch_rows = std::stoll(args[++i]);
    } else {
      dump = args[i];
    }
  }

  auto db = prkl::Database::open(conninfo, prkl::OpenMode::create);
  std::string origin = "china_main", destination = "northern_europe", from = "2016-01-01",
              to = "2016-01-31", source = dump;
  prkl::Dataset data;
  const double read_s = seconds_of([&] {
    if (lanes > 0) {
      prkl::GeneratorOptions options;
      options.ports = 1000;
      options.lanes = lanes;
      options.days = days;
      options.first_day = prkl::parse_date(from);
      data = prkl::generate(options);
      origin = "china";
      destination = "north_europe";
      source = fmt::format("generated: {} lanes x {} days", lanes, days);
    } else {
      data = prkl::read_dump(dump);
      if (dump.find("operations") != std::string::npos) from = "2021-01-01", to = "2021-01-31";
    }
  });
  const double load_s = seconds_of([&] { db.load(data, true); });
  db.init();  // rebuilds nothing; the index was kept up to date by the load
  Plain plain(conninfo);
  plain.run("VACUUM ANALYZE prices");

  const prkl::RatesQuery query{prkl::parse_date(from), prkl::parse_date(to), origin, destination};
  std::int64_t counted = 0;
  for (const auto& d : db.rates(query)) counted += d.count;
  if (const auto baseline = plain.rates(origin, destination, from, to); baseline != counted) {
    fmt::print(stderr, "answers differ: prkl {} prices, baseline {}\n", counted, baseline);
    return 1;
  }
  std::vector<double> prkl_rates, plain_rates;
  for (int i = 0; i < 21; ++i) {
    prkl_rates.push_back(seconds_of([&] { db.rates(query); }));
    plain_rates.push_back(seconds_of([&] { plain.rates(origin, destination, from, to); }));
  }

  // The batch: rows on real lanes, in a year of their own so each run can be removed after.
  std::vector<prkl::BatchRow> rows;
  std::string copy_text;
  for (std::int64_t i = 0; i < batch_rows; ++i) {
    const auto& lane = data.prices[std::size_t(i * 7919) % data.prices.size()];
    const auto day = prkl::parse_date("2030-01-01") + std::chrono::days{i % 365};
    rows.push_back(prkl::BatchRow::single(lane.origin, lane.destination, day, 100 + i % 5000));
    copy_text += fmt::format("{}\t{}\t{}\t{}\n", lane.origin, lane.destination,
                             prkl::format_date(day), 100 + i % 5000);
  }
  const auto clean = [&] {
    plain.run("DELETE FROM prices WHERE day >= DATE '2030-01-01'");
    plain.run("DELETE FROM prkl_batches");
    plain.run("VACUUM prices");
  };
  std::vector<double> prkl_apply, plain_copy;
  for (int i = 0; i < 5; ++i) {
    clean();
    plain_copy.push_back(seconds_of([&] { plain.copy(copy_text); }));
    clean();
    prkl_apply.push_back(seconds_of([&] { db.apply({fmt::format("bench-{}", i), rows}); }));
  }
  clean();

  const auto ms = [](double s) { return s * 1000; };
  fmt::print("data: {} ({} prices); read {:.2f} s, load into PostgreSQL {:.2f} s\n", source,
             data.prices.size(), read_s, load_s);
  fmt::print("rates {} -> {}, {}..{} ({} prices counted), median of 21:\n", origin, destination,
             from, to, counted);
  fmt::print("  prkl rates()                   {:9.2f} ms\n", ms(median(prkl_rates)));
  fmt::print("  recursive-CTE SQL              {:9.2f} ms\n", ms(median(plain_rates)));
  fmt::print("  speed-up                       {:9.1f} x\n",
             median(plain_rates) / median(prkl_rates));
  fmt::print("batch of {} rows, median of 5:\n", batch_rows);
  fmt::print("  prkl apply (validate + COPY)   {:9.1f} ms\n", ms(median(prkl_apply)));
  fmt::print("  plain COPY in a transaction    {:9.1f} ms\n", ms(median(plain_copy)));
  fmt::print("  ratio                          {:9.2f} x\n",
             median(prkl_apply) / median(plain_copy));
}
