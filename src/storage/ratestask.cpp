// SPDX-License-Identifier: MIT
// The SQL made from the one description of the ratestask tables.
#include "storage/ratestask.hpp"

#include <fmt/format.h>

#include "prkl/model.hpp"

namespace prkl::detail::ratestask {

std::string column_list(const Table& table) {
  std::string out;
  for (const Column& column : table.columns) {
    if (!out.empty()) out += ", ";
    out += column.name;
  }
  return out;
}

std::string select_sql(const Table& table) {
  return fmt::format("SELECT {} FROM {}", column_list(table), table.name);
}

std::string copy_in_sql(const Table& table) {
  return fmt::format("COPY {} ({}) FROM STDIN", table.name, column_list(table));
}

std::string insert_sql(const Table& table) {
  std::string parameters;
  for (std::size_t i = 0; i < table.columns.size(); ++i) parameters += i > 0 ? ", ?" : "?";
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
    case Type::integer:
      return sqlite ? "INTEGER" : "integer";
  }
  return "text";
}

// One column's definition in `dialect`.
std::string column_sql(const Table& table, const Column& column, Dialect dialect) {
  const bool sqlite = dialect == Dialect::sqlite;
  std::string out = fmt::format("{} {}{}", column.name, type_name(column.type, dialect),
                                column.not_null ? " NOT NULL" : "");
  if (dialect == Dialect::pg_dump) return out;
  if (column.name == table.key) out += " PRIMARY KEY";
  if (sqlite && column.type == Type::date) {
    fmt::format_to(std::back_inserter(out),
                   " CHECK ({} GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]')", column.name);
  }
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
  out += dialect == Dialect::pg_dump ? "\n)" : ")";
  return out;
}

std::string create_contracts(Dialect dialect) {
  std::string out = create_table(contracts, dialect);
  out.pop_back();
  const std::string days = dialect == Dialect::sqlite
                               ? "julianday(valid_to) - julianday(valid_from)"
                               : "valid_to - valid_from";
  fmt::format_to(std::back_inserter(out),
                 ",{}CHECK (valid_to >= valid_from AND {} < {}),{}CHECK (price > 0));\n"
                 "CREATE INDEX prkl_contracts_lane ON prkl_contracts (orig_code, dest_code, "
                 "valid_from)",
                 dialect == Dialect::sqlite ? "\n  " : " ", days, max_contract_days,
                 dialect == Dialect::sqlite ? "\n  " : " ");
  return out;
}

std::string add_column(const Table& table, const Column& column, Dialect dialect) {
  return fmt::format("ALTER TABLE {} ADD COLUMN {}", table.name,
                     column_sql(table, column, dialect));
}

std::string dump_constraints() {
  std::string out;
  for (const Table& table : tables) {
    if (table.key.empty()) continue;
    fmt::format_to(std::back_inserter(out),
                   "ALTER TABLE ONLY {0}\n    ADD CONSTRAINT {0}_pkey PRIMARY KEY ({1});\n\n",
                   table.name, table.key);
  }
  for (const Table& table : tables) {
    for (const Column& column : table.columns) {
      if (column.references.empty()) continue;
      fmt::format_to(std::back_inserter(out),
                     "ALTER TABLE ONLY {0}\n    ADD CONSTRAINT {0}_{1}_fkey FOREIGN KEY ({1}) "
                     "REFERENCES {2};\n\n",
                     table.name, column.name, column.references);
    }
  }
  return out;
}

}  // namespace prkl::detail::ratestask
