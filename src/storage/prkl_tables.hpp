// SPDX-License-Identifier: MIT
#pragma once

// prkl's own tables (the batch ledger, exchange rates, metadata, equipment codes and the
// lane-day aggregates with their change log), described once (schema.hpp), and the statements
// on them that read and write the same on every engine. What only one engine can say (SQLite's
// row triggers, PostgreSQL's statement triggers and COPY) stays in its backend.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "storage/schema.hpp"

namespace prkl::detail::prkl_tables {

using schema::Column;
using schema::Dialect;
using schema::Table;
using schema::Type;

inline constexpr Column batch_columns[] = {{"id", Type::text, true, ""},
                                           {"digest", Type::text, true, ""},
                                           {"rows", Type::bigint, true, ""},
                                           {"prices", Type::bigint, true, ""},
                                           {"applied_at", Type::text, true, ""}};
/// The ledger: one row per batch applied, by id, so a batch lands once.
inline constexpr Table batches{"prkl_batches", batch_columns, "id"};

inline constexpr Column batch_rate_columns[] = {{"batch_id", Type::text, true, "prkl_batches(id)"},
                                                {"currency", Type::text, true, ""},
                                                {"day", Type::date, true, ""},
                                                {"rate", Type::bigint, true, ""}};
/// Which exchange rates each batch converted its prices with, as they were then (a rate may be
/// replaced later), so a stored price can be traced back to its amount.
inline constexpr Table batch_rates{"prkl_batch_rates", batch_rate_columns,
                                   "batch_id, currency, day", true};

inline constexpr Column exchange_rate_columns[] = {{"currency", Type::text, true, ""},
                                                   {"day", Type::date, true, ""},
                                                   {"rate", Type::bigint, true, "", "rate > 0"}};
/// Units of a currency per USD, times 10^12, per day.
inline constexpr Table exchange_rates{"prkl_exchange_rates", exchange_rate_columns, "currency, day",
                                      true};

inline constexpr Column meta_columns[] = {{"key", Type::text, true, ""},
                                          {"value", Type::bigint, true, ""}};
/// The store's versions and settings by name (see meta_setup_sql).
inline constexpr Table meta{"prkl_meta", meta_columns, "key"};

inline constexpr Column equipment_columns[] = {{"code", Type::text, true, ""}};
/// The equipment codes prices may name; seeded when created (seed_equipment_sql).
inline constexpr Table equipment{"prkl_equipment", equipment_columns, "code", true};

inline constexpr Column lane_day_columns[] = {
    {"orig_code", Type::text, true, "", "", true}, {"dest_code", Type::text, true, "", "", true},
    {"day", Type::day_number, true, ""},           {"price_count", Type::bigint, true, ""},
    {"price_sum", Type::bigint, true, ""},         {"price_min", Type::integer, true, ""},
    {"price_max", Type::integer, true, ""}};
/// Count, sum, min and max of every lane's prices (contracts counted on each day they are
/// valid) per day, which rates are answered from; kept in the writer's transaction (set-based
/// by prkl's batches, by triggers for anyone else's SQL). Emptied rows stay, with count 0, so
/// readers catching up see the change. Kept lane first where rows are kept in key order, so a
/// connection's first question reads them lane by lane (keyed day first, that load took twice
/// as long in SQLite and batches gained little); day first where the key is an index beside a
/// heap, so a batch of new days adds to the end of the index instead of touching a page per
/// lane (PostgreSQL).
inline constexpr Table lane_days{"prkl_lane_days", lane_day_columns, "orig_code, dest_code, day",
                                 true, "day, orig_code, dest_code"};

inline constexpr Column day_change_columns[] = {{"version", Type::bigint, true, ""},
                                                {"day", Type::day_number, true, ""}};
/// Which days' lane-days changed at which data version: readers catching up re-read those
/// days. A batch of a month of new days adds 30 rows here, not one per lane-day.
inline constexpr Table day_changes{"prkl_day_changes", day_change_columns, "version, day", true};

/// In creation order: each refers only to those before it.
inline constexpr std::array<Table, 7> tables{batches,   batch_rates, exchange_rates, meta,
                                             equipment, lane_days,   day_changes};

/// The statement that fills a new prkl_equipment table with default_equipment.
std::string seed_equipment_sql();

/// A random data epoch: a new one tells readers that their copy is of other data altogether.
std::int64_t new_epoch();

/// Fills a new prkl_meta and moves an old one's schema version up (a newer prkl's init may
/// have gone further: never down); the oldest version that can still read the store is the
/// first init's to set. Keeps the versions and epoch of a store that has them.
std::string meta_setup_sql(Dialect dialect, std::int64_t epoch);

/// The schema version and the oldest that can read the store, as one row.
std::string_view schema_versions_sql();
/// Moves the data version one up and returns it. The row stays locked until the writer
/// commits, so writers of prices take turns and versions follow commit order.
std::string_view bump_data_version_sql();
/// The newest data version whose day changes were forgotten (no row when none were).
std::string_view day_changes_horizon_sql();

/// Every column of the lane-days, days as numbers from 1970-01-01.
std::string select_lane_days_sql(Dialect dialect);
/// ... of the lane-days that hold a price.
std::string filled_lane_days_sql(Dialect dialect);
/// ... of the days changed after the data version given as the first parameter.
std::string changed_lane_days_sql(Dialect dialect);
/// What an inserted lane-day (its count, sum, min and max as `excluded`) does to one already
/// there: adds its count and sum, and its min and max unless that one was emptied (count 0).
std::string merge_lane_day_sql(Dialect dialect);
/// What a lane-day counted again (as `excluded`) does to one already there: replaces it.
std::string replace_lane_day_sql(Dialect dialect);

/// The ledger's record of a batch by id (the first parameter), and its insert.
std::string find_batch_sql(Dialect dialect);
/// The rates a batch (by id, the first parameter) used, by currency and day.
std::string find_batch_rates_sql(Dialect dialect);

}  // namespace prkl::detail::prkl_tables
