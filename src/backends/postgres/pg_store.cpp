#include "pg_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "copy_text.hpp"
#include "pg_handles.hpp"
#include "prkl/error.hpp"

namespace prkl::postgres {

namespace {

// The ratestask tables, as its dump creates them plus keys; used only where they are missing.
// An adopted database keeps its own tables untouched.
struct Table {
  const char* name;
  const char* columns;  // what prkl reads and writes; checked on adopted tables
  const char* create;
};

constexpr Table tables[] = {
    {"regions", "slug, name, parent_slug",
     "CREATE TABLE regions (slug text NOT NULL PRIMARY KEY, name text NOT NULL,"
     " parent_slug text REFERENCES regions(slug))"},
    {"ports", "code, name, parent_slug",
     "CREATE TABLE ports (code text NOT NULL PRIMARY KEY, name text NOT NULL,"
     " parent_slug text NOT NULL REFERENCES regions(slug))"},
    {"prices", "orig_code, dest_code, day, price",
     "CREATE TABLE prices (orig_code text NOT NULL REFERENCES ports(code),"
     " dest_code text NOT NULL REFERENCES ports(code), day date NOT NULL, price integer NOT NULL)"},
    {"prkl_batches", "id, digest, rows, prices, applied_at",
     "CREATE TABLE prkl_batches (id text NOT NULL PRIMARY KEY, digest text NOT NULL,"
     " rows bigint NOT NULL, prices bigint NOT NULL, applied_at text NOT NULL)"},
    {"prkl_meta", "key, value",
     "CREATE TABLE prkl_meta (key text NOT NULL PRIMARY KEY, value bigint NOT NULL)"},
    // Every lane that has prices, kept by the prices triggers below.
    {"prkl_lanes", "orig_code, dest_code",
     "CREATE TABLE prkl_lanes (orig_code text NOT NULL, dest_code text NOT NULL,"
     " PRIMARY KEY (orig_code, dest_code))"},
};

// Serves the lane/day query from the index alone (an index-only scan when the visibility map
// allows): lanes by equality from the two port arrays, days by range.
constexpr const char* index_name = "prices_lane_day";
constexpr const char* index_definition = "ON prices (orig_code, dest_code, day) INCLUDE (price)";

// Statement-level triggers move the generations on any change, whoever makes it (prkl, the
// application that owned the database first, or psql), TRUNCATE included. The prices triggers
// read only the statement's new rows, and write only when they bring a lane not seen before.
// New lanes go in in one order, so two writers adding the same lanes wait for each other
// instead of deadlocking.
constexpr const char* trigger_functions =
    "CREATE OR REPLACE FUNCTION prkl_bump_geography() RETURNS trigger LANGUAGE plpgsql AS $$\n"
    "BEGIN\n"
    "  UPDATE prkl_meta SET value = value + 1 WHERE key = 'geography_generation';\n"
    "  RETURN NULL;\n"
    "END $$;\n"
    "CREATE OR REPLACE FUNCTION prkl_note_lanes() RETURNS trigger LANGUAGE plpgsql AS $$\n"
    "BEGIN\n"
    "  WITH added AS (\n"
    "    INSERT INTO prkl_lanes (orig_code, dest_code)\n"
    "    SELECT DISTINCT n.orig_code, n.dest_code FROM prkl_new_prices n\n"
    "    WHERE NOT EXISTS (SELECT 1 FROM prkl_lanes l\n"
    "                      WHERE l.orig_code = n.orig_code AND l.dest_code = n.dest_code)\n"
    "    ORDER BY 1, 2\n"
    "    ON CONFLICT DO NOTHING RETURNING 1)\n"
    "  UPDATE prkl_meta SET value = value + 1\n"
    "  WHERE key = 'lanes_generation' AND EXISTS (SELECT 1 FROM added);\n"
    "  RETURN NULL;\n"
    "END $$";

struct Trigger {
  const char* name;
  const char* table;
  const char* definition;
};

constexpr Trigger triggers[] = {
    {"prkl_ports_changed", "ports",
     "AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ports FOR EACH STATEMENT "
     "EXECUTE FUNCTION prkl_bump_geography()"},
    {"prkl_regions_changed", "regions",
     "AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON regions FOR EACH STATEMENT "
     "EXECUTE FUNCTION prkl_bump_geography()"},
    {"prkl_prices_lanes_insert", "prices",
     "AFTER INSERT ON prices REFERENCING NEW TABLE AS prkl_new_prices FOR EACH STATEMENT "
     "EXECUTE FUNCTION prkl_note_lanes()"},
    {"prkl_prices_lanes_update", "prices",
     "AFTER UPDATE ON prices REFERENCING NEW TABLE AS prkl_new_prices FOR EACH STATEMENT "
     "EXECUTE FUNCTION prkl_note_lanes()"},
};

std::string days_since_epoch(Date day) {
  return std::to_string(day.time_since_epoch().count());
}

class PgStore final : public Store {
 public:
  PgStore(const std::string& conninfo, OpenMode mode) : connection_(conninfo) {
    if (mode == OpenMode::create) {
      added_on_open_ = init();
    } else if (const auto missing = missing_objects(); !missing.empty()) {
      throw StorageError(fmt::format(
          "the PostgreSQL database is not set up for prkl (it has no {}); run 'prkl init'",
          missing.front()));
    }
  }

