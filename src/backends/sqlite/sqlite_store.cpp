// SPDX-License-Identifier: MIT
// The SQLite Store: its schema and triggers, reads in one transaction, batch writes with the
// lane-day aggregates kept set-based, WAL mode for concurrent readers.
#include "sqlite_store.hpp"

#include <fmt/format.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>
#include <tuple>
#include <utility>

#include "fx/exchange_detail.hpp"
#include "prkl/error.hpp"
#include "sqlite_handles.hpp"
#include "storage/lane_day_groups.hpp"
#include "storage/prkl_tables.hpp"
#include "storage/ratestask.hpp"
#include "storage/store_detail.hpp"

namespace prkl::sqlite {

namespace {

namespace ratestask = detail::ratestask;
namespace own = detail::prkl_tables;
constexpr auto dialect = detail::schema::Dialect::sqlite;

// Each object of the schema with what it is and the statement that creates it, in creation
// order. The tables keep the ratestask names and columns; prkl's own objects are prefixed.
struct SchemaObject {
  std::string kind;
  std::string name;
  std::string sql;
  // A table's columns that prkl reads and writes; checked on tables it finds in a file.
  std::string columns{};
};

// SQLite days are ISO text; the lane-days count days since 1970-01-01 like the core does.
std::string day_number(std::string_view column) {
  return fmt::format("CAST(julianday({}) - 2440587.5 AS INTEGER)", column);
}

// A row's term if it is one prkl knows, else NULL.
constexpr const char* known_term = "CASE WHEN term IN ('short', 'long') THEN term END";

// Notes that a day's lane-days changed at the current data version.
std::string log_day(std::string_view day) {
  return fmt::format(
      "  INSERT INTO prkl_day_changes VALUES ((SELECT value FROM prkl_meta WHERE key = "
      "'data_version'), {}) ON CONFLICT DO NOTHING;\n",
      day);
}

// The days of a contract row (NEW or OLD) as a recursive CTE d(day) of ISO days.
std::string contract_days(std::string_view row) {
  return fmt::format(
      "d(day) AS (SELECT {0}.valid_from UNION ALL SELECT date(day, '+1 day') FROM d WHERE day < "
      "{0}.valid_to)",
      row);
}

// Counts the lane-days of `row`'s lane on the days of `days` (a CTE d(day)) again from the
// prices and the contracts there: a delete or update can take away a min or a max.
std::string recount_lane_days(std::string_view row, std::string_view days) {
  return fmt::format(
      "  INSERT INTO prkl_lane_days WITH RECURSIVE {1}\n"
      "  SELECT {0}.orig_code, {0}.dest_code, {2}, count(p.price), coalesce(sum(p.price), 0),"
      " coalesce(min(p.price), 0), coalesce(max(p.price), 0)\n"
      "  FROM d LEFT JOIN (SELECT day, price FROM prices WHERE orig_code = {0}.orig_code"
      " AND dest_code = {0}.dest_code AND day IN (SELECT day FROM d)\n"
      "    UNION ALL SELECT d.day, c.price FROM d JOIN prkl_contracts c ON c.orig_code ="
      " {0}.orig_code AND c.dest_code = {0}.dest_code AND c.valid_from BETWEEN date(d.day, '-{3}"
      " days') AND d.day AND c.valid_to >= d.day) p ON p.day = d.day\n"
      "  WHERE true GROUP BY d.day\n"
      "  {4};\n"
      "  INSERT INTO prkl_day_changes WITH RECURSIVE {1}\n"
      "  SELECT (SELECT value FROM prkl_meta WHERE key = 'data_version'), {2} FROM d WHERE true"
      " ON CONFLICT DO NOTHING;\n",
      row, days, day_number("d.day"), max_contract_days - 1, own::replace_lane_day_sql(dialect));
}

std::string price_day(std::string_view row) {
  return fmt::format("d(day) AS (SELECT {}.day)", row);
}

// Objects of earlier versions that the lane-days replaced; init drops them (they hold nothing
// that the prices do not).
constexpr const char* retired_objects[][3] = {
    {"trigger", "prkl_prices_lanes_insert", "replaced by prkl_lane_days"},
    {"trigger", "prkl_prices_lanes_update", "replaced by prkl_lane_days"},
    {"table", "prkl_lanes", "replaced by prkl_lane_days"},
    {"trigger", "prkl_prices_delete", "replaced by one that counts contracts too"},
    {"trigger", "prkl_prices_update", "replaced by one that counts contracts too"},
    {"index", "prices_lane_day", "replaced by prices_by_lane, which serves filters too"},
    {"trigger", "prkl_prices_changed", "an interim name of prkl_prices_updated"}};

// Adds the prices to prkl_lane_days (merged with the contracts' days a load put there first).
std::string lane_days_from_prices() {
  return fmt::format(
      "INSERT INTO prkl_lane_days SELECT orig_code, dest_code, {}, count(*), sum(price),"
      " min(price), max(price)\nFROM prices WHERE true GROUP BY orig_code, dest_code, day\n{}",
      day_number("day"), own::merge_lane_day_sql(dialect));
}

constexpr const char* lane_index_sql =
    "CREATE INDEX prices_by_lane ON prices (orig_code, dest_code, day, price, equipment, term, "
    "received)";

const std::vector<SchemaObject>& schema() {
  static const std::vector<SchemaObject> objects = [] {
    std::vector<SchemaObject> o;
    for (const auto& table : ratestask::tables) {
      o.push_back({"table", std::string(table.name),
                   ratestask::create_table(table, ratestask::Dialect::sqlite),
                   ratestask::column_list(table)});
    }
    // A price's dimensions: columns added to the ratestask table (a file of an earlier version
    // gains them at `prkl init`), and the table of the equipment codes they may name.
    for (const ratestask::Column& column : ratestask::price_dimensions) {
      o.push_back({"column", fmt::format("prices.{}", column.name),
                   ratestask::add_column(ratestask::prices, column, ratestask::Dialect::sqlite)});
    }
    o.push_back({"table", "prkl_contracts", ratestask::create_contracts(ratestask::Dialect::sqlite),
                 ratestask::column_list(ratestask::contracts)});
    // Serves the lane/day query from the index alone: lanes by equality, days by range, and
    // the price and what a filter asks (equipment, term, received) without touching the table.
    o.push_back({"index", "prices_by_lane", lane_index_sql});
    for (const auto& table : own::tables) {
      std::string sql = detail::schema::create_table(table, dialect);
      if (table.name == own::equipment.name) sql += ";\n" + own::seed_equipment_sql();
      // Counted from the prices already there when it is made.
      if (table.name == own::lane_days.name) sql += ";\n" + lane_days_from_prices();
      o.push_back({"table", std::string(table.name), sql, detail::schema::column_list(table)});
    }
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
    // Prices written by other SQL: each row moves the data version and updates its lane-day.
    // prkl's own batches switch triggers off on their connection and update the lane-days
    // set-based instead.
    constexpr const char* foreign_write =
        "BEGIN\n  UPDATE prkl_meta SET value = value + 1 WHERE key = 'data_version';\n";
    o.push_back(
        {"trigger", "prkl_prices_insert",
         fmt::format("CREATE TRIGGER prkl_prices_insert AFTER INSERT ON prices {}"
                     "  INSERT INTO prkl_lane_days VALUES (NEW.orig_code, NEW.dest_code, {}, 1,"
                     " NEW.price, NEW.price, NEW.price)\n  {};\n{}END",
                     foreign_write, day_number("NEW.day"), own::merge_lane_day_sql(dialect),
                     log_day(day_number("NEW.day")))});
    o.push_back({"trigger", "prkl_prices_deleted",
                 fmt::format("CREATE TRIGGER prkl_prices_deleted AFTER DELETE ON prices {}{}END",
                             foreign_write, recount_lane_days("OLD", price_day("OLD")))});
    // Any column: a change of equipment, term or received alone moves the data version too,
    // so cached answers and the copy's prices are refreshed. (Schema 2 had `UPDATE OF orig_code,
    // dest_code, day, price`; init redefines it under the same name, which older versions
    // look for.)
    o.push_back({"trigger", "prkl_prices_updated",
                 fmt::format("CREATE TRIGGER prkl_prices_updated AFTER UPDATE ON prices {}{}{}END",
                             foreign_write, recount_lane_days("OLD", price_day("OLD")),
                             recount_lane_days("NEW", price_day("NEW")))});
    // Contracts written by other SQL count on each day of their validity, like prkl's own.
    o.push_back(
        {"trigger", "prkl_contracts_inserted",
         fmt::format(
             "CREATE TRIGGER prkl_contracts_inserted AFTER INSERT ON prkl_contracts {}{}END",
             foreign_write, recount_lane_days("NEW", contract_days("NEW")))});
    o.push_back(
        {"trigger", "prkl_contracts_deleted",
         fmt::format("CREATE TRIGGER prkl_contracts_deleted AFTER DELETE ON prkl_contracts {}{}END",
                     foreign_write, recount_lane_days("OLD", contract_days("OLD")))});
    o.push_back(
        {"trigger", "prkl_contracts_updated",
         fmt::format(
             "CREATE TRIGGER prkl_contracts_updated AFTER UPDATE ON prkl_contracts {}{}{}END",
             foreign_write, recount_lane_days("OLD", contract_days("OLD")),
             recount_lane_days("NEW", contract_days("NEW")))});
    return o;
  }();
  return objects;
}

// prkl's tables: those of its schema, and any prkl_ one of an earlier version.
bool is_prkl_table(std::string_view name) {
  if (name.starts_with("prkl_")) return true;
  const auto& objects = schema();
  return std::any_of(objects.begin(), objects.end(), [&](const SchemaObject& object) {
    return object.kind == "table" && object.name == name;
  });
}

class SqliteStore final : public Store {
 public:
  SqliteStore(Connection connection, OpenMode mode)
      : path_(connection.path()), connection_(std::move(connection)) {
    // Settings of this connection alone: the file is not changed by them.
    connection_.exec(
        "PRAGMA synchronous = FULL;\n"
        "PRAGMA foreign_keys = ON;");
    if (mode == OpenMode::create) {
      added_on_open_ = init();
    } else {
      refuse_foreign_file();
      if (const auto missing = missing_objects(); !missing.empty()) {
        throw StorageError(
            fmt::format("{} is not a prkl database of this version (it has no {}); bring it up "
                        "to date with 'prkl init'",
                        quoted_value(path_), missing.front()));
      }
    }
    prepare();
  }

