#include "sqlite_store.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "prkl/error.hpp"
#include "sqlite_handles.hpp"

namespace prkl::sqlite {

namespace {

// Each object of the schema with what it is and the statement that creates it, in creation
// order. The tables keep the ratestask names and columns; prkl's own objects are prefixed.
struct SchemaObject {
  std::string kind;
  std::string name;
  std::string sql;
};

constexpr const char* lane_index_sql =
    "CREATE INDEX prices_lane_day ON prices (orig_code, dest_code, day, price)";

const std::vector<SchemaObject>& schema() {
  static const std::vector<SchemaObject> objects = [] {
    std::vector<SchemaObject> o{
        {"table", "regions",
         "CREATE TABLE regions (\n"
         "  slug TEXT NOT NULL PRIMARY KEY,\n"
         "  name TEXT NOT NULL,\n"
         "  parent_slug TEXT REFERENCES regions(slug) DEFERRABLE INITIALLY DEFERRED)"},
        {"table", "ports",
         "CREATE TABLE ports (\n"
         "  code TEXT NOT NULL PRIMARY KEY,\n"
         "  name TEXT NOT NULL,\n"
         "  parent_slug TEXT NOT NULL REFERENCES regions(slug) DEFERRABLE INITIALLY DEFERRED)"},
        {"table", "prices",
         "CREATE TABLE prices (\n"
         "  orig_code TEXT NOT NULL REFERENCES ports(code),\n"
         "  dest_code TEXT NOT NULL REFERENCES ports(code),\n"
         // Days are ISO text, so text order is day order; the check keeps a row written by
         // other SQL from breaking that.
         "  day TEXT NOT NULL CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'),\n"
         "  price INTEGER NOT NULL)"},
        // Serves the lane/day query from the index alone: lanes by equality, days by range,
        // and the price without touching the table.
        {"index", "prices_lane_day", lane_index_sql},
        {"table", "prkl_batches",
         "CREATE TABLE prkl_batches (\n"
         "  id TEXT NOT NULL PRIMARY KEY,\n"
         "  digest TEXT NOT NULL,\n"
         "  rows INTEGER NOT NULL,\n"
         "  prices INTEGER NOT NULL,\n"
         "  applied_at TEXT NOT NULL)"},
        {"table", "prkl_meta",
         "CREATE TABLE prkl_meta (key TEXT NOT NULL PRIMARY KEY, value INTEGER NOT NULL)"},
        // Every lane that has prices, kept by the triggers below; filled from the prices already
        // there when it is created.
        {"table", "prkl_lanes",
         "CREATE TABLE prkl_lanes (orig_code TEXT NOT NULL, dest_code TEXT NOT NULL,\n"
         "  PRIMARY KEY (orig_code, dest_code)) WITHOUT ROWID;\n"
         "INSERT INTO prkl_lanes SELECT DISTINCT orig_code, dest_code FROM prices"},
    };
    // The generations move on any change, whoever makes it: prkl, another process, or SQL.
    for (const char* table : {"ports", "regions"}) {
      for (const auto& [event, suffix] :
           {std::pair{"INSERT", "insert"}, {"UPDATE", "update"}, {"DELETE", "delete"}}) {
        const std::string name = fmt::format("prkl_{}_{}", table, suffix);
        o.push_back({"trigger", name,
                     fmt::format("CREATE TRIGGER {} AFTER {} ON {} BEGIN UPDATE prkl_meta SET "
                                 "value = value + 1 WHERE key = 'geography_generation'; END",
                                 name, event, table)});
      }
    }
    for (const auto& [event, suffix] :
         {std::pair{"INSERT", "insert"}, {"UPDATE OF orig_code, dest_code", "update"}}) {
      const std::string name = fmt::format("prkl_prices_lanes_{}", suffix);
      o.push_back({"trigger", name,
                   fmt::format("CREATE TRIGGER {} AFTER {} ON prices WHEN NOT EXISTS (SELECT 1 "
                               "FROM prkl_lanes WHERE orig_code = NEW.orig_code AND dest_code = "
                               "NEW.dest_code) BEGIN INSERT INTO prkl_lanes VALUES (NEW.orig_code, "
                               "NEW.dest_code); UPDATE prkl_meta SET value = value + 1 WHERE key "
                               "= 'lanes_generation'; END",
                               name, event)});
    }
    return o;
  }();
  return objects;
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
    for (const SchemaObject& object : schema()) {
      if (std::find(missing.begin(), missing.end(), object.name) == missing.end()) continue;
      connection_.exec(object.sql);
      added.push_back(fmt::format("{} {}", object.kind, object.name));
    }
    connection_.exec(
        "INSERT OR IGNORE INTO prkl_meta VALUES ('geography_generation', 0), "
        "('lanes_generation', 0)");
    tx.commit();
    return added;
  }