  std::string_view backend() const noexcept override { return "postgresql"; }

  std::vector<std::string> init() override {
    std::vector<std::string> added = std::exchange(added_on_open_, {});
    const auto missing = missing_objects();
    const auto is_missing = [&](const std::string& name) {
      return std::find(missing.begin(), missing.end(), name) != missing.end();
    };
    {
      // Tables and triggers in one transaction; the index below cannot be built inside one.
      Transaction tx(connection_);
      // Two `prkl init` at once: the second waits here, then finds everything made.
      connection_.exec("SELECT pg_advisory_xact_lock(7040851)");
      const auto missing_now = missing_objects();
      for (const Table& t : tables) {
        if (std::find(missing_now.begin(), missing_now.end(), t.name) == missing_now.end()) {
          check_columns(t);
          continue;
        }
        connection_.exec(t.create);
        added.push_back(fmt::format("table {}", t.name));
      }
      connection_.exec(
          "INSERT INTO prkl_meta VALUES ('geography_generation', 0), ('lanes_generation', 0) "
          "ON CONFLICT DO NOTHING");
      bool functions_made = false;
      for (const Trigger& t : triggers) {
        if (std::find(missing_now.begin(), missing_now.end(), t.name) == missing_now.end()) {
          continue;
        }
        if (!std::exchange(functions_made, true)) connection_.exec(trigger_functions);
        connection_.exec(fmt::format("CREATE TRIGGER {} {}", t.name, t.definition));
        added.push_back(fmt::format("trigger {} on {}", t.name, t.table));
      }
      // Creating the prices trigger locked out writers to prices until commit, so listing the
      // lanes now misses none: earlier rows are here, later ones go through the trigger.
      if (std::find(missing_now.begin(), missing_now.end(), "prkl_prices_lanes_insert") !=
          missing_now.end()) {
        connection_.exec(
            "INSERT INTO prkl_lanes SELECT DISTINCT orig_code, dest_code FROM prices "
            "ON CONFLICT DO NOTHING");
        connection_.exec("UPDATE prkl_meta SET value = value + 1 WHERE key = 'lanes_generation'");
      }
      tx.commit();
    }
    if (is_missing(index_name) || !index_valid()) {
      // A concurrent build that failed leaves an invalid index behind; it is rebuilt. Built
      // CONCURRENTLY, so an adopted database keeps taking writes meanwhile.
      connection_.exec("DROP INDEX CONCURRENTLY IF EXISTS prices_lane_day");
      connection_.exec(
          fmt::format("CREATE INDEX CONCURRENTLY {} {}", index_name, index_definition));
      connection_.exec("ANALYZE prices");
      added.push_back(fmt::format("index {} {}", index_name, index_definition));
    }
    return added;
  }