  std::string_view backend() const noexcept override { return "sqlite"; }

  std::vector<std::string> init() override {
    // What opening in create mode added is reported by the first init() call, so that
    // `prkl init` on a new file says what it made.
    std::vector<std::string> added = std::exchange(added_on_open_, {});
    // Nothing in the file changes before it is known to be prkl's to change.
    refuse_foreign_file();
    check_columns();
    use_wal();
    Transaction tx(connection_, Transaction::Kind::immediate);
    Statement exists(connection_, "SELECT 1 FROM sqlite_schema WHERE type = ? AND name = ?");
    for (const auto& [kind, name, why] : retired_objects) {
      if (!exists.reset().bind(1, kind).bind(2, name).step()) continue;
      exists.reset();
      connection_.exec(fmt::format("DROP {} {}", kind, name));
      added.push_back(fmt::format("dropped {} {} ({})", kind, name, why));
    }
    redefine_triggers(added);
    const auto missing = missing_objects();
    for (const SchemaObject& object : schema()) {
      if (std::find(missing.begin(), missing.end(), object.name) == missing.end()) continue;
      connection_.exec(object.sql);
      added.push_back(fmt::format("{} {}", object.kind, object.name));
    }
    connection_.exec(own::meta_setup_sql(dialect, own::new_epoch()));
    tx.commit();
    return added;
  }

