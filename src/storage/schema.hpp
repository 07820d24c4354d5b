// SPDX-License-Identifier: MIT
#pragma once

// How a table is described once and its SQL made for each engine: the ratestask tables
// (ratestask.hpp) and prkl's own (prkl_tables.hpp) are written as Tables, and every CREATE
// TABLE, column probe, SELECT and INSERT of them comes from here. An engine's differences are
// its Dialect; a new engine adds one.

#include <span>
#include <string>
#include <string_view>

namespace prkl::detail::schema {

enum class Type {
  text,
  /// A calendar day as the engine stores days (PostgreSQL date; SQLite checked ISO text).
  date,
  /// A day counted from 1970-01-01 as the core counts them: PostgreSQL stores a date, SQLite
  /// the number itself.
  day_number,
  /// 32 bits.
  integer,
  /// 64 bits.
  bigint,
};

struct Column {
  std::string_view name;
  Type type;
  bool not_null;
  /// "table(column)" a value must be found in, or empty.
  std::string_view references;
  /// A condition each value meets, or empty: "rate > 0".
  std::string_view check = {};
  /// Compared byte by byte rather than by the database's locale: codes nothing sorts for
  /// people, where a locale's comparison slowed every index step (PostgreSQL's COLLATE "C").
  bool byte_order = false;
};

struct Table {
  std::string_view name;
  std::span<const Column> columns;
  /// The primary key's columns ("slug", "currency, day"), or empty: prices has none.
  std::string_view key;
  /// The rows are kept in the key's order (SQLite's WITHOUT ROWID); an engine that keeps rows
  /// in a heap makes the key an index.
  bool clustered = false;
  /// The key's order where it differs for an engine that keeps rows in a heap and the key as
  /// an index (PostgreSQL), or empty.
  std::string_view heap_key = {};
};

/// How each place writes SQL.
enum class Dialect {
  /// A PostgreSQL store: keys and references inline, parameters $1, $2, ...
  postgres,
  /// A SQLite store: days as checked ISO text, references to regions deferred to the commit,
  /// parameters ?.
  sqlite,
  /// A plain-SQL dump as pg_dump writes it: the columns only; keys and references are
  /// constraints added after the data.
  pg_dump,
};

/// The key's columns as `dialect` orders them.
std::string_view key(const Table& table, Dialect dialect);

/// "slug, name, parent_slug".
std::string column_list(const Table& table);
/// The n-th (from 1) statement parameter: "?" or "$n".
std::string parameter(int n, Dialect dialect);

/// "SELECT slug, name, parent_slug FROM regions".
std::string select_sql(const Table& table);
/// "SELECT slug, name, parent_slug FROM regions LIMIT 0": fails on a table found without a
/// column prkl uses (a clear error beats a failing query later).
std::string probe_sql(std::string_view table, std::string_view columns);
/// "COPY regions (slug, name, parent_slug) FROM STDIN".
std::string copy_in_sql(const Table& table);
/// "INSERT INTO regions (slug, name, parent_slug) VALUES (?, ?, ?)", parameters as `dialect`
/// writes them.
std::string insert_sql(const Table& table, Dialect dialect = Dialect::sqlite);

/// CREATE TABLE for `table` in `dialect`.
std::string create_table(const Table& table, Dialect dialect);
/// ALTER TABLE ... ADD COLUMN for one (nullable) column of `table` in `dialect`.
std::string add_column(const Table& table, const Column& column, Dialect dialect);

}  // namespace prkl::detail::schema