  Generations generations() override {
    return read([&] {
      connection_.prepare("generations",
                          "SELECT max(value) FILTER (WHERE key = 'geography_generation'),"
                          " max(value) FILTER (WHERE key = 'lanes_generation') FROM prkl_meta");
      const Result r = connection_.exec_prepared("generations", {});
      if (r.is_null(0, 0) || r.is_null(0, 1)) throw StorageError("prkl_meta is incomplete");
      return Generations{r.int64(0, 0), r.int64(0, 1)};
    });
  }

  GeographySnapshot geography() override {
    return in_snapshot([&] {
      GeographySnapshot snapshot{meta_value("geography_generation"), {}, {}};
      const Result regions = connection_.exec("SELECT slug, name, parent_slug FROM regions");
      for (int i = 0; i < regions.rows(); ++i) {
        snapshot.regions.push_back({regions.text(i, 0), regions.text(i, 1),
                                    regions.is_null(i, 2)
                                        ? std::nullopt
                                        : std::optional<std::string>(regions.text(i, 2))});
      }
      const Result ports = connection_.exec("SELECT code, name, parent_slug FROM ports");
      for (int i = 0; i < ports.rows(); ++i) {
        snapshot.ports.push_back({ports.text(i, 0), ports.text(i, 1), ports.text(i, 2)});
      }
      return snapshot;
    });
  }

  LaneSnapshot lanes() override {
    return in_snapshot([&] {
      LaneSnapshot snapshot{meta_value("lanes_generation"), {}};
      const Result lanes = connection_.exec("SELECT orig_code, dest_code FROM prkl_lanes");
      snapshot.lanes.reserve(std::size_t(lanes.rows()));
      for (int i = 0; i < lanes.rows(); ++i) {
        snapshot.lanes.push_back({lanes.text(i, 0), lanes.text(i, 1)});
      }
      return snapshot;
    });
  }

  bool empty() override {
    return read([&] {
      const Result r = connection_.exec(
          "SELECT NOT EXISTS (SELECT 1 FROM prices) AND NOT EXISTS (SELECT 1 FROM ports) "
          "AND NOT EXISTS (SELECT 1 FROM regions)");
      return r.text(0, 0) == "t";
    });
  }