  // Drops each of prkl's triggers whose definition an earlier schema wrote differently, so the
  // missing ones are made again as this version defines them. Only upward: a store a newer
  // prkl brought further keeps its triggers.
  void redefine_triggers(std::vector<std::string>& added) {
    Statement meta(connection_,
                   "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'prkl_meta'");
    if (!meta.step()) return;  // a new store: every trigger is made as defined here
    meta.reset();
    Statement recorded(connection_, "SELECT value FROM prkl_meta WHERE key = 'schema_version'");
    if (recorded.step() && !recorded.is_null(0) && recorded.int64(0) >= schema_version) return;
    recorded.reset();
    Statement defined(connection_,
                      "SELECT sql FROM sqlite_schema WHERE type = 'trigger' AND name = ?");
    for (const SchemaObject& object : schema()) {
      if (object.kind != "trigger" || !defined.reset().bind(1, object.name).step()) continue;
      const bool same = defined.text_view(0) == object.sql;
      defined.reset();
      if (same) continue;
      connection_.exec(fmt::format("DROP TRIGGER {}", object.name));
      added.push_back(fmt::format("dropped trigger {} (an earlier definition)", object.name));
    }
  }

  StoreHealth health() override {
    Statement s(connection_, own::schema_versions_sql());
    s.step();
    return {s.is_null(0) ? 0 : s.int64(0), s.is_null(1) ? 0 : s.int64(1), false, std::nullopt};
  }

  StoreVersion version() override {
    auto& s = version_->reset();
    if (!s.step() || s.is_null(0) || s.is_null(1) || s.is_null(2)) {
      s.reset();
      throw StorageError("prkl_meta is incomplete; run 'prkl init'");
    }
    const StoreVersion now{s.int64(0), s.int64(1), s.int64(2)};
    s.reset();  // an unfinished statement would keep DDL and DELETE out of this connection
    return now;
  }

  GeographySnapshot geography() override {
    GeographySnapshot snapshot;
    Transaction tx(connection_, Transaction::Kind::deferred);
    snapshot.generation = version().geography;
    Statement regions(connection_, ratestask::select_sql(ratestask::regions));
    while (regions.step()) {
      snapshot.regions.push_back(
          {regions.text(0), regions.text(1),
           regions.is_null(2) ? std::nullopt : std::optional<std::string>(regions.text(2))});
    }
    Statement ports(connection_, ratestask::select_sql(ratestask::ports));
    while (ports.step()) snapshot.ports.push_back({ports.text(0), ports.text(1), ports.text(2)});
    tx.commit();
    return snapshot;
  }

  bool empty() override {
    Statement s(connection_,
                "SELECT NOT EXISTS (SELECT 1 FROM prices) AND NOT EXISTS (SELECT 1 FROM ports) "
                "AND NOT EXISTS (SELECT 1 FROM regions) AND NOT EXISTS (SELECT 1 FROM "
                "prkl_contracts)");
    s.step();
    return s.int64(0) != 0;
  }

  StoreVersion read_lane_days(const std::optional<StoreVersion>& since,
                              LaneDayReceiver& receiver) override {
    Transaction tx(connection_, Transaction::Kind::deferred);
    const StoreVersion now = version();
    // Changes up to the horizon may be gone: a copy older than that is read again whole.
    const bool complete =
        !since || since->epoch != now.epoch || since->data < day_changes_horizon();
    Statement& s = complete ? all_lane_days_->reset() : changed_lane_days_->reset();
    if (!complete) s.bind(1, since->data);
    receiver.start(complete);
    try {
      while (s.step()) {
        receiver.row({s.text_view(0), s.text_view(1), Date{std::chrono::days{s.int64(2)}},
                      s.int64(3), s.int64(4), detail::checked_price(s.int64(5)),
                      detail::checked_price(s.int64(6))});
      }
    } catch (...) {
      s.reset();
      throw;
    }
    tx.commit();
    return now;
  }

  std::unique_ptr<Loader> begin_load(LoadMode mode) override {
    return std::make_unique<Loading>(*this, mode);
  }

  std::optional<BatchRecord> find_batch(std::string_view id) override {
    auto& s = find_batch_->reset();
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    BatchRecord record{s.text(0), s.text(1), s.int64(2), s.int64(3), s.text(4), {}};
    s.reset();
    auto& rates = find_batch_rates_->reset();
    rates.bind(1, id);
    while (rates.step()) {
      record.rates_used.push_back({rates.text(0), parse_date(rates.text_view(1)), rates.int64(2)});
    }
    return record;
  }

