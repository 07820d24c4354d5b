// SPDX-License-Identifier: MIT
// The SQL made from a table's one description, in each engine's dialect.
#include "storage/schema.hpp"

#include <fmt/format.h>

#include <iterator>

namespace prkl::detail::schema {

std::string_view key(const Table& table, Dialect dialect) {
  return dialect == Dialect::postgres && !table.heap_key.empty() ? table.heap_key : table.key;
}

std::string column_list(const Table& table) {
  std::string out;
  for (const Column& column : table.columns) {
    if (!out.empty()) out += ", ";
    out += column.name;
  }
  return out;
}

std::string parameter(int n, Dialect dialect) {
  return dialect == Dialect::sqlite ? "?" : fmt::format("${}", n);
}

std::string select_sql(const Table& table) {
  return fmt::format("SELECT {} FROM {}", column_list(table), table.name);
}

std::string probe_sql(std::string_view table, std::string_view columns) {
  return fmt::format("SELECT {} FROM {} LIMIT 0", columns, table);
}

std::string copy_in_sql(const Table& table) {
  return fmt::format("COPY {} ({}) FROM STDIN", table.name, column_list(table));
}

std::string insert_sql(const Table& table, Dialect dialect) {
  std::string parameters;
  for (std::size_t i = 0; i < table.columns.size(); ++i) {
    if (i > 0) parameters += ", ";
    parameters += parameter(int(i) + 1, dialect);
  }
  return fmt::format("INSERT INTO {} ({}) VALUES ({})", table.name, column_list(table), parameters);
}

namespace {

std::string_view type_name(Type type, Dialect dialect) {
  const bool sqlite = dialect == Dialect::sqlite;
  switch (type) {
    case Type::text:
      return sqlite ? "TEXT" : "text";
    case Type::date:
      // ISO text orders as days do; the check keeps a row written by other SQL from breaking
      // that.
      return sqlite ? "TEXT" : "date";
    case Type::day_number:
      return sqlite ? "INTEGER" : "date";
    case Type::integer:
      return sqlite ? "INTEGER" : "integer";
    case Type::bigint:
      return sqlite ? "INTEGER" : "bigint";
  }
  return "text";
}

bool composite(std::string_view key) {
  return key.find(',') != std::string_view::npos;
}

// One column's definition in `dialect`.
std::string column_sql(const Table& table, const Column& column, Dialect dialect) {
  const bool sqlite = dialect == Dialect::sqlite;
  std::string out = fmt::format("{} {}{}{}", column.name, type_name(column.type, dialect),
                                column.byte_order && !sqlite ? " COLLATE \"C\"" : "",
                                column.not_null ? " NOT NULL" : "");
  if (dialect == Dialect::pg_dump) return out;
  if (!composite(table.key) && column.name == table.key) out += " PRIMARY KEY";
  if (sqlite && column.type == Type::date) {
    fmt::format_to(std::back_inserter(out),
                   " CHECK ({} GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]')", column.name);
  }
  if (!column.check.empty()) fmt::format_to(std::back_inserter(out), " CHECK ({})", column.check);
  if (!column.references.empty()) {
    fmt::format_to(std::back_inserter(out), " REFERENCES {}", column.references);
    // A region tree's rows may come in any order: its references are checked at the commit.
    if (sqlite && column.references.starts_with("regions(")) {
      out += " DEFERRABLE INITIALLY DEFERRED";
    }
  }
  return out;
}

}  // namespace

std::string create_table(const Table& table, Dialect dialect) {
  const bool sqlite = dialect == Dialect::sqlite;
  const std::string_view separator = dialect == Dialect::postgres ? ", " : ",\n";
  const std::string_view indent =
      dialect == Dialect::postgres ? "" : (dialect == Dialect::sqlite ? "  " : "    ");
  std::string out = fmt::format("CREATE TABLE {} ({}", table.name,
                                dialect == Dialect::pg_dump ? "\n" : (sqlite ? "\n" : ""));
  for (std::size_t i = 0; i < table.columns.size(); ++i) {
    if (i > 0) out += separator;
    out += indent;
    out += column_sql(table, table.columns[i], dialect);
  }
  if (dialect != Dialect::pg_dump && composite(table.key)) {
    fmt::format_to(std::back_inserter(out), "{}{}PRIMARY KEY ({})", separator, indent,
                   key(table, dialect));
  }
  out += dialect == Dialect::pg_dump ? "\n)" : ")";
  if (sqlite && table.clustered) out += " WITHOUT ROWID";
  return out;
}

std::string add_column(const Table& table, const Column& column, Dialect dialect) {
  return fmt::format("ALTER TABLE {} ADD COLUMN {}", table.name,
                     column_sql(table, column, dialect));
}

}  // namespace prkl::detail::schema
