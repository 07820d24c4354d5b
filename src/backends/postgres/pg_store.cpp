// SPDX-License-Identifier: MIT
// The PostgreSQL Store: its schema and triggers (adopting a ratestask database as it is), reads
// in one snapshot, set-based batch writes, replication positions for read-your-writes.
#include "pg_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdlib>
#include <limits>
#include <utility>

#include "fx/exchange_detail.hpp"
#include "io/copy_text.hpp"
#include "pg_handles.hpp"
#include "prkl/error.hpp"
#include "storage/lane_day_groups.hpp"
#include "storage/prkl_tables.hpp"
#include "storage/ratestask.hpp"
#include "storage/store_detail.hpp"

namespace prkl::postgres {

namespace {

namespace ratestask = detail::ratestask;
namespace own = detail::prkl_tables;
constexpr auto dialect = detail::schema::Dialect::postgres;

// A 32-bit integer field of a binary-format result: big-endian, 4 bytes.
std::int32_t binary_int4(const Result& r, int row, int column) {
  PGresult* result = r.get();
  if (PQgetlength(result, row, column) != 4) {
    throw StorageError("unexpected field size from prices");
  }
  const auto* bytes = reinterpret_cast<const unsigned char*>(PQgetvalue(result, row, column));
  return std::int32_t(std::uint32_t(bytes[0]) << 24 | std::uint32_t(bytes[1]) << 16 |
                      std::uint32_t(bytes[2]) << 8 | std::uint32_t(bytes[3]));
}

// prkl's tables, and before them the ratestask tables as its dump creates them plus keys; each
// created only where it is missing. An adopted database keeps its own tables untouched.
struct Table {
  std::string name;
  std::string columns;  // what prkl reads and writes; checked on adopted tables
  std::string create;
};

const std::vector<Table>& tables() {
  static const std::vector<Table> all = [] {
    std::vector<Table> out;
    for (const auto& table : ratestask::tables) {
      out.push_back({std::string(table.name), ratestask::column_list(table),
                     ratestask::create_table(table, ratestask::Dialect::postgres)});
    }
    // Contracts refer to ports, and the lane-days are counted from them too.
    out.push_back({std::string(ratestask::contracts.name),
                   ratestask::column_list(ratestask::contracts),
                   ratestask::create_contracts(ratestask::Dialect::postgres)});
    for (const auto& table : own::tables) {
      out.push_back({std::string(table.name), ratestask::column_list(table),
                     ratestask::create_table(table, dialect)});
    }
    return out;
  }();
  return all;
}

// Objects of earlier versions that the lane-days replaced (they hold nothing the prices do not).
constexpr const char* retired_objects =
    "DROP TRIGGER IF EXISTS prkl_prices_lanes_insert ON prices;\n"
    "DROP TRIGGER IF EXISTS prkl_prices_lanes_update ON prices;\n"
    "DROP FUNCTION IF EXISTS prkl_note_lanes();\n"
    "DROP TABLE IF EXISTS prkl_lanes";

// Each day of a contract of `table` as a price row (orig_code, dest_code, day, price).
std::string contract_day_rows(std::string_view table) {
  return fmt::format(
      "SELECT c.orig_code, c.dest_code, g::date AS day, c.price FROM {} c,"
      " generate_series(c.valid_from, c.valid_to, interval '1 day') g",
      table);
}

const std::string lane_days_from_prices = fmt::format(
    "INSERT INTO prkl_lane_days\n"
    "SELECT orig_code, dest_code, day, count(*), sum(price), min(price), max(price)\n"
    "FROM (SELECT orig_code, dest_code, day, price FROM prices UNION ALL {}) p\n"
    "GROUP BY orig_code, dest_code, day\n"
    // Lane by lane on disk, which is how a connection's first question reads them back.
    "ORDER BY orig_code COLLATE \"C\", dest_code COLLATE \"C\", day",
    contract_day_rows("prkl_contracts"));

// Serves the lane/day query from the index alone (an index-only scan when the visibility map
// allows): lanes by equality from the two port arrays, days by range.
constexpr const char* index_name = "prices_lane_day";
constexpr const char* index_definition = "ON prices (orig_code, dest_code, day) INCLUDE (price)";

// Statement-level triggers keep prkl_meta and prkl_lane_days right on any change, whoever makes
// it (prkl, the application that owned the database first, or psql), TRUNCATE included.
//
// Every statement that changes prices adds to the lane-days, then moves the data version. That
// row stays locked until the writer commits, so writers of prices take their turns at the end
// and versions follow commit order: a reader that sees version V has seen every change up to V
// and none after. Inserts add their rows' sums to the lane-days; deletes and updates count the
// lane-days they touched again from the prices left, since a removed price may have been the min
// or the max. Each logs the days it touched in prkl_day_changes. Keys go in in the index's
// order, so the upserts walk the index once and two writers take lane-day rows in one order.
// prkl's own import switches them off for its transaction and rebuilds the lane-days itself.

// A trigger's work on the lane-days: the sums first, then (after the version moved to v) the
// log of the days they touched.
struct TriggerWork {
  std::string sums;
  std::string log;
};

TriggerWork add_lane_days(std::string_view rows) {
  return {fmt::format("INSERT INTO prkl_lane_days\n"
                      "SELECT orig_code, dest_code, day, count(*), sum(price), min(price), "
                      "max(price)\n"
                      "FROM ({0}) r GROUP BY 1, 2, 3\n"
                      "ORDER BY day, orig_code COLLATE \"C\", dest_code COLLATE \"C\"\n"
                      "{1};\n",
                      rows, own::merge_lane_day_sql(dialect)),
          fmt::format("INSERT INTO prkl_day_changes SELECT DISTINCT v, day FROM ({}) r;\n", rows)};
}

TriggerWork recount_lane_days(std::string_view keys) {
  return {
      fmt::format(
          "INSERT INTO prkl_lane_days\n"
          "SELECT k.orig_code, k.dest_code, k.day, count(p.price), coalesce(sum(p.price), 0),\n"
          "       coalesce(min(p.price), 0), coalesce(max(p.price), 0)\n"
          "FROM ({0}) k\n"
          "LEFT JOIN LATERAL (\n"
          "  SELECT price FROM prices p\n"
          "  WHERE p.orig_code = k.orig_code AND p.dest_code = k.dest_code AND p.day = k.day\n"
          "  UNION ALL SELECT price FROM prkl_contracts c\n"
          "  WHERE c.orig_code = k.orig_code AND c.dest_code = k.dest_code\n"
          "    AND c.valid_from BETWEEN k.day - {1} AND k.day AND c.valid_to >= k.day) p ON true\n"
          "GROUP BY 1, 2, 3\n"
          "ORDER BY k.day, k.orig_code COLLATE \"C\", k.dest_code COLLATE \"C\"\n"
          "{2};\n",
          keys, max_contract_days - 1, own::replace_lane_day_sql(dialect)),
      fmt::format("INSERT INTO prkl_day_changes SELECT DISTINCT v, day FROM ({}) k;\n", keys)};
}

// The version moves after the sums, as in prkl's own batches: every writer takes lane-day rows
// first and the version row last, so none waits for lane-days while holding the version.
std::string trigger_function(std::string_view name, std::string_view skip_if,
                             const TriggerWork& work) {
  return fmt::format(
      "CREATE OR REPLACE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
      "DECLARE v bigint;\n"
      "BEGIN\n"
      "  IF {} THEN RETURN NULL; END IF;\n"
      "{}"
      "  UPDATE prkl_meta SET value = value + 1 WHERE key = 'data_version' RETURNING value INTO "
      "v;\n"
      "{}"
      "  RETURN NULL;\n"
      "END $$;\n",
      name, skip_if, work.sums, work.log);
}

// Held by init() while it replaces the trigger functions, and shared by batches while they rely
// on what the functions do.
constexpr std::int64_t init_lock = 7040851;

const std::string& trigger_functions() {
  static const std::string sql =
      "CREATE OR REPLACE FUNCTION prkl_bump_geography() RETURNS trigger LANGUAGE plpgsql AS $$\n"
      "BEGIN\n"
      "  UPDATE prkl_meta SET value = value + 1 WHERE key = 'geography_generation';\n"
      "  RETURN NULL;\n"
      "END $$;\n" +
      trigger_function(
          // prkl's own batches sum their prices' lane-days themselves, before they move the
          // version (apply_batch), and say so with this setting.
          "prkl_prices_inserted",
          "current_setting('prkl.batch_prices_lane_days', true) = 'on' OR NOT EXISTS "
          "(SELECT 1 FROM prkl_new_prices)",
          add_lane_days("SELECT orig_code, dest_code, day, price FROM prkl_new_prices")) +
      trigger_function(
          "prkl_prices_deleted", "NOT EXISTS (SELECT 1 FROM prkl_old_prices)",
          recount_lane_days("SELECT DISTINCT orig_code, dest_code, day FROM prkl_old_prices")) +
      trigger_function("prkl_prices_updated", "NOT EXISTS (SELECT 1 FROM prkl_old_prices)",
                       recount_lane_days("SELECT orig_code, dest_code, day FROM prkl_old_prices "
                                         "UNION SELECT orig_code, dest_code, day FROM "
                                         "prkl_new_prices")) +
      trigger_function("prkl_prices_truncated", "false",
                       {"TRUNCATE prkl_lane_days, prkl_day_changes;\n" +
                            add_lane_days(contract_day_rows("prkl_contracts")).sums +
                            "UPDATE prkl_meta SET value = floor(random() * 9e18)::bigint\n"
                            "WHERE key = 'data_epoch';\n",
                        ""}) +
      // Contracts count on each day of their validity, whoever writes them.
      // prkl's own batches add their contracts' lane-days themselves (apply_batch).
      trigger_function("prkl_contracts_inserted",
                       "current_setting('prkl.batch_lane_days', true) = 'on' OR NOT EXISTS "
                       "(SELECT 1 FROM prkl_new_contracts)",
                       add_lane_days(contract_day_rows("prkl_new_contracts"))) +
      trigger_function("prkl_contracts_deleted", "NOT EXISTS (SELECT 1 FROM prkl_old_contracts)",
                       recount_lane_days(fmt::format("SELECT DISTINCT orig_code, dest_code, day "
                                                     "FROM ({}) r",
                                                     contract_day_rows("prkl_old_contracts")))) +
      trigger_function(
          "prkl_contracts_updated", "NOT EXISTS (SELECT 1 FROM prkl_old_contracts)",
          recount_lane_days(fmt::format(
              "SELECT orig_code, dest_code, day FROM ({}) o UNION SELECT orig_code, "
              "dest_code, day FROM ({}) n",
              contract_day_rows("prkl_old_contracts"), contract_day_rows("prkl_new_contracts")))) +
      trigger_function("prkl_contracts_truncated", "false",
                       {"TRUNCATE prkl_lane_days, prkl_day_changes;\n" + lane_days_from_prices +
                            ";\nUPDATE prkl_meta SET value = floor(random() * 9e18)::bigint\n"
                            "WHERE key = 'data_epoch';\n",
                        ""});
  return sql;
}

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
    {"prkl_prices_insert", "prices",
     "AFTER INSERT ON prices REFERENCING NEW TABLE AS prkl_new_prices FOR EACH STATEMENT "
     "EXECUTE FUNCTION prkl_prices_inserted()"},
    {"prkl_prices_delete", "prices",
     "AFTER DELETE ON prices REFERENCING OLD TABLE AS prkl_old_prices FOR EACH STATEMENT "
     "EXECUTE FUNCTION prkl_prices_deleted()"},
    {"prkl_prices_update", "prices",
     "AFTER UPDATE ON prices REFERENCING OLD TABLE AS prkl_old_prices "
     "NEW TABLE AS prkl_new_prices FOR EACH STATEMENT EXECUTE FUNCTION prkl_prices_updated()"},
    {"prkl_prices_truncate", "prices",
     "AFTER TRUNCATE ON prices FOR EACH STATEMENT EXECUTE FUNCTION prkl_prices_truncated()"},
    {"prkl_contracts_insert", "prkl_contracts",
     "AFTER INSERT ON prkl_contracts REFERENCING NEW TABLE AS prkl_new_contracts FOR EACH "
     "STATEMENT EXECUTE FUNCTION prkl_contracts_inserted()"},
    {"prkl_contracts_delete", "prkl_contracts",
     "AFTER DELETE ON prkl_contracts REFERENCING OLD TABLE AS prkl_old_contracts FOR EACH "
     "STATEMENT EXECUTE FUNCTION prkl_contracts_deleted()"},
    {"prkl_contracts_update", "prkl_contracts",
     "AFTER UPDATE ON prkl_contracts REFERENCING OLD TABLE AS prkl_old_contracts NEW TABLE AS "
     "prkl_new_contracts FOR EACH STATEMENT EXECUTE FUNCTION prkl_contracts_updated()"},
    {"prkl_contracts_truncate", "prkl_contracts",
     "AFTER TRUNCATE ON prkl_contracts FOR EACH STATEMENT EXECUTE FUNCTION "
     "prkl_contracts_truncated()"},
};

// A PostgreSQL log sequence number, `XXXXXXXX/YYYYYYYY` in hex, as the 64-bit offset it spells.
std::uint64_t parse_lsn(const std::string& text) {
  const auto slash = text.find('/');
  std::uint64_t high = 0, low = 0;
  const char* end = text.data() + text.size();
  if (slash == std::string::npos ||
      std::from_chars(text.data(), text.data() + slash, high, 16).ptr != text.data() + slash ||
      std::from_chars(text.data() + slash + 1, end, low, 16).ptr != end || high > 0xFFFFFFFF ||
      low > 0xFFFFFFFF) {
    throw StorageError(fmt::format("the server gave {} for a WAL position", quoted_value(text)));
  }
  return high << 32 | low;
}

std::string format_lsn(std::uint64_t position) {
  return fmt::format("{:X}/{:X}", position >> 32, position & 0xFFFFFFFF);
}

class PgStore final : public Store {
 public:
  PgStore(const std::string& conninfo, OpenMode mode, std::chrono::seconds connect_timeout)
      : connection_(conninfo, connect_timeout) {
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
    reconnect_if_lost();
    const auto missing = missing_objects();
    const auto is_missing = [&](const std::string& name) {
      return std::find(missing.begin(), missing.end(), name) != missing.end();
    };
    {
      // Tables and triggers in one transaction; the index below cannot be built inside one.
      Transaction tx(connection_);
      // Two `prkl init` at once: the second waits here, then finds everything made.
      connection_.exec(fmt::format("SELECT pg_advisory_xact_lock({})", init_lock));
      const auto missing_now = missing_objects();
      for (const Table& t : tables()) {
        if (std::find(missing_now.begin(), missing_now.end(), t.name) == missing_now.end()) {
          check_columns(t);
          continue;
        }
        connection_.exec(t.create);
        if (t.name == own::equipment.name) connection_.exec(own::seed_equipment_sql());
        added.push_back(fmt::format("table {}", t.name));
      }
      // A price's dimensions, added to an adopted prices table too: nullable, so its other
      // writers' INSERTs stand, and without a default, so adding them rewrites nothing.
      for (const ratestask::Column& column : ratestask::price_dimensions) {
        const std::string name = fmt::format("prices.{}", column.name);
        if (std::find(missing_now.begin(), missing_now.end(), name) == missing_now.end()) continue;
        connection_.exec(
            ratestask::add_column(ratestask::prices, column, ratestask::Dialect::postgres));
        added.push_back(fmt::format("column {}", name));
      }
      connection_.exec(own::meta_setup_sql(dialect, own::new_epoch()));
      if (connection_.exec("SELECT to_regclass('prkl_lanes') IS NOT NULL").text(0, 0) == "t") {
        connection_.exec(retired_objects);
        added.emplace_back(
            "dropped table prkl_lanes and its triggers (replaced by prkl_lane_days)");
      }
      // Always replaced, so an upgraded prkl brings its triggers' bodies up to date.
      connection_.exec(trigger_functions());
      for (const Trigger& t : triggers) {
        if (std::find(missing_now.begin(), missing_now.end(), t.name) == missing_now.end()) {
          continue;
        }
        connection_.exec(fmt::format("CREATE TRIGGER {} {}", t.name, t.definition));
        added.push_back(fmt::format("trigger {} on {}", t.name, t.table));
      }
      // Creating the prices triggers locked out writers to prices until commit, so counting the
      // prices now misses none: earlier rows are here, later ones go through the triggers.
      if (std::find(missing_now.begin(), missing_now.end(), "prkl_lane_days") !=
          missing_now.end()) {
        connection_.exec(lane_days_from_prices);
      }
      tx.commit();
    }
    if (is_missing(index_name) || !index_valid()) {
      // A concurrent build that failed leaves an invalid index behind; it is rebuilt. Built
      // CONCURRENTLY, so an adopted database keeps taking writes meanwhile.
      connection_.exec("DROP INDEX CONCURRENTLY IF EXISTS prices_lane_day");
      connection_.exec(
          fmt::format("CREATE INDEX CONCURRENTLY {} {}", index_name, index_definition));
      // A bulk load leaves no page marked all-visible: VACUUM marks them, so the lane/day index
      // answers alone (percentiles read prices through it) instead of visiting every row's page.
      connection_.exec("VACUUM ANALYZE prices");
      added.push_back(fmt::format("index {} {}", index_name, index_definition));
    }
    return added;
  }