  StoreVersion read_prices(std::span<const LaneKey> lanes, Date from, Date to,
                           const PriceFilter& filter, PriceReceiver& receiver) override {
    Transaction tx(connection_, Transaction::Kind::deferred);
    const StoreVersion now = version();
    const std::string first = format_date(from), last = format_date(to);
    const std::string equipment =
        filter.equipment.empty() ? std::string() : nlohmann::json(filter.equipment).dump();
    // One range scan of prices_by_lane per lane, the price (and what a filter asks of it) read
    // from the index itself.
    auto& s = (filter.empty() ? read_prices_ : read_filtered_prices_)->reset();
    try {
      for (std::size_t i = 0; i < lanes.size(); ++i) {
        s.reset()
            .bind_static(1, lanes[i].origin)
            .bind_static(2, lanes[i].destination)
            .bind_static(3, first)
            .bind_static(4, last);
        if (!equipment.empty()) s.bind_static(5, equipment);
        if (filter.term) s.bind_static(6, to_string(*filter.term));
        if (filter.max_age_days) s.bind(7, *filter.max_age_days);
        while (s.step())
          receiver.price(i, parse_date(s.text_view(0)), detail::checked_price(s.int64(1)));
      }
    } catch (...) {
      s.reset();
      throw;
    }
    s.reset();
    read_contracts(lanes, from, to, filter, equipment, receiver);
    tx.commit();
    return now;
  }

  StoreVersion read_lanes(std::span<const LaneKey> lanes, LaneReceiver& receiver) override {
    Transaction tx(connection_, Transaction::Kind::deferred);
    const StoreVersion now = version();
    const auto date = [](Statement& s, int column) {
      return Date{std::chrono::days{s.int64(column)}};
    };
    const auto dimensions = [&](Statement& s, int column) {
      return Dimensions{
          s.is_null(column) ? std::string_view() : s.text_view(column),
          s.is_null(column + 1) ? std::nullopt
                                : std::optional<Term>(parse_term(s.text_view(column + 1))),
          s.is_null(column + 2) ? std::nullopt : std::optional<Date>(date(s, column + 2))};
    };
    for (auto* statement : {&read_lane_prices_, &read_lane_contracts_}) {
      auto& s = (*statement)->reset();
      const bool prices = statement == &read_lane_prices_;
      try {
        for (std::size_t i = 0; i < lanes.size(); ++i) {
          s.reset().bind_static(1, lanes[i].origin).bind_static(2, lanes[i].destination);
          while (s.step()) {
            if (prices) {
              receiver.price(i, date(s, 0), detail::checked_price(s.int64(1)), dimensions(s, 2));
            } else {
              receiver.contract(i, date(s, 0), date(s, 1), detail::checked_price(s.int64(2)),
                                dimensions(s, 3));
            }
          }
        }
      } catch (...) {
        s.reset();
        throw;
      }
      s.reset();
    }
    tx.commit();
    return now;
  }

  // Each lane's contracts valid on a day of [from, to]: those that began at most
  // max_contract_days before it. One look when the store has none.
  void read_contracts(std::span<const LaneKey> lanes, Date from, Date to, const PriceFilter& filter,
                      const std::string& equipment, PriceReceiver& receiver) {
    auto& any = any_contract_->reset();
    const bool some = any.step() && any.int64(0) != 0;
    any.reset();
    if (!some) return;
    const std::string earliest = format_date(from - std::chrono::days{max_contract_days - 1}),
                      first = format_date(from), last = format_date(to);
    auto& s = read_contracts_->reset();
    try {
      for (std::size_t i = 0; i < lanes.size(); ++i) {
        s.reset()
            .bind_static(1, lanes[i].origin)
            .bind_static(2, lanes[i].destination)
            .bind_static(3, earliest)
            .bind_static(4, last)
            .bind_static(5, first);
        if (!equipment.empty()) s.bind_static(6, equipment);
        if (filter.term) s.bind_static(7, to_string(*filter.term));
        while (s.step()) {
          const std::optional<Date> received =
              s.is_null(3) ? std::nullopt : std::optional<Date>(parse_date(s.text_view(3)));
          deliver_contract(receiver, i, parse_date(s.text_view(0)), parse_date(s.text_view(1)),
                           received, detail::checked_price(s.int64(2)), from, to, filter);
        }
      }
    } catch (...) {
      s.reset();
      throw;
    }
    s.reset();
  }

  std::vector<ExchangeRate> exchange_rates(std::span<const std::string> currencies, Date from,
                                           Date to) override {
    Statement s(connection_,
                "SELECT currency, day, rate FROM prkl_exchange_rates WHERE currency IN "
                "(SELECT value FROM json_each(?)) AND day BETWEEN ? AND ?");
    s.bind(1, nlohmann::json(currencies).dump())
        .bind(2, format_date(from))
        .bind(3, format_date(to));
    std::vector<ExchangeRate> out;
    while (s.step()) out.push_back({s.text(0), parse_date(s.text_view(1)), s.int64(2)});
    return out;
  }

  std::vector<std::string> equipment() override {
    Statement s(connection_, "SELECT code FROM prkl_equipment ORDER BY code");
    std::vector<std::string> out;
    while (s.step()) out.push_back(s.text(0));
    return out;
  }

  std::int64_t add_equipment(std::span<const std::string> codes) override {
    Transaction tx(connection_, Transaction::Kind::immediate);
    Statement add(connection_, "INSERT INTO prkl_equipment VALUES (?) ON CONFLICT DO NOTHING");
    std::int64_t added = 0;
    for (const std::string& code : codes) {
      add.reset().bind(1, code).run();
      added += sqlite3_changes(connection_.get());
    }
    tx.commit();
    return added;
  }