  Generations generations() override {
    auto& s = generations_->reset();
    if (!s.step()) throw StorageError("prkl_meta cannot be read");
    const Generations now{s.int64(0), s.int64(1)};
    s.reset();  // an unfinished statement would keep DDL and DELETE out of this connection
    return now;
  }

  GeographySnapshot geography() override {
    GeographySnapshot snapshot;
    Transaction tx(connection_, Transaction::Kind::deferred);
    snapshot.generation = generations().geography;
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

  LaneSnapshot lanes() override {
    LaneSnapshot snapshot;
    Transaction tx(connection_, Transaction::Kind::deferred);
    snapshot.generation = generations().lanes;
    Statement lanes(connection_, "SELECT orig_code, dest_code FROM prkl_lanes");
    while (lanes.step()) snapshot.lanes.push_back({lanes.text(0), lanes.text(1)});
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

  std::vector<DailyAggregate> daily_aggregates(std::span<const Lane> lanes, Date from,
                                               Date to) override {
    nlohmann::json pairs = nlohmann::json::array();
    for (const Lane& lane : lanes) pairs.push_back({lane.origin, lane.destination});
    auto& s = aggregates_->reset();
    s.bind(1, pairs.dump()).bind(2, format_date(from)).bind(3, format_date(to));
    // Rows arrive lane by lane, days ascending within each; one slot per day of the range adds
    // them up without the sort a GROUP BY would need.
    std::vector<DailyAggregate> slots(std::size_t((to - from).count() + 1));
    while (s.step()) {
      const std::string_view day = s.text_view(0);
      Date parsed;
      try {
        parsed = parse_date(day, "day");
      } catch (const InvalidArgument&) {
        const std::string text(day);
        s.reset();
        throw StorageError(fmt::format("prices holds a malformed day '{}'", text));
      }
      const auto slot_index = std::size_t((parsed - from).count());
      if (parsed < from || slot_index >= slots.size()) {
        s.reset();
        throw StorageError(fmt::format("SQLite returned day {} outside {}..{}", format_date(parsed),
                                       format_date(from), format_date(to)));
      }
      const auto price = static_cast<std::int32_t>(s.int64(1));
      DailyAggregate& slot = slots[slot_index];
      if (slot.count++ == 0) {
        slot.day = parsed;
        slot.min = slot.max = price;
      } else {
        slot.min = std::min(slot.min, price);
        slot.max = std::max(slot.max, price);
      }
      slot.sum += price;
    }
    std::erase_if(slots, [](const DailyAggregate& d) { return d.count == 0; });
    return slots;
  }

  void replace_all(const Dataset& data, const Progress& progress) override {
    Transaction tx(connection_, Transaction::Kind::immediate);
    // The index is rebuilt once at the end rather than kept up to date row by row.
    connection_.exec(
        "DELETE FROM prices; DELETE FROM ports; DELETE FROM regions; DELETE FROM prkl_batches;\n"
        "DELETE FROM prkl_lanes;\n"
        "UPDATE prkl_meta SET value = value + 1 WHERE key = 'lanes_generation';\n"
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
    connection_.exec(lane_index_sql);
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
    for (const SchemaObject& object : schema()) {
      if (!s.reset().bind(1, object.name).step()) missing.push_back(object.name);
    }
    return missing;
  }

  void prepare() {
    generations_.emplace(connection_,
                         "SELECT (SELECT value FROM prkl_meta WHERE key = 'geography_generation'),"
                         " (SELECT value FROM prkl_meta WHERE key = 'lanes_generation')");
    // Port sets arrive as one JSON array parameter each, never as SQL text.
    // The lanes arrive as one JSON array of [origin, destination] pairs, never as SQL text;
    // each pair is one range scan of prices_lane_day.
    aggregates_.emplace(connection_,
                        "SELECT p.day, p.price\n"
                        "FROM json_each(?1) AS lane JOIN prices AS p\n"
                        "  ON p.orig_code = lane.value ->> 0 AND p.dest_code = lane.value ->> 1\n"
                        " AND p.day BETWEEN ?2 AND ?3");
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
  std::optional<Statement> generations_, aggregates_, find_batch_, insert_batch_, insert_price_;
};

}  // namespace

std::unique_ptr<Store> open(const std::string& path, OpenMode mode) {
  if (mode == OpenMode::existing && path != ":memory:" && !std::filesystem::exists(path)) {
    throw NotFound(fmt::format("no SQLite database at '{}'; create it with 'prkl init'", path));
  }
  return std::make_unique<SqliteStore>(path, mode);
}

}  // namespace prkl::sqlite