  StoreVersion version() override {
    return read([&] { return version_now(); });
  }

  StoreHealth health() override {
    return read([&] {
      // A standby that has replayed all it received is current, however long ago the primary
      // last committed.
      const Result r = connection_.exec(fmt::format(
          "{}, pg_is_in_recovery(),"
          " CASE WHEN NOT pg_is_in_recovery() THEN NULL"
          "  WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
          "  ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 END",
          own::schema_versions_sql()));
      StoreHealth health{r.is_null(0, 0) ? 0 : r.int64(0, 0), r.is_null(0, 1) ? 0 : r.int64(0, 1),
                         r.text(0, 2) == "t", std::nullopt};
      if (!r.is_null(0, 3)) health.replay_lag_seconds = std::stod(r.text(0, 3));
      return health;
    });
  }

  std::uint64_t log_position() override {
    // The insert position, not the flushed one: it is past the end of every commit record
    // written so far, whatever synchronous_commit says.
    return read([&] {
      const Result r = connection_.exec(
          "SELECT pg_current_wal_insert_lsn(), current_setting('wal_block_size')::bigint");
      std::uint64_t position = parse_lsn(r.text(0, 0));
      // At a page boundary the insert position points past the next page's short header (24
      // bytes), where no record can end: a standby's replay stops at the boundary, and would
      // pass the position only with the next record, maybe seconds later. (Segments start
      // with a long header instead; those rare boundaries are left as they are.)
      const auto page = std::uint64_t(r.int64(0, 1));
      constexpr std::uint64_t short_header = 24;
      if (page > 0 && position % page == short_header) position -= short_header;
      return position;
    });
  }