  std::vector<std::string> currencies() override {
    Statement s(connection_, "SELECT DISTINCT currency FROM prkl_exchange_rates ORDER BY currency");
    std::vector<std::string> out;
    while (s.step()) out.push_back(s.text(0));
    return out;
  }

  std::int64_t put_exchange_rates(std::span<const ExchangeRate> rates, bool replace) override {
    Transaction tx(connection_, Transaction::Kind::immediate);
    Statement existing(connection_,
                       "SELECT rate FROM prkl_exchange_rates WHERE currency = ? AND day = ?");
    Statement put(connection_,
                  "INSERT INTO prkl_exchange_rates VALUES (?, ?, ?) "
                  "ON CONFLICT DO UPDATE SET rate = excluded.rate");
    std::int64_t written = 0;
    for (const ExchangeRate& rate : rates) {
      const std::string day = format_date(rate.day);
      existing.reset().bind(1, rate.currency).bind(2, day);
      if (existing.step()) {
        const std::int64_t old = existing.int64(0);
        existing.reset();
        if (old == rate.units) continue;
        if (!replace) throw detail::rate_conflict(rate, old);
      }
      put.reset().bind(1, rate.currency).bind(2, day).bind(3, rate.units).run();
      ++written;
    }
    tx.commit();
    return written;
  }

  ApplyOutcome apply_batch(const BatchRecord& record, std::span<const Price> prices,
                           std::span<const Contract> contracts, const Progress& progress) override {
    // IMMEDIATE takes the write lock up front, so the ledger check below cannot race another
    // writer: the second of two processes with the same id finds the first one's record.
    Transaction tx(connection_, Transaction::Kind::immediate);
    if (auto existing = find_batch(record.id)) return {std::move(*existing), true};
    {
      const TriggersOff triggers_off(connection_);
      insert_prices(prices, progress);
      insert_contracts(contracts);
    }
    add_lane_days(detail::lane_day_groups(prices, contracts));
    insert_batch_->reset()
        .bind(1, record.id)
        .bind(2, record.digest)
        .bind(3, record.rows)
        .bind(4, record.prices)
        .bind(5, record.applied_at)
        .run();
    for (const ExchangeRate& rate : record.rates_used) {
      insert_batch_rate_->reset()
          .bind(1, record.id)
          .bind(2, rate.currency)
          .bind(3, format_date(rate.day))
          .bind(4, rate.units)
          .run();
    }
    tx.commit();
    return {record, false};
  }

 private:
  // A file with tables of which none is prkl's or ratestask's belongs to another application:
  // prkl neither reads it as a store nor adds its own tables to it.
  void refuse_foreign_file() {
    Statement tables(connection_,
                     "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE "
                     "'sqlite\\_%' ESCAPE '\\' ORDER BY name");
    std::vector<std::string> others;
    while (tables.step()) {
      if (is_prkl_table(tables.text_view(0))) return;
      others.push_back(tables.text(0));
    }
    if (others.empty()) return;
    throw InvalidArgument(
        fmt::format("'{}' is the SQLite database of another application (its tables: {}), not a "
                    "prkl store; prkl makes its store in a new file or one it made",
                    path_, fmt::join(others, ", ")));
  }

