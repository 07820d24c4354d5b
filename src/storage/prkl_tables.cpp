// SPDX-License-Identifier: MIT
// The statements on prkl's own tables that every engine writes alike.
#include "storage/prkl_tables.hpp"

#include <fmt/format.h>

#include <random>

#include "prkl/model.hpp"
#include "prkl/store.hpp"

namespace prkl::detail::prkl_tables {

std::string seed_equipment_sql() {
  std::string values;
  for (const std::string_view code : default_equipment) {
    values += fmt::format("{}('{}')", values.empty() ? "" : ", ", code);
  }
  return fmt::format("INSERT INTO prkl_equipment (code) VALUES {}", values);
}

std::int64_t new_epoch() {
  std::random_device entropy;
  return std::int64_t(((std::uint64_t(entropy()) << 32) | entropy()) >> 1);
}

std::string meta_setup_sql(Dialect dialect, std::int64_t epoch) {
  return fmt::format(
      "INSERT INTO prkl_meta VALUES ('geography_generation', 0), ('data_version', 0),"
      " ('data_epoch', {0}) ON CONFLICT DO NOTHING;\n"
      "INSERT INTO prkl_meta VALUES ('schema_version', {1}) ON CONFLICT (key) DO UPDATE"
      " SET value = {2}(prkl_meta.value, excluded.value);\n"
      "INSERT INTO prkl_meta VALUES ('schema_readable_from', {1}) ON CONFLICT DO NOTHING",
      epoch, schema_version, dialect == Dialect::sqlite ? "max" : "greatest");
}

std::string_view schema_versions_sql() {
  return "SELECT (SELECT value FROM prkl_meta WHERE key = 'schema_version'),"
         " (SELECT value FROM prkl_meta WHERE key = 'schema_readable_from')";
}

std::string_view bump_data_version_sql() {
  return "UPDATE prkl_meta SET value = value + 1 WHERE key = 'data_version' RETURNING value";
}

std::string_view day_changes_horizon_sql() {
  return "SELECT value FROM prkl_meta WHERE key = 'day_changes_horizon'";
}

std::string select_lane_days_sql(Dialect dialect) {
  return fmt::format(
      "SELECT orig_code, dest_code, {}, price_count, price_sum, price_min, price_max "
      "FROM prkl_lane_days",
      dialect == Dialect::sqlite ? "day" : "day - DATE '1970-01-01'");
}

std::string filled_lane_days_sql(Dialect dialect) {
  return select_lane_days_sql(dialect) + " WHERE price_count > 0";
}

std::string changed_lane_days_sql(Dialect dialect) {
  return fmt::format("{} WHERE day IN (SELECT day FROM prkl_day_changes WHERE version > {})",
                     select_lane_days_sql(dialect), schema::parameter(1, dialect));
}

std::string merge_lane_day_sql(Dialect dialect) {
  return fmt::format(
      "ON CONFLICT ({0}) DO UPDATE SET\n"
      "  price_count = {1}.price_count + excluded.price_count,\n"
      "  price_sum = {1}.price_sum + excluded.price_sum,\n"
      "  price_min = CASE WHEN {1}.price_count = 0 OR excluded.price_min < {1}.price_min\n"
      "              THEN excluded.price_min ELSE {1}.price_min END,\n"
      "  price_max = CASE WHEN {1}.price_count = 0 OR excluded.price_max > {1}.price_max\n"
      "              THEN excluded.price_max ELSE {1}.price_max END",
      schema::key(lane_days, dialect), lane_days.name);
}

std::string replace_lane_day_sql(Dialect dialect) {
  return fmt::format(
      "ON CONFLICT ({}) DO UPDATE SET price_count = excluded.price_count,"
      " price_sum = excluded.price_sum, price_min = excluded.price_min,"
      " price_max = excluded.price_max",
      schema::key(lane_days, dialect));
}

std::string find_batch_sql(Dialect dialect) {
  return fmt::format("{} WHERE id = {}", schema::select_sql(batches),
                     schema::parameter(1, dialect));
}

std::string find_batch_rates_sql(Dialect dialect) {
  return fmt::format(
      "SELECT currency, day, rate FROM {} WHERE batch_id = {} ORDER BY currency, day",
      batch_rates.name, schema::parameter(1, dialect));
}

}  // namespace prkl::detail::prkl_tables