  bool has_replayed(std::uint64_t position) override {
    return read([&] {
      return connection_
                 .exec(
                     "SELECT NOT pg_is_in_recovery() OR "
                     "coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false)",
                     {format_lsn(position)})
                 .text(0, 0) == "t";
    });
  }

  std::uint64_t connection_generation() const noexcept override { return connection_.reconnects(); }

  GeographySnapshot geography() override {
    return in_snapshot([&] {
      GeographySnapshot snapshot{meta_value("geography_generation"), {}, {}};
      const Result regions = connection_.exec(ratestask::select_sql(ratestask::regions));
      for (int i = 0; i < regions.rows(); ++i) {
        snapshot.regions.push_back({regions.text(i, 0), regions.text(i, 1),
                                    regions.is_null(i, 2)
                                        ? std::nullopt
                                        : std::optional<std::string>(regions.text(i, 2))});
      }
      const Result ports = connection_.exec(ratestask::select_sql(ratestask::ports));
      for (int i = 0; i < ports.rows(); ++i) {
        snapshot.ports.push_back({ports.text(i, 0), ports.text(i, 1), ports.text(i, 2)});
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

  StoreVersion read_lane_days(const std::optional<StoreVersion>& since,
                              LaneDayReceiver& receiver) override {
    return in_snapshot([&] {
      const StoreVersion now = version_now();
      // Changes up to the horizon may be gone: a copy older than that is read again whole.
      const bool complete =
          !since || since->epoch != now.epoch || since->data < day_changes_horizon();
      receiver.start(complete);
      if (complete) {
        // Millions of rows: COPY streams them instead of building one huge result.
        connection_.copy_out(fmt::format("COPY ({}) TO STDOUT", own::filled_lane_days_sql(dialect)),
                             [&](std::string_view row) { receiver.row(parse_lane_day(row)); });
      } else {
        const Result r =
            connection_.exec(own::changed_lane_days_sql(dialect), {std::to_string(since->data)});
        for (int i = 0; i < r.rows(); ++i) {
          const std::string origin = r.text(i, 0), destination = r.text(i, 1);
          receiver.row({origin, destination, Date{std::chrono::days{r.int64(i, 2)}}, r.int64(i, 3),
                        r.int64(i, 4), detail::checked_price(r.int64(i, 5)),
                        detail::checked_price(r.int64(i, 6))});
        }
      }
      return now;
    });
  }

  std::unique_ptr<Loader> begin_load(LoadMode mode) override {
    reconnect_if_lost();
    return std::make_unique<Loading>(*this, mode);
  }

  std::optional<BatchRecord> find_batch(std::string_view id) override {
    return in_snapshot([&] { return find_batch_now(id); });
  }

  StoreVersion read_prices(std::span<const LaneKey> lanes, Date from, Date to,
                           const PriceFilter& filter, PriceReceiver& receiver) override {
    std::vector<std::string> origins, destinations;
    for (const LaneKey& lane : lanes) {
      origins.emplace_back(lane.origin);
      destinations.emplace_back(lane.destination);
    }
    // Null parameters leave their condition out.
    const Params params{
        array_literal(origins),
        array_literal(destinations),
        format_date(from),
        format_date(to),
        filter.equipment.empty() ? std::nullopt
                                 : std::optional<std::string>(array_literal(filter.equipment)),
        filter.term ? std::optional<std::string>(to_string(*filter.term)) : std::nullopt,
        filter.max_age_days ? std::optional<std::string>(std::to_string(*filter.max_age_days))
                            : std::nullopt};
    // Collected first and handed over after the snapshot closes: a read retried after a lost
    // connection must not deliver its rows twice.
    struct Row {
      std::size_t lane;
      std::int32_t day, price;
    };
    std::vector<Row> rows;
    const StoreVersion now = in_snapshot([&] {
      rows.clear();
      const StoreVersion version = version_now();
      // One index range scan per lane. Planned for each call: a generic plan cannot see how
      // many lanes the arrays hold.
      // Each row names its lane by number rather than by its two codes, and comes in binary:
      // three big-endian 32-bit integers, nothing to format on the server or parse here.
      const Result r = connection_.exec(
          "SELECT l.n::int4, (p.day - DATE '1970-01-01')::int4, p.price::int4 "
          "FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS l (orig_code, dest_code, n) "
          "JOIN prices p ON p.orig_code = l.orig_code AND p.dest_code = l.dest_code "
          "AND p.day BETWEEN $3 AND $4 "
          "AND ($5::text[] IS NULL OR p.equipment = ANY ($5::text[])) "
          "AND ($6::text IS NULL OR p.term = $6::text) "
          "AND ($7::int IS NULL OR p.day - coalesce(p.received, p.day) <= $7::int) "
          // A contract once for each day of its validity in the range that its age allows.
          "UNION ALL "
          "SELECT l.n::int4, (g::date - DATE '1970-01-01')::int4, c.price::int4 "
          "FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS l (orig_code, dest_code, n) "
          "JOIN prkl_contracts c ON c.orig_code = l.orig_code AND c.dest_code = l.dest_code "
          "AND c.valid_from BETWEEN $3::date - " +
              std::to_string(max_contract_days - 1) +
              " AND $4 AND c.valid_to >= $3 "
              "AND ($5::text[] IS NULL OR c.equipment = ANY ($5::text[])) "
              "AND ($6::text IS NULL OR c.term = $6::text) "
              "CROSS JOIN LATERAL generate_series(greatest(c.valid_from, $3::date), "
              "least(c.valid_to, $4::date), interval '1 day') g "
              "WHERE $7::int IS NULL OR g::date - coalesce(c.received, c.valid_from) <= $7::int",
          params, Connection::Format::binary);
      const auto int4 = [&](int row, int column) { return binary_int4(r, row, column); };
      rows.reserve(std::size_t(r.rows()));
      for (int i = 0, count = r.rows(); i < count; ++i) {
        const std::int32_t lane = int4(i, 0);
        if (lane < 1 || std::size_t(lane) > lanes.size()) {
          throw StorageError(fmt::format("unexpected lane number {} from prices", lane));
        }
        rows.push_back({std::size_t(lane - 1), int4(i, 1), int4(i, 2)});
      }
      return version;
    });
    for (const Row& row : rows) {
      receiver.price(row.lane, Date{std::chrono::days{row.day}}, row.price);
    }
    return now;
  }

  StoreVersion read_lanes(std::span<const LaneKey> lanes, LaneReceiver& receiver) override {
    std::vector<std::string> origins, destinations;
    for (const LaneKey& lane : lanes) {
      origins.emplace_back(lane.origin);
      destinations.emplace_back(lane.destination);
    }
    const Params params{array_literal(origins), array_literal(destinations)};
    // Held until the snapshot closes, as read_prices' rows are.
    std::optional<Result> prices, contracts;
    const StoreVersion now = in_snapshot([&] {
      const StoreVersion version = version_now();
      // Binary: days as integers, nothing to format or parse. One index range scan per lane.
      prices.emplace(connection_.exec(
          "SELECT l.n::int4, (p.day - DATE '1970-01-01')::int4, p.price::int4, p.equipment, "
          "CASE WHEN p.term IN ('short', 'long') THEN p.term END, "
          "(p.received - DATE '1970-01-01')::int4 "
          "FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS l (orig_code, dest_code, n) "
          "JOIN prices p ON p.orig_code = l.orig_code AND p.dest_code = l.dest_code "
          "ORDER BY l.n, p.day, p.price",
          params, Connection::Format::binary));
      contracts.emplace(connection_.exec(
          "SELECT l.n::int4, (c.valid_from - DATE '1970-01-01')::int4, "
          "(c.valid_to - DATE '1970-01-01')::int4, c.price::int4, c.equipment, "
          "CASE WHEN c.term IN ('short', 'long') THEN c.term END, "
          "(c.received - DATE '1970-01-01')::int4 "
          "FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS l (orig_code, dest_code, n) "
          "JOIN prkl_contracts c ON c.orig_code = l.orig_code AND c.dest_code = l.dest_code "
          "ORDER BY l.n, c.valid_from",
          params, Connection::Format::binary));
      return version;
    });
    const auto lane = [&](const Result& r, int row) {
      const std::int32_t n = binary_int4(r, row, 0);
      if (n < 1 || std::size_t(n) > lanes.size()) {
        throw StorageError(fmt::format("unexpected lane number {} from prices", n));
      }
      return std::size_t(n - 1);
    };
    const auto day = [&](const Result& r, int row, int column) {
      return Date{std::chrono::days{binary_int4(r, row, column)}};
    };
    const auto dimensions = [&](const Result& r, int row, int column) {
      PGresult* result = r.get();
      return Dimensions{
          r.is_null(row, column) ? std::string_view()
                                 : std::string_view(PQgetvalue(result, row, column),
                                                    std::size_t(PQgetlength(result, row, column))),
          r.is_null(row, column + 1) ? std::nullopt
                                     : std::optional<Term>(parse_term(std::string_view(
                                           PQgetvalue(result, row, column + 1),
                                           std::size_t(PQgetlength(result, row, column + 1))))),
          r.is_null(row, column + 2) ? std::nullopt : std::optional<Date>(day(r, row, column + 2))};
    };
    for (int i = 0, count = prices->rows(); i < count; ++i) {
      receiver.price(lane(*prices, i), day(*prices, i, 1), binary_int4(*prices, i, 2),
                     dimensions(*prices, i, 3));
    }
    for (int i = 0, count = contracts->rows(); i < count; ++i) {
      receiver.contract(lane(*contracts, i), day(*contracts, i, 1), day(*contracts, i, 2),
                        binary_int4(*contracts, i, 3), dimensions(*contracts, i, 4));
    }
    return now;
  }

  std::vector<ExchangeRate> exchange_rates(std::span<const std::string> currencies, Date from,
                                           Date to) override {
    return read([&] {
      const Result r = connection_.exec(
          "SELECT currency, day::text, rate FROM prkl_exchange_rates "
          "WHERE currency = ANY($1::text[]) AND day BETWEEN $2 AND $3",
          {array_literal(currencies), format_date(from), format_date(to)});
      std::vector<ExchangeRate> out;
      for (int i = 0; i < r.rows(); ++i) {
        out.push_back({r.text(i, 0), parse_date(r.text(i, 1)), r.int64(i, 2)});
      }
      return out;
    });
  }

  std::vector<std::string> equipment() override {
    return read([&] {
      const Result r =
          connection_.exec("SELECT code FROM prkl_equipment ORDER BY code COLLATE \"C\"");
      std::vector<std::string> out;
      for (int i = 0; i < r.rows(); ++i) out.push_back(r.text(i, 0));
      return out;
    });
  }

  std::int64_t add_equipment(std::span<const std::string> codes) override {
    const std::vector<std::string> all(codes.begin(), codes.end());
    reconnect_if_lost();
    Transaction tx(connection_);
    const Result added = connection_.exec(
        "INSERT INTO prkl_equipment SELECT DISTINCT unnest($1::text[]) ON CONFLICT DO NOTHING",
        {array_literal(all)});
    tx.commit();
    return std::stoll(PQcmdTuples(added.get()));
  }

  std::vector<std::string> currencies() override {
    return read([&] {
      const Result r = connection_.exec(
          "SELECT DISTINCT currency COLLATE \"C\" FROM prkl_exchange_rates ORDER BY 1");
      std::vector<std::string> out;
      for (int i = 0; i < r.rows(); ++i) out.push_back(r.text(i, 0));
      return out;
    });
  }

  std::int64_t put_exchange_rates(std::span<const ExchangeRate> rates, bool replace) override {
    // Set-based: a year of daily files is tens of thousands of rates, one round trip each
    // would take seconds. The core sends each (currency, day) once.
    std::vector<std::string> currencies, days, units;
    for (const ExchangeRate& rate : rates) {
      currencies.push_back(rate.currency);
      days.push_back(format_date(rate.day));
      units.push_back(std::to_string(rate.units));
    }
    const Params arrays{array_literal(currencies), array_literal(days), array_literal(units)};
    constexpr const char* given =
        "WITH given (currency, day, rate) AS "
        "(SELECT * FROM unnest($1::text[], $2::date[], $3::bigint[])) ";
    reconnect_if_lost();
    Transaction tx(connection_);
    // Loads of rates queue behind each other, so the check below sees what the other stored.
    connection_.exec("LOCK TABLE prkl_exchange_rates IN SHARE ROW EXCLUSIVE MODE");
    if (!replace) {
      const Result clash = connection_.exec(
          fmt::format("{} SELECT g.currency, g.day::text, g.rate, e.rate FROM given g "
                      "JOIN prkl_exchange_rates e USING (currency, day) WHERE e.rate <> g.rate "
                      "ORDER BY g.currency, g.day LIMIT 1",
                      given),
          arrays);
      if (clash.rows() == 1) {
        throw detail::rate_conflict(
            {clash.text(0, 0), parse_date(clash.text(0, 1)), clash.int64(0, 2)}, clash.int64(0, 3));
      }
    }
    const Result written = connection_.exec(
        fmt::format("{} INSERT INTO prkl_exchange_rates SELECT * FROM given "
                    "ON CONFLICT (currency, day) DO UPDATE SET rate = excluded.rate "
                    "WHERE prkl_exchange_rates.rate <> excluded.rate",
                    given),
        arrays);
    tx.commit();
    return std::stoll(PQcmdTuples(written.get()));
  }

  ApplyOutcome apply_batch(const BatchRecord& record, std::span<const Price> prices,
                           std::span<const Contract> contracts, const Progress& progress) override {
    reconnect_if_lost();
    try {
      // A deadlock with another writer (another application's SQL, an older prkl during an
      // upgrade) rolled the whole batch back: it is written again, as its caller would.
      for (int attempt = 1;; ++attempt) {
        try {
          return apply_once(record, prices, contracts, progress);
        } catch (const StorageError& e) {
          if (e.code() != "40P01" || attempt == 3) throw;
        }
      }
    } catch (const InDoubt& e) {
      // The ledger makes the retry safe: it answers the id if the first attempt landed.
      throw InDoubt(
          fmt::format("{}; batch {} may or may not have been applied: apply it again with the "
                      "same id",
                      e.what(), quoted_value(record.id)),
          e.code());
    } catch (const ConnectionLost& e) {
      throw ConnectionLost(fmt::format("{}; batch {} was not applied: apply it again", e.what(),
                                       quoted_value(record.id)),
                           e.code());
    }
  }

 private:
  ApplyOutcome apply_once(const BatchRecord& record, std::span<const Price> prices,
                          std::span<const Contract> contracts, const Progress& progress) {
    {
      Transaction tx(connection_);
      // Writers of the same id queue here; the second finds the first one's ledger record.
      connection_.exec("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", {record.id});
      if (auto existing = find_batch_now(record.id)) return {std::move(*existing), true};
      // Writers take turns on the data-version row from the moment they move it to their
      // commit (versions follow commit order), so everything that does not need it comes
      // first and runs beside other writers: the ledger, the rows, and the lane-day sums, in
      // one statement whose keys go in in index order (no two writers can deadlock on them).
      connection_.exec(detail::schema::insert_sql(own::batches, dialect),
                       {record.id, record.digest, std::to_string(record.rows),
                        std::to_string(record.prices), record.applied_at});
      for (const ExchangeRate& rate : record.rates_used) {
        connection_.exec(
            detail::schema::insert_sql(own::batch_rates, dialect),
            {record.id, rate.currency, format_date(rate.day), std::to_string(rate.units)});
      }
      // The triggers stand aside for this transaction and the lane-days are summed here: a
      // year's contract would be 365 rows for a trigger to expand and group, and the prices'
      // trigger would move the version at the end of their COPY, before the sums.
      const bool sums_prices = triggers_let_batches_sum();
      connection_.exec(sums_prices ? "SELECT set_config('prkl.batch_lane_days', 'on', true), "
                                     "set_config('prkl.batch_prices_lane_days', 'on', true)"
                                   : "SELECT set_config('prkl.batch_lane_days', 'on', true)");
      // Functions an older prkl wrote move the version before their sums: take it first too,
      // in the same order as every other writer of that database.
      if (!sums_prices) {
        connection_.exec("SELECT 1 FROM prkl_meta WHERE key = 'data_version' FOR UPDATE");
      }
      if (!contracts.empty()) {
        copy_rows(ratestask::copy_in_sql(ratestask::contracts), contracts, {},
                  [](std::string& line, const Contract& contract) {
                    detail::append_copy_row(line, contract);
                  });
      }
      copy_rows(ratestask::copy_in_sql(ratestask::dimensioned_prices), prices, progress,
                [](std::string& line, const Price& price) {
                  detail::append_dimensioned_copy_row(line, price);
                });
      // Sums first, then the version moves (add_lane_days), until commit.
      add_lane_days(
          detail::lane_day_groups(sums_prices ? prices : std::span<const Price>{}, contracts));
      forget_old_changes();
      tx.commit();
    }
    return {record, false};
  }

  // Runs an idempotent read; if the connection was lost, reconnects and runs it once more.
  template <typename Read>
  auto read(Read&& work) -> decltype(work()) {
    try {
      return work();
    } catch (const ConnectionLost&) {
    }
    connection_.reconnect();
    return work();
  }

  // A write is never retried here (the caller decides), but the caller's retry after a lost
  // connection must not find it lost still.
  void reconnect_if_lost() {
    if (connection_.broken()) connection_.reconnect();
  }

  // Runs `work` inside one read-only snapshot, so what it reads belongs together; retried like
  // any read.
  template <typename Work>
  auto in_snapshot(Work&& work) -> decltype(work()) {
    return read([&] {
      Transaction tx(connection_, Transaction::Access::read_only);
      auto result = work();
      tx.commit();
      return result;
    });
  }

  // Adds a batch's lane-days (in key order) in one statement, moving the data version and
  // logging their days as the triggers do.
  // Adds `groups` to the lane-days. `log`: as a change of a new data version, which readers
  // catch up by; a load, which starts a new epoch, has nothing to log.
  void add_lane_days(const std::vector<LaneDay>& groups, bool log = true) {
    if (groups.empty()) return;
    std::vector<std::string> origins, destinations, days;
    std::string counts = "{", sums = "{", mins = "{", maxs = "{";
    for (const LaneDay& g : groups) {
      origins.emplace_back(g.origin);
      destinations.emplace_back(g.destination);
      days.push_back(format_date(g.day));
      const char* comma = counts.size() > 1 ? "," : "";
      fmt::format_to(std::back_inserter(counts), "{}{}", comma, g.count);
      fmt::format_to(std::back_inserter(sums), "{}{}", comma, g.sum);
      fmt::format_to(std::back_inserter(mins), "{}{}", comma, g.min);
      fmt::format_to(std::back_inserter(maxs), "{}{}", comma, g.max);
    }
    connection_.exec(
        "INSERT INTO prkl_lane_days SELECT * FROM unnest($1::text[], $2::text[], "
        "$3::date[], $4::bigint[], $5::bigint[], $6::int[], $7::int[]) "
        "AS g (orig_code, dest_code, day, price_count, price_sum, price_min, price_max)\n"
        "ORDER BY day, orig_code COLLATE \"C\", dest_code COLLATE \"C\"\n" +
            own::merge_lane_day_sql(dialect),
        {array_literal(origins), array_literal(destinations), array_literal(days), counts + "}",
         sums + "}", mins + "}", maxs + "}"});
    if (!log) return;
    const std::string version = connection_.exec(own::bump_data_version_sql()).text(0, 0);
    std::sort(days.begin(), days.end());
    days.erase(std::unique(days.begin(), days.end()), days.end());
    connection_.exec(
        "INSERT INTO prkl_day_changes SELECT $1::bigint, unnest($2::date[]) ON CONFLICT DO NOTHING",
        {version, array_literal(days)});
  }

  // Whether the prices' trigger function leaves a batch's lane-days to the batch (this
  // version's does; an older prkl's init may have put back one that does not). Asked in the
  // batch's transaction, under init's lock shared, so the answer holds until commit.
  bool triggers_let_batches_sum() {
    connection_.exec(fmt::format("SELECT pg_advisory_xact_lock_shared({})", init_lock));
    return connection_
               .exec(
                   "SELECT coalesce((SELECT prosrc LIKE '%prkl.batch_prices_lane_days%' "
                   "FROM pg_proc WHERE oid = to_regproc('prkl_prices_inserted')), false)")
               .text(0, 0) == "t";
  }

  // The triggers that keep the lane-days: those on prices and on prkl_contracts.
  void set_price_triggers(std::string_view action) {
    for (const Trigger& t : triggers) {
      const std::string_view table = t.table;
      if (table != "prices" && table != ratestask::contracts.name) continue;
      connection_.exec(fmt::format("ALTER TABLE {} {} TRIGGER {}", table, action, t.name));
    }
  }

  std::int64_t day_changes_horizon() {
    const Result r = connection_.exec(own::day_changes_horizon_sql());
    return r.rows() == 0 ? 0 : r.int64(0, 0);
  }

  // Keeps the change log to the last kept_change_versions versions (see store_detail.hpp),
  // whatever wrote the older ones. In the writer's transaction, which holds the version row.
  void forget_old_changes() {
    connection_.exec(fmt::format(
        "WITH horizon AS (SELECT value - {0} AS v FROM prkl_meta WHERE key = 'data_version' "
        "AND value > {0}), forgotten AS (DELETE FROM prkl_day_changes WHERE version <= "
        "(SELECT v FROM horizon)) "
        "INSERT INTO prkl_meta SELECT 'day_changes_horizon', v FROM horizon "
        "ON CONFLICT (key) DO UPDATE SET value = greatest(prkl_meta.value, excluded.value)",
        detail::kept_change_versions));
  }

  StoreVersion version_now() {
    // Read on every rates call, so its cost is the direct path's. A named prepared statement
    // cannot be used (see Connection: behind a pooler it is missing on the next server
    // connection, or already there for another client), and planning an aggregate each time
    // tripled the call; the whole table (a handful of rows) in the simple protocol costs about
    // 10 us over the named statement.
    const Result r = connection_.exec("SELECT key, value FROM prkl_meta");
    std::optional<std::int64_t> geography, data, epoch;
    for (int i = 0; i < r.rows(); ++i) {
      const std::string key = r.text(i, 0);
      if (key == "geography_generation") geography = r.int64(i, 1);
      if (key == "data_version") data = r.int64(i, 1);
      if (key == "data_epoch") epoch = r.int64(i, 1);
    }
    if (!geography || !data || !epoch) {
      throw StorageError("prkl_meta is incomplete; run 'prkl init'");
    }
    return {*geography, *data, *epoch};
  }

  // One row of the lane-days COPY: seven tab-separated fields, the codes in COPY's escapes.
  static LaneDay parse_lane_day(std::string_view row) {
    std::array<std::string_view, 7> fields;
    std::size_t at = 0;
    for (std::size_t i = 0; i < fields.size(); ++i) {
      const std::size_t tab = row.find('\t', at);
      if ((tab == std::string_view::npos) != (i + 1 == fields.size())) {
        throw StorageError(fmt::format("unexpected lane-day row from COPY: '{}'", row));
      }
      fields[i] = row.substr(at, tab == std::string_view::npos ? row.npos : tab - at);
      at = tab + 1;
    }
    const auto number = [&](std::string_view text) {
      std::int64_t value = 0;
      const auto [stop, error] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (error != std::errc{} || stop != text.data() + text.size()) {
        throw StorageError(fmt::format("unexpected lane-day row from COPY: '{}'", row));
      }
      return value;
    };
    // Codes with a backslash (COPY's escape) are rare enough to decode into thread-local
    // storage; the rest are used in place.
    thread_local std::string decoded[2];
    for (int i = 0; i < 2; ++i) {
      if (fields[std::size_t(i)].find('\\') == std::string_view::npos) continue;
      decoded[i] = detail::copy_unescape(fields[std::size_t(i)]);
      fields[std::size_t(i)] = decoded[i];
    }
    return {fields[0],
            fields[1],
            Date{std::chrono::days{number(fields[2])}},
            number(fields[3]),
            number(fields[4]),
            detail::checked_price(number(fields[5])),
            detail::checked_price(number(fields[6]))};
  }

  std::int64_t meta_value(const std::string& key) {
    const Result r = connection_.exec("SELECT value FROM prkl_meta WHERE key = $1", {key});
    if (r.rows() != 1) throw StorageError(fmt::format("prkl_meta has no '{}'", key));
    return r.int64(0, 0);
  }

  std::optional<BatchRecord> find_batch_now(std::string_view id) {
    const Result r = connection_.exec(own::find_batch_sql(dialect), {std::string(id)});
    if (r.rows() == 0) return std::nullopt;
    BatchRecord record{r.text(0, 0), r.text(0, 1), r.int64(0, 2), r.int64(0, 3), r.text(0, 4), {}};
    const Result rates = connection_.exec(own::find_batch_rates_sql(dialect), {std::string(id)});
    for (int i = 0; i < rates.rows(); ++i) {
      record.rates_used.push_back(
          {rates.text(i, 0), parse_date(rates.text(i, 1)), rates.int64(i, 2)});
    }
    return record;
  }

  // A text[] literal: each element double-quoted, with quotes and backslashes escaped.
  static std::string array_literal(std::span<const std::string> values) {
    std::string out = "{";
    for (const std::string& value : values) {
      if (out.size() > 1) out += ',';
      out += '"';
      for (const char c : value) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
      }
      out += '"';
    }
    return out + "}";
  }

  // A load's one write transaction. TRUNCATE locks the tables until commit anyway, so the
  // index goes and is built once at finish() instead of being kept up to date row by row, and
  // the lane-days once from it. prkl's triggers on prices stand aside (the transition tables of
  // millions of rows would be kept for nothing), and so do the foreign keys of the ratestask
  // tables, checked once when they come back: PostgreSQL checks a key at the end of each
  // statement, and a dump lists prices before the regions their ports name. ALTER TABLE is
  // transactional: at commit or rollback, all of it is back.
  class Loading final : public Loader {
   public:
    Loading(PgStore& store, LoadMode mode) : store_(store), tx_(store.connection_) {
      Connection& c = store_.connection_;
      // The lock TRUNCATE would take, taken before the emptiness check: of two loads into an
      // empty store, the second waits for the first and then sees its data.
      c.exec("LOCK TABLE regions, ports, prices, prkl_contracts IN ACCESS EXCLUSIVE MODE");
      if (mode == LoadMode::into_empty) {
        const Result r = c.exec(
            "SELECT EXISTS (SELECT 1 FROM prices) OR EXISTS (SELECT 1 FROM ports) "
            "OR EXISTS (SELECT 1 FROM regions) OR EXISTS (SELECT 1 FROM prkl_contracts)");
        if (r.text(0, 0) == "t") detail::refuse_load_over_data();
      }
      store_.set_price_triggers("DISABLE");
      const Result keys = c.exec(
          "SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname), "
          "format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname, "
          "pg_get_constraintdef(oid)) "
          "FROM pg_constraint WHERE contype = 'f' AND conrelid IN "
          "(to_regclass('regions'), to_regclass('ports'), to_regclass('prices'), "
          "to_regclass('prkl_contracts')) ORDER BY oid");
      for (int i = 0; i < keys.rows(); ++i) {
        c.exec(keys.text(i, 0));
        restore_keys_.push_back(keys.text(i, 1));
      }
      c.exec(
          "TRUNCATE prices, prkl_contracts, ports, regions, prkl_batch_rates, prkl_batches, "
          "prkl_lane_days, prkl_day_changes");
      c.exec("DROP INDEX IF EXISTS prices_lane_day");
    }

    void add(std::span<const Region> regions) override {
      store_.copy_rows(ratestask::copy_in_sql(ratestask::regions), regions, {});
    }

    void add(std::span<const Port> ports) override {
      store_.copy_rows(ratestask::copy_in_sql(ratestask::ports), ports, {});
    }

    void add(std::span<const Price> prices) override {
      // A dump (every ratestask one) has no dimensions: three null columns a row less to send.
      if (std::ranges::any_of(prices, &Price::has_dimensions)) {
        store_.copy_rows(ratestask::copy_in_sql(ratestask::dimensioned_prices), prices, {},
                         [](std::string& line, const Price& price) {
                           detail::append_dimensioned_copy_row(line, price);
                         });
      } else {
        store_.copy_rows(ratestask::copy_in_sql(ratestask::prices), prices, {});
      }
    }

    std::int64_t remove_prices_on(Date day) override {
      const Result r =
          store_.connection_.exec("DELETE FROM prices WHERE day = $1", {format_date(day)});
      return std::atoll(PQcmdTuples(r.get()));
    }

    // A chunk of contracts' days are summed here a lane at a time rather than expanded day by
    // day on the server, and merged into the lane-days as they come.
    void add(std::span<const Contract> contracts) override {
      store_.copy_rows(ratestask::copy_in_sql(ratestask::contracts), contracts, {},
                       [](std::string& line, const Contract& contract) {
                         detail::append_copy_row(line, contract);
                       });
      store_.add_lane_days(detail::lane_day_groups({}, contracts), false);
    }

    void finish(std::span<const Contract> contracts) override {
      Connection& c = store_.connection_;
      if (!contracts.empty()) add(contracts);
      for (const std::string& key : restore_keys_) c.exec(key);
      c.exec(fmt::format("CREATE INDEX {} {}", index_name, index_definition));
      // The prices' lane-days, merged with the contracts' already there.
      c.exec(fmt::format(
          "INSERT INTO prkl_lane_days\n"
          "SELECT orig_code, dest_code, day, count(*), sum(price), min(price), max(price)\n"
          "FROM prices GROUP BY orig_code, dest_code, day\n"
          "ORDER BY orig_code COLLATE \"C\", dest_code COLLATE \"C\", day\n{}",
          own::merge_lane_day_sql(dialect)));
      c.exec("UPDATE prkl_meta SET value = value + 1 WHERE key = 'data_version'");
      c.exec(
          "UPDATE prkl_meta SET value = floor(random() * 9e18)::bigint WHERE key = "
          "'data_epoch'");
      store_.set_price_triggers("ENABLE");
      tx_.commit();
      try {
        // A bulk load leaves no page marked all-visible: VACUUM marks them, so the lane/day
        // index answers alone (percentiles read prices through it) instead of visiting every
        // row's page.
        c.exec("VACUUM ANALYZE prices");
        c.exec("ANALYZE prkl_lane_days");
      } catch (const StorageError& e) {
        // Not ConnectionLost: that would say nothing was written, and invite a second import.
        throw StorageError(
            fmt::format("the data was loaded and committed, but tidying up after it failed: {}",
                        e.what()),
            e.code());
      }
    }

   private:
    PgStore& store_;
    Transaction tx_;
    std::vector<std::string> restore_keys_;
  };

  static constexpr auto append_row = [](std::string& line, const auto& row) {
    detail::append_copy_row(line, row);
  };

  template <typename Rows, typename Append = decltype(append_row)>
  void copy_rows(std::string sql, const Rows& rows, const Progress& progress,
                 Append append = append_row) {
    CopyIn copy(connection_, std::move(sql));
    const auto total = std::int64_t(rows.size());
    std::int64_t done = 0;
    std::string line;
    for (const auto& row : rows) {
      line.clear();
      append(line, row);
      copy.write(line);
      if (progress && ++done % 10'000 == 0) progress(done, total);
    }
    copy.finish();
    if (progress) progress(total, total);
  }

  std::vector<std::string> missing_objects() {
    std::vector<std::string> missing;
    for (const Table& t : tables()) {
      if (connection_.exec("SELECT to_regclass($1) IS NULL", {std::string(t.name)}).text(0, 0) ==
          "t") {
        missing.emplace_back(t.name);
      }
    }
    if (connection_.exec("SELECT to_regclass($1) IS NULL", {std::string(index_name)}).text(0, 0) ==
        "t") {
      missing.emplace_back(index_name);
    }
    for (const ratestask::Column& column : ratestask::price_dimensions) {
      const Result r = connection_.exec(
          "SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('prices') AND attname = $1 "
          "AND NOT attisdropped",
          {std::string(column.name)});
      if (r.rows() == 0) missing.push_back(fmt::format("prices.{}", column.name));
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
      connection_.exec(detail::schema::probe_sql(t.name, t.columns));
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

std::unique_ptr<Store> open(const std::string& conninfo, OpenMode mode,
                            std::chrono::seconds connect_timeout) {
  return std::make_unique<PgStore>(conninfo, mode, connect_timeout);
}

}  // namespace prkl::postgres
