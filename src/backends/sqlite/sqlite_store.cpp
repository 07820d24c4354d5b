#include "sqlite_store.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "prkl/error.hpp"
#include "sqlite_handles.hpp"

namespace prkl::sqlite {

namespace {

// Each object of the schema with the statement that creates it, in creation order. The tables
// keep the ratestask names and columns; prkl's own objects are prefixed.
struct SchemaObject {
  const char* name;
  const char* sql;
};

constexpr SchemaObject schema[] = {
    {"regions",
     "CREATE TABLE regions (\n"
     "  slug TEXT NOT NULL PRIMARY KEY,\n"
     "  name TEXT NOT NULL,\n"
     "  parent_slug TEXT REFERENCES regions(slug) DEFERRABLE INITIALLY DEFERRED)"},
    {"ports",
     "CREATE TABLE ports (\n"
     "  code TEXT NOT NULL PRIMARY KEY,\n"
     "  name TEXT NOT NULL,\n"
     "  parent_slug TEXT NOT NULL REFERENCES regions(slug) DEFERRABLE INITIALLY DEFERRED)"},
    {"prices",
     "CREATE TABLE prices (\n"
     "  orig_code TEXT NOT NULL REFERENCES ports(code),\n"
     "  dest_code TEXT NOT NULL REFERENCES ports(code),\n"
     "  day TEXT NOT NULL,\n"
     "  price INTEGER NOT NULL)"},
    // Serves the lane/day query from the index alone: lanes by equality, days by range, and the
    // price without touching the table.
    {"prices_lane_day",
     "CREATE INDEX prices_lane_day ON prices (orig_code, dest_code, day, price)"},
    {"prkl_batches",
     "CREATE TABLE prkl_batches (\n"
     "  id TEXT NOT NULL PRIMARY KEY,\n"
     "  digest TEXT NOT NULL,\n"
     "  rows INTEGER NOT NULL,\n"
     "  prices INTEGER NOT NULL,\n"
     "  applied_at TEXT NOT NULL)"},
    {"prkl_meta",
     "CREATE TABLE prkl_meta (key TEXT NOT NULL PRIMARY KEY, value INTEGER NOT NULL);\n"
     "INSERT INTO prkl_meta VALUES ('geography_generation', 0)"},
};

// Triggers bump the geography generation on any change to ports or regions, whoever makes it.
constexpr const char* geography_tables[] = {"ports", "regions"};
constexpr const char* geography_events[] = {"INSERT", "UPDATE", "DELETE"};

std::string trigger_name(const char* table, const char* event) {
  return fmt::format("prkl_{}_{}", table, event);
}

std::string to_json_array(std::span<const std::string> values) {
  return nlohmann::json(std::vector<std::string>(values.begin(), values.end())).dump();
}

class SqliteStore final : public Store {
 public:
  SqliteStore(const std::string& path, OpenMode mode)
      : path_(path),
        connection_(path, mode == OpenMode::create ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                                                   : SQLITE_OPEN_READWRITE) {
    // Two processes writing at once wait for each other instead of failing.
    sqlite3_busy_timeout(connection_.get(), 30'000);
    connection_.exec(
        "PRAGMA journal_mode = WAL;\n"
        "PRAGMA synchronous = FULL;\n"
        "PRAGMA foreign_keys = ON;");
    if (mode == OpenMode::create) {
      added_on_open_ = init();
    } else if (const auto missing = missing_objects(); !missing.empty()) {
      throw StorageError(
          fmt::format("'{}' is not a prkl database (it has no {}); create it with 'prkl init'",
                      path_, missing.front()));
    }
    prepare();
  }

  std::string_view backend() const noexcept override { return "sqlite"; }

  std::vector<std::string> init() override {
    // What opening in create mode added is reported by the first init() call, so that
    // `prkl init` on a new file says what it made.
    std::vector<std::string> added = std::exchange(added_on_open_, {});
    Transaction tx(connection_, Transaction::Kind::immediate);
    const auto missing = missing_objects();
    for (const SchemaObject& object : schema) {
      if (std::find(missing.begin(), missing.end(), object.name) == missing.end()) continue;
      connection_.exec(object.sql);
      added.push_back(fmt::format(
          "{} {}", std::string_view(object.name).starts_with("prices_") ? "index" : "table",
          object.name));
    }
    for (const char* table : geography_tables) {
      for (const char* event : geography_events) {
        const std::string name = trigger_name(table, event);
        if (std::find(missing.begin(), missing.end(), name) == missing.end()) continue;
        connection_.exec(fmt::format(
            "CREATE TRIGGER {} AFTER {} ON {} BEGIN UPDATE prkl_meta SET value = value + 1 "
            "WHERE key = 'geography_generation'; END",
            name, event, table));
        added.push_back("trigger " + name);
      }
    }
    tx.commit();
    return added;
  }

  std::int64_t geography_generation() override {
    auto& s = generation_->reset();
    if (!s.step()) throw StorageError("prkl_meta has no geography_generation row");
    const std::int64_t generation = s.int64(0);
    s.reset();  // an unfinished statement would keep DDL and DELETE out of this connection
    return generation;
  }

  GeographySnapshot geography() override {
    GeographySnapshot snapshot;
    Transaction tx(connection_, Transaction::Kind::deferred);
    snapshot.generation = geography_generation();
    Statement regions(connection_, "SELECT slug, name, parent_slug FROM regions");
    while (regions.step()) {
      snapshot.regions.push_back(
          {regions.text(0), regions.text(1),
           regions.is_null(2) ? std::nullopt : std::optional<std::string>(regions.text(2))});
    }
    Statement ports(connection_, "SELECT code, name, parent_slug FROM ports");
    while (ports.step()) snapshot.ports.push_back({ports.text(0), ports.text(1), ports.text(2)});
    tx.commit();
    return snapshot;
  }

  bool empty() override {
    Statement s(connection_,
                "SELECT NOT EXISTS (SELECT 1 FROM prices) AND NOT EXISTS (SELECT 1 FROM ports) "
                "AND NOT EXISTS (SELECT 1 FROM regions)");
    s.step();
    return s.int64(0) != 0;
  }

  std::vector<DailyAggregate> daily_aggregates(std::span<const std::string> origins,
                                               std::span<const std::string> destinations, Date from,
                                               Date to) override {
    auto& s = aggregates_->reset();
    s.bind(1, to_json_array(origins))
        .bind(2, to_json_array(destinations))
        .bind(3, format_date(from))
        .bind(4, format_date(to));
    std::vector<DailyAggregate> out;
    while (s.step()) {
      out.push_back({parse_date(s.text(0), "stored day"), s.int64(1), s.int64(2),
                     static_cast<std::int32_t>(s.int64(3)), static_cast<std::int32_t>(s.int64(4))});
    }
    return out;
  }

  void replace_all(const Dataset& data, const Progress& progress) override {
    Transaction tx(connection_, Transaction::Kind::immediate);
    // The index is rebuilt once at the end rather than kept up to date row by row.
    connection_.exec(
        "DELETE FROM prices; DELETE FROM ports; DELETE FROM regions; DELETE FROM prkl_batches;\n"
        "DROP INDEX IF EXISTS prices_lane_day;");
    Statement region(connection_, "INSERT INTO regions (slug, name, parent_slug) VALUES (?, ?, ?)");
    for (const Region& r : data.regions) {
      region.reset().bind(1, r.slug).bind(2, r.name);
      if (r.parent_slug) region.bind(3, *r.parent_slug);
      region.run();
    }
    Statement port(connection_, "INSERT INTO ports (code, name, parent_slug) VALUES (?, ?, ?)");
    for (const Port& p : data.ports)
      port.reset().bind(1, p.code).bind(2, p.name).bind(3, p.region_slug).run();
    insert_prices(data.prices, progress);
    connection_.exec(schema[3].sql);
    tx.commit();
  }

  std::optional<BatchRecord> find_batch(std::string_view id) override {
    auto& s = find_batch_->reset();
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    BatchRecord record{s.text(0), s.text(1), s.int64(2), s.int64(3), s.text(4)};
    s.reset();
    return record;
  }

  ApplyOutcome apply_batch(const BatchRecord& record, std::span<const Price> prices,
                           const Progress& progress) override {
    // IMMEDIATE takes the write lock up front, so the ledger check below cannot race another
    // writer: the second of two processes with the same id finds the first one's record.
    Transaction tx(connection_, Transaction::Kind::immediate);
    if (auto existing = find_batch(record.id)) return {std::move(*existing), true};
    insert_prices(prices, progress);
    insert_batch_->reset()
        .bind(1, record.id)
        .bind(2, record.digest)
        .bind(3, record.rows)
        .bind(4, record.prices)
        .bind(5, record.applied_at)
        .run();
    tx.commit();
    return {record, false};
  }

 private:
  std::vector<std::string> missing_objects() {
    std::vector<std::string> missing;
    Statement s(connection_, "SELECT 1 FROM sqlite_schema WHERE name = ?");
    const auto check = [&](const std::string& name) {
      if (!s.reset().bind(1, name).step()) missing.push_back(name);
    };
    for (const SchemaObject& object : schema) check(object.name);
    for (const char* table : geography_tables) {
      for (const char* event : geography_events) check(trigger_name(table, event));
    }
    return missing;
  }

  void prepare() {
    generation_.emplace(connection_,
                        "SELECT value FROM prkl_meta WHERE key = 'geography_generation'");
    // Port sets arrive as one JSON array parameter each, never as SQL text.
    aggregates_.emplace(connection_,
                        "SELECT day, count(*), sum(price), min(price), max(price) FROM prices\n"
                        "WHERE orig_code IN (SELECT value FROM json_each(?1))\n"
                        "  AND dest_code IN (SELECT value FROM json_each(?2))\n"
                        "  AND day BETWEEN ?3 AND ?4\n"
                        "GROUP BY day ORDER BY day");
    find_batch_.emplace(
        connection_, "SELECT id, digest, rows, prices, applied_at FROM prkl_batches WHERE id = ?");
    insert_batch_.emplace(connection_,
                          "INSERT INTO prkl_batches (id, digest, rows, prices, applied_at) "
                          "VALUES (?, ?, ?, ?, ?)");
    insert_price_.emplace(
        connection_, "INSERT INTO prices (orig_code, dest_code, day, price) VALUES (?, ?, ?, ?)");
  }

  void insert_prices(std::span<const Price> prices, const Progress& progress) {
    const auto total = std::int64_t(prices.size());
    std::int64_t done = 0;
    for (const Price& p : prices) {
      insert_price_->reset()
          .bind(1, p.origin)
          .bind(2, p.destination)
          .bind(3, format_date(p.day))
          .bind(4, std::int64_t{p.price})
          .run();
      if (progress && ++done % 10'000 == 0) progress(done, total);
    }
    if (progress) progress(total, total);
  }

  std::string path_;
  Connection connection_;
  std::vector<std::string> added_on_open_;
  std::optional<Statement> generation_, aggregates_, find_batch_, insert_batch_, insert_price_;
};

}  // namespace

std::unique_ptr<Store> open(const std::string& path, OpenMode mode) {
  if (mode == OpenMode::existing && path != ":memory:" && !std::filesystem::exists(path)) {
    throw NotFound(fmt::format("no SQLite database at '{}'; create it with 'prkl init'", path));
  }
  return std::make_unique<SqliteStore>(path, mode);
}

}  // namespace prkl::sqlite