  std::vector<DailyAggregate> daily_aggregates(std::span<const Lane> lanes, Date from,
                                               Date to) override {
    // Values travel as text[] parameters and days as integers: nothing is spliced into SQL and
    // no date text is parsed on either side. Neither statement is prepared: a generic plan
    // cannot see how many values the arrays hold and ran twice as slow, while planning each call
    // costs a fraction of a millisecond. (Forcing custom plans for the whole session would
    // replan every foreign-key check of a batch instead.)
    std::vector<std::string> origins, destinations;
    for (const Lane& lane : lanes) {
      origins.push_back(lane.origin);
      destinations.push_back(lane.destination);
    }
    const auto distinct = [](std::vector<std::string> v) {
      std::sort(v.begin(), v.end());
      v.erase(std::unique(v.begin(), v.end()), v.end());
      return v;
    };
    std::vector<std::string> some_origins = distinct(origins);
    std::vector<std::string> some_destinations = distinct(destinations);
    // When most origin/destination combinations are lanes, one scan over the origins with a
    // hashed destination filter beats a range scan per lane; when few are (two big regions),
    // the per-lane scans win by far. Both read exactly the requested lanes' prices: a
    // combination that is not a requested lane has no prices.
    const bool dense = lanes.size() * 4 >= some_origins.size() * some_destinations.size();
    static constexpr const char* by_port_sets =
        "SELECT day - DATE '1970-01-01', count(*), sum(price), min(price), max(price)\n"
        "FROM prices\n"
        "WHERE orig_code = ANY($1::text[]) AND dest_code = ANY($2::text[])\n"
        "  AND day BETWEEN DATE '1970-01-01' + $3::integer AND DATE '1970-01-01' + $4::integer\n"
        "GROUP BY day ORDER BY day";
    static constexpr const char* by_lanes =
        "SELECT p.day - DATE '1970-01-01', count(*), sum(p.price), min(p.price), max(p.price)\n"
        "FROM unnest($1::text[], $2::text[]) AS lane(orig_code, dest_code)\n"
        "JOIN prices p ON p.orig_code = lane.orig_code AND p.dest_code = lane.dest_code\n"
        "WHERE p.day BETWEEN DATE '1970-01-01' + $3::integer AND DATE '1970-01-01' + $4::integer\n"
        "GROUP BY p.day ORDER BY p.day";
    const char* sql = dense ? by_port_sets : by_lanes;
    const Params params{array_literal(dense ? some_origins : origins),
                        array_literal(dense ? some_destinations : destinations),
                        days_since_epoch(from), days_since_epoch(to)};
    return read([&] {
      const Result r = connection_.exec(sql, params);
      std::vector<DailyAggregate> out;
      out.reserve(std::size_t(r.rows()));
      for (int i = 0; i < r.rows(); ++i) {
        out.push_back({Date{std::chrono::days{r.int64(i, 0)}}, r.int64(i, 1), r.int64(i, 2),
                       static_cast<std::int32_t>(r.int64(i, 3)),
                       static_cast<std::int32_t>(r.int64(i, 4))});
      }
      return out;
    });
  }

  void replace_all(const Dataset& data, const Progress& progress) override {
    Transaction tx(connection_);
    // TRUNCATE locks the tables until commit anyway, so the index can go and be built once at
    // the end instead of being kept up to date row by row.
    connection_.exec("TRUNCATE prices, ports, regions, prkl_batches, prkl_lanes");
    connection_.exec("UPDATE prkl_meta SET value = value + 1 WHERE key = 'lanes_generation'");
    connection_.exec("DROP INDEX IF EXISTS prices_lane_day");
    // Foreign keys are checked at the end of each COPY, so rows may come in any order.
    copy_rows("COPY regions (slug, name, parent_slug) FROM STDIN", data.regions, {});
    copy_rows("COPY ports (code, name, parent_slug) FROM STDIN", data.ports, {});
    copy_rows("COPY prices (orig_code, dest_code, day, price) FROM STDIN", data.prices, progress);
    connection_.exec(fmt::format("CREATE INDEX {} {}", index_name, index_definition));
    tx.commit();
    connection_.exec("ANALYZE prices");
  }

  std::optional<BatchRecord> find_batch(std::string_view id) override {
    return read([&] { return find_batch_now(id); });
  }

  ApplyOutcome apply_batch(const BatchRecord& record, std::span<const Price> prices,
                           const Progress& progress) override {
    try {
      Transaction tx(connection_);
      // Writers of the same id queue here; the second finds the first one's ledger record.
      connection_.exec("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", {record.id});
      if (auto existing = find_batch_now(record.id)) return {std::move(*existing), true};
      copy_rows("COPY prices (orig_code, dest_code, day, price) FROM STDIN", prices, progress);
      connection_.exec(
          "INSERT INTO prkl_batches (id, digest, rows, prices, applied_at) "
          "VALUES ($1, $2, $3, $4, $5)",
          {record.id, record.digest, std::to_string(record.rows), std::to_string(record.prices),
           record.applied_at});
      tx.commit();
      return {record, false};
    } catch (const StorageError& e) {
      if (!connection_.broken()) throw;
      // Whether the COMMIT reached the server is unknown; the id makes a retry safe.
      throw StorageError(fmt::format(
          "{}; batch '{}' may or may not have been applied: apply it again with the same id",
          e.what(), record.id));
    }
  }