  // A table found in the file must have the columns prkl uses; a clear error beats a failing
  // query later.
  void check_columns() {
    Statement exists(connection_, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?");
    for (const SchemaObject& object : schema()) {
      if (object.kind != "table" || !exists.reset().bind(1, object.name).step()) continue;
      exists.reset();
      const std::string sql = detail::schema::probe_sql(object.name, object.columns);
      sqlite3_stmt* probe = nullptr;
      const int rc = sqlite3_prepare_v2(connection_.get(), sql.c_str(), -1, &probe, nullptr);
      sqlite3_finalize(probe);
      if (rc == SQLITE_ERROR) {
        throw StorageError(
            fmt::format("table '{}' in '{}' does not have the columns prkl needs ({}): {}",
                        object.name, path_, object.columns, sqlite3_errmsg(connection_.get())));
      }
      connection_.check(rc, sql);
    }
  }

  // Switching to WAL writes the file's header in a transaction that began as a read, and
  // SQLite reports a writer in its way at once there rather than call the busy handler (which
  // could deadlock): two processes creating one new store meet exactly here. So the busy
  // timeout is waited here by hand. A file already in WAL mode is not written.
  void use_wal() {
    constexpr const char* sql = "PRAGMA journal_mode = WAL";
    const auto deadline = std::chrono::steady_clock::now() + connection_.busy_timeout();
    for (;;) {
      const int rc = connection_.try_exec(sql);
      if (rc == SQLITE_OK) return;
      if ((rc & 0xff) != SQLITE_BUSY || std::chrono::steady_clock::now() >= deadline) {
        connection_.fail(rc, sqlite3_errmsg(connection_.get()), sql);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  std::vector<std::string> missing_objects() {
    std::vector<std::string> missing;
    Statement s(connection_, "SELECT 1 FROM sqlite_schema WHERE name = ?");
    Statement column(connection_, "SELECT 1 FROM pragma_table_info(?) WHERE name = ?");
    for (const SchemaObject& object : schema()) {
      if (object.kind == "column") {
        const std::size_t dot = object.name.find('.');
        column.reset()
            .bind(1, std::string_view(object.name).substr(0, dot))
            .bind(2, std::string_view(object.name).substr(dot + 1));
        if (!column.step()) missing.push_back(object.name);
      } else if (!s.reset().bind(1, object.name).step()) {
        missing.push_back(object.name);
      }
    }
    return missing;
  }

  void prepare() {
    version_.emplace(connection_,
                     "SELECT (SELECT value FROM prkl_meta WHERE key = 'geography_generation'),"
                     " (SELECT value FROM prkl_meta WHERE key = 'data_version'),"
                     " (SELECT value FROM prkl_meta WHERE key = 'data_epoch')");
    all_lane_days_.emplace(connection_, own::filled_lane_days_sql(dialect));
    changed_lane_days_.emplace(connection_, own::changed_lane_days_sql(dialect));
    find_batch_.emplace(connection_, own::find_batch_sql(dialect));
    insert_batch_.emplace(connection_, detail::schema::insert_sql(own::batches, dialect));
    find_batch_rates_.emplace(connection_, own::find_batch_rates_sql(dialect));
    insert_batch_rate_.emplace(connection_, detail::schema::insert_sql(own::batch_rates, dialect));
    read_prices_.emplace(connection_,
                         "SELECT day, price FROM prices "
                         "WHERE orig_code = ? AND dest_code = ? AND day BETWEEN ? AND ?");
    // Null parameters leave their condition out: ?5 the equipment codes as a JSON array, ?6 the
    // term, ?7 the most days a price's day may be after it was received.
    read_filtered_prices_.emplace(
        connection_,
        "SELECT day, price FROM prices "
        "WHERE orig_code = ?1 AND dest_code = ?2 AND day BETWEEN ?3 AND ?4 "
        "AND (?5 IS NULL OR equipment IN (SELECT value FROM json_each(?5))) "
        "AND (?6 IS NULL OR term = ?6) "
        "AND (?7 IS NULL OR julianday(day) - julianday(coalesce(received, day)) <= ?7)");
    // In prices_by_lane's order: no sort. Days as the numbers the lane-days and the filters'
    // SQL take them for (julianday), whatever text another writer stored; a term that is not
    // one of prkl's as none, which no filter keeps, as the filters' SQL does not.
    read_lane_prices_.emplace(
        connection_, fmt::format("SELECT {}, price, equipment, {}, {} FROM prices "
                                 "WHERE orig_code = ? AND dest_code = ? ORDER BY day, price",
                                 day_number("day"), known_term, day_number("received")));
    read_lane_contracts_.emplace(
        connection_, fmt::format("SELECT {}, {}, price, equipment, {}, {} FROM prkl_contracts "
                                 "WHERE orig_code = ? AND dest_code = ? ORDER BY valid_from",
                                 day_number("valid_from"), day_number("valid_to"), known_term,
                                 day_number("received")));
    insert_price_.emplace(connection_, ratestask::insert_sql(ratestask::dimensioned_prices));
    insert_contract_.emplace(connection_, ratestask::insert_sql(ratestask::contracts));
    any_contract_.emplace(connection_, "SELECT EXISTS (SELECT 1 FROM prkl_contracts)");
    // ?6 the equipment codes as a JSON array and ?7 the term, each left out when null; the
    // age is judged day by day (deliver_contract()).
    read_contracts_.emplace(connection_,
                            "SELECT valid_from, valid_to, price, received FROM prkl_contracts "
                            "WHERE orig_code = ?1 AND dest_code = ?2 AND valid_from BETWEEN ?3 "
                            "AND ?4 AND valid_to >= ?5 "
                            "AND (?6 IS NULL OR equipment IN (SELECT value FROM json_each(?6))) "
                            "AND (?7 IS NULL OR term = ?7)");
    bump_version_.emplace(connection_, own::bump_data_version_sql());
    std::string many_rows;
    for (std::size_t i = 0; i < rows_per_upsert; ++i) {
      many_rows += i == 0 ? "(?, ?, ?, ?, ?, ?, ?)" : ", (?, ?, ?, ?, ?, ?, ?)";
    }
    const std::string merge = own::merge_lane_day_sql(dialect);
    add_lane_days_.emplace(
        connection_, fmt::format("INSERT INTO prkl_lane_days VALUES {} {}", many_rows, merge));
    add_lane_day_.emplace(
        connection_,
        fmt::format("INSERT INTO prkl_lane_days VALUES (?, ?, ?, ?, ?, ?, ?) {}", merge));
    log_day_.emplace(connection_,
                     "INSERT INTO prkl_day_changes VALUES (?, ?) ON CONFLICT DO NOTHING");
  }

  // A load's one write transaction. The lane index is dropped and built once at finish()
  // rather than kept up to date row by row, and the lane-days once from it; no trigger runs per
  // row meanwhile. Foreign keys are off and checked once, in one pass, at finish(): a dump lists
  // prices before the regions their ports name, and a deferred key would have each port look
  // through every price before it for the violations it resolves.
  class Loading final : public Loader {
   public:
    Loading(SqliteStore& store, LoadMode mode)
        : store_(store),
          keys_off_(store.connection_),
          tx_(store.connection_, Transaction::Kind::immediate) {
      if (mode == LoadMode::into_empty && !store_.empty()) detail::refuse_load_over_data();
      triggers_off_.emplace(store_.connection_);
      store_.connection_.exec(
          "DELETE FROM prkl_contracts; DELETE FROM prices; DELETE FROM ports;\n"
          "DELETE FROM regions; DELETE FROM prkl_batch_rates; DELETE FROM prkl_batches;\n"
          "DELETE FROM prkl_lane_days; DELETE FROM prkl_day_changes;\n"
          "DROP INDEX IF EXISTS prices_by_lane;");
    }

    void add(std::span<const Region> regions) override {
      Statement insert(store_.connection_, ratestask::insert_sql(ratestask::regions));
      for (const Region& r : regions) {
        insert.reset().bind(1, r.slug).bind(2, r.name);
        if (r.parent_slug) insert.bind(3, *r.parent_slug);
        insert.run();
      }
    }

    void add(std::span<const Port> ports) override {
      Statement insert(store_.connection_, ratestask::insert_sql(ratestask::ports));
      for (const Port& p : ports)
        insert.reset().bind(1, p.code).bind(2, p.name).bind(3, p.region_slug).run();
    }

    void add(std::span<const Price> prices) override { store_.insert_prices(prices, {}); }

    std::int64_t remove_prices_on(Date day) override {
      Statement remove(store_.connection_, "DELETE FROM prices WHERE day = ?");
      remove.bind(1, format_date(day)).run();
      return sqlite3_changes64(store_.connection_.get());
    }

    // A chunk of contracts' days are summed here a lane at a time, not expanded in SQL, and
    // merged into the lane-days as they come.
    void add(std::span<const Contract> contracts) override {
      store_.insert_contracts(contracts);
      store_.add_lane_days(detail::lane_day_groups({}, contracts), false);
    }

    void finish(std::span<const Contract> contracts) override {
      Connection& c = store_.connection_;
      if (!contracts.empty()) add(contracts);
      c.exec(lane_index_sql);
      c.exec(
          fmt::format("UPDATE prkl_meta SET value = value + 1 WHERE key = 'data_version';\n{};\n"
                      "UPDATE prkl_meta SET value = {} WHERE key = 'data_epoch';\n"
                      "UPDATE prkl_meta SET value = value + 1 WHERE key = 'geography_generation';",
                      lane_days_from_prices(), own::new_epoch()));
      // The core checked every row; this is the store's own word that nothing dangles.
      Statement dangling(c, "PRAGMA foreign_key_check");
      if (dangling.step()) {
        throw StorageError(fmt::format("the load left a row of {} whose {} is not there",
                                       dangling.text(0), dangling.text(2)));
      }
      dangling.reset();
      tx_.commit();
    }

   private:
    // Outside the transaction, where SQLite lets the setting change; on again after it ends.
    struct ForeignKeysOff {
      explicit ForeignKeysOff(Connection& c) : connection(c) {
        connection.exec("PRAGMA foreign_keys = OFF");
      }
      ~ForeignKeysOff() {
        sqlite3_exec(connection.get(), "PRAGMA foreign_keys = ON", nullptr, nullptr, nullptr);
      }
      ForeignKeysOff(const ForeignKeysOff&) = delete;
      ForeignKeysOff& operator=(const ForeignKeysOff&) = delete;
      Connection& connection;
    };

    SqliteStore& store_;
    ForeignKeysOff keys_off_;
    Transaction tx_;
    std::optional<TriggersOff> triggers_off_;  // on again before the transaction ends
  };

  void insert_prices(std::span<const Price> prices, const Progress& progress) {
    const auto total = std::int64_t(prices.size());
    std::int64_t done = 0;
    std::string day, received;
    for (const Price& p : prices) {
      day = format_date(p.day);
      auto& insert = insert_price_->reset()
                         .bind_static(1, p.origin)
                         .bind_static(2, p.destination)
                         .bind_static(3, day)
                         .bind(4, std::int64_t{p.price});
      // Unbound parameters are null: a price without the dimension.
      if (!p.equipment.empty()) insert.bind_static(5, p.equipment);
      if (p.term) insert.bind_static(6, to_string(*p.term));
      if (p.received) {
        received = format_date(*p.received);
        insert.bind_static(7, received);
      }
      insert.run();
      if (progress && ++done % 10'000 == 0) progress(done, total);
    }
    if (progress) progress(total, total);
  }

  // A contract is one row; its days reach the lane-days through add_lane_days().
  void insert_contracts(std::span<const Contract> contracts) {
    for (const Contract& c : contracts) {
      const std::string from = format_date(c.valid_from), to = format_date(c.valid_to);
      auto& insert = insert_contract_->reset()
                         .bind_static(1, c.origin)
                         .bind_static(2, c.destination)
                         .bind_static(3, from)
                         .bind_static(4, to)
                         .bind(5, std::int64_t{c.price});
      if (!c.equipment.empty()) insert.bind_static(6, c.equipment);
      if (c.term) insert.bind_static(7, to_string(*c.term));
      const std::string received = c.received ? format_date(*c.received) : std::string();
      if (c.received) insert.bind_static(8, received);
      insert.run();
    }
  }

  // The batch's lane-days (grouped in memory, in key order) upserted so the table's tree is
  // walked once, many lane-days to a statement: one statement per lane-day spent more time
  // starting statements than changing the tree.
  // Adds `groups` to the lane-days. `log`: as a change of a new data version, which readers
  // catch up by; a load, which starts a new epoch, has nothing to log.
  void add_lane_days(const std::vector<LaneDay>& groups, bool log = true) {
    const auto bind = [&](Statement& statement, int row, const LaneDay& g) {
      const int at = row * 7;
      statement.bind_static(at + 1, g.origin)
          .bind_static(at + 2, g.destination)
          .bind(at + 3, std::int64_t(g.day.time_since_epoch().count()))
          .bind(at + 4, g.count)
          .bind(at + 5, g.sum)
          .bind(at + 6, std::int64_t{g.min})
          .bind(at + 7, std::int64_t{g.max});
    };
    std::size_t i = 0;
    for (; i + rows_per_upsert <= groups.size(); i += rows_per_upsert) {
      Statement& many = add_lane_days_->reset();
      for (std::size_t row = 0; row < rows_per_upsert; ++row) bind(many, int(row), groups[i + row]);
      many.run();
    }
    for (; i < groups.size(); ++i) {
      bind(add_lane_day_->reset(), 0, groups[i]);
      add_lane_day_->run();
    }
    if (!log) return;
    auto& bump = bump_version_->reset();
    if (!bump.step()) throw StorageError("prkl_meta has no data_version; run 'prkl init'");
    const std::int64_t version = bump.int64(0);
    bump.reset();
    std::vector<Date> days;
    for (const LaneDay& g : groups) days.push_back(g.day);
    std::sort(days.begin(), days.end());
    days.erase(std::unique(days.begin(), days.end()), days.end());
    for (const Date day : days) {
      log_day_->reset()
          .bind(1, version)
          .bind(2, std::int64_t(day.time_since_epoch().count()))
          .run();
    }
    forget_old_changes(version);
  }

  std::int64_t day_changes_horizon() {
    Statement s(connection_, own::day_changes_horizon_sql());
    return s.step() ? s.int64(0) : 0;
  }

  // Keeps the change log to the last kept_change_versions versions (see store_detail.hpp),
  // whatever wrote the older ones: other SQL logs a version per row it changes.
  void forget_old_changes(std::int64_t version) {
    const std::int64_t horizon = version - detail::kept_change_versions;
    if (horizon <= 0) return;
    Statement(connection_, "DELETE FROM prkl_day_changes WHERE version <= ?")
        .bind(1, horizon)
        .run();
    Statement(connection_,
              "INSERT INTO prkl_meta VALUES ('day_changes_horizon', ?) ON CONFLICT (key) "
              "DO UPDATE SET value = max(value, excluded.value)")
        .bind(1, horizon)
        .run();
  }

  std::string path_;
  Connection connection_;
  std::vector<std::string> added_on_open_;
  std::optional<Statement> version_, all_lane_days_, changed_lane_days_, find_batch_, insert_batch_,
      insert_price_, bump_version_, add_lane_day_, add_lane_days_, log_day_, find_batch_rates_,
      insert_batch_rate_, read_prices_, read_filtered_prices_, insert_contract_, any_contract_,
      read_contracts_, read_lane_prices_, read_lane_contracts_;
  static constexpr std::size_t rows_per_upsert = 64;
};

// What SQLite opens for `path` read as an immutable file: a URI, escaped.
std::string immutable_uri(std::string_view path) {
  std::string uri = "file:";
  for (const char c : path) {
    const bool plain = std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '-' ||
                       c == '.' || c == '_' || c == '~';
    uri += plain ? std::string(1, c) : fmt::format("%{:02X}", static_cast<unsigned char>(c));
  }
  return uri + "?mode=ro&immutable=1";
}

// True when nobody but root can change the store at `path`: its write-ahead log holds nothing,
// so the main file alone is the store, and neither that file nor its directory (where a writer
// would create the log) may be written by anyone, or the file system is mounted read-only.
bool frozen(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code error;
  const auto wal_size = fs::file_size(path + "-wal", error);
  if (error ? error != std::errc::no_such_file_or_directory : wal_size != 0) return false;
  const auto writable = [](const fs::path& p) {
    std::error_code ignored;
    return (fs::status(p, ignored).permissions() &
            (fs::perms::owner_write | fs::perms::group_write | fs::perms::others_write)) !=
           fs::perms::none;
  };
  const fs::path file(path);
  const fs::path directory = file.has_parent_path() ? file.parent_path() : fs::path(".");
  struct statvfs mount {};
  const bool read_only_mount = statvfs(path.c_str(), &mount) == 0 && (mount.f_flag & ST_RDONLY);
  return read_only_mount || !writable(file) || !writable(directory);
}

// Opens the file and reads its schema once: that tells a database from any other file, and
// finds a WAL store in a directory this process cannot write. Even to read a WAL store, SQLite
// needs its -shm file beside it; a store nobody can change there is read as the immutable file
// it is. One that someone else may be writing is not: an immutable read would miss their writes.
Connection connect(const std::string& path, OpenMode mode, std::chrono::milliseconds busy_timeout) {
  constexpr const char* probe = "SELECT count(*) FROM sqlite_schema";
  Connection connection(
      path,
      mode == OpenMode::create ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READWRITE,
      busy_timeout);
  const int rc = connection.try_exec(probe);
  if (rc == SQLITE_OK) return connection;
  if ((rc & 0xff) == SQLITE_NOTADB) {
    throw InvalidArgument(
        fmt::format("'{}' is not a SQLite database ({})", path, sqlite3_errmsg(connection.get())));
  }
  if (mode == OpenMode::existing &&
      (rc == SQLITE_READONLY_DIRECTORY || (rc & 0xff) == SQLITE_CANTOPEN) && frozen(path)) {
    Connection immutable(path, immutable_uri(path), SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
                         busy_timeout);
    immutable.exec(probe);
    return immutable;
  }
  connection.fail(rc, sqlite3_errmsg(connection.get()), probe);
}

}  // namespace

std::unique_ptr<Store> open(const std::string& path, OpenMode mode,
                            std::chrono::milliseconds busy_timeout) {
  if (mode == OpenMode::existing && path != ":memory:" && !std::filesystem::exists(path)) {
    throw NotFound(
        fmt::format("no SQLite database at {}; create it with 'prkl init'", quoted_value(path)));
  }
  return std::make_unique<SqliteStore>(connect(path, mode, busy_timeout), mode);
}

}  // namespace prkl::sqlite