 private:
  // Runs an idempotent read; if the connection was lost, reconnects and runs it once more.
  template <typename Read>
  auto read(Read&& work) -> decltype(work()) {
    try {
      return work();
    } catch (const StorageError&) {
      if (!connection_.broken()) throw;
    }
    connection_.reconnect();
    return work();
  }

  // Runs `work` inside one read-only snapshot, so what it reads belongs together; retried like
  // any read.
  template <typename Work>
  auto in_snapshot(Work&& work) -> decltype(work()) {
    return read([&] {
      Transaction tx(connection_);
      connection_.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
      auto result = work();
      tx.commit();
      return result;
    });
  }

  std::int64_t meta_value(const std::string& key) {
    const Result r = connection_.exec("SELECT value FROM prkl_meta WHERE key = $1", {key});
    if (r.rows() != 1) throw StorageError(fmt::format("prkl_meta has no '{}'", key));
    return r.int64(0, 0);
  }

  std::optional<BatchRecord> find_batch_now(std::string_view id) {
    connection_.prepare(
        "find_batch",
        "SELECT id, digest, rows, prices, applied_at FROM prkl_batches WHERE id = $1");
    const Result r = connection_.exec_prepared("find_batch", {std::string(id)});
    if (r.rows() == 0) return std::nullopt;
    return BatchRecord{r.text(0, 0), r.text(0, 1), r.int64(0, 2), r.int64(0, 3), r.text(0, 4)};
  }

  template <typename Rows>
  void copy_rows(std::string sql, const Rows& rows, const Progress& progress) {
    CopyIn copy(connection_, std::move(sql));
    const auto total = std::int64_t(rows.size());
    std::int64_t done = 0;
    std::string line;
    for (const auto& row : rows) {
      line.clear();
      detail::append_copy_row(line, row);
      copy.write(line);
      if (progress && ++done % 10'000 == 0) progress(done, total);
    }
    copy.finish();
    if (progress) progress(total, total);
  }

  std::vector<std::string> missing_objects() {
    std::vector<std::string> missing;
    for (const Table& t : tables) {
      if (connection_.exec("SELECT to_regclass($1) IS NULL", {std::string(t.name)}).text(0, 0) ==
          "t") {
        missing.emplace_back(t.name);
      }
    }
    if (connection_.exec("SELECT to_regclass($1) IS NULL", {std::string(index_name)}).text(0, 0) ==
        "t") {
      missing.emplace_back(index_name);
    }
    for (const Trigger& t : triggers) {
      const Result r = connection_.exec(
          "SELECT 1 FROM pg_trigger WHERE tgname = $1 AND tgrelid = to_regclass($2)",
          {std::string(t.name), std::string(t.table)});
      if (r.rows() == 0) missing.emplace_back(t.name);
    }
    return missing;
  }

  bool index_valid() {
    const Result r =
        connection_.exec("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass($1)",
                         {std::string(index_name)});
    return r.rows() == 1 && r.text(0, 0) == "t";
  }

  // An adopted table must have the columns prkl uses; a clear error beats a failing query later.
  void check_columns(const Table& t) {
    try {
      connection_.exec("SAVEPOINT prkl_check");
      connection_.exec(fmt::format("SELECT {} FROM {} LIMIT 0", t.columns, t.name));
      connection_.exec("RELEASE SAVEPOINT prkl_check");
    } catch (const StorageError& e) {
      throw StorageError(
          fmt::format("existing table '{}' does not have the columns prkl needs "
                      "({}): {}",
                      t.name, t.columns, e.what()));
    }
  }

  Connection connection_;
  std::vector<std::string> added_on_open_;
};

}  // namespace

std::unique_ptr<Store> open(const std::string& conninfo, OpenMode mode) {
  return std::make_unique<PgStore>(conninfo, mode);
}

}  // namespace prkl::postgres
