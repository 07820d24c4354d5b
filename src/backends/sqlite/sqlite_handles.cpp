#include "sqlite_handles.hpp"

#include <fmt/format.h>

#include "prkl/error.hpp"

namespace prkl::sqlite {

Connection::Connection(const std::string& path, int flags) {
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    const std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw StorageError(
        fmt::format("cannot open SQLite database {}: {}", quoted_value(path), message));
  }
  sqlite3_extended_result_codes(db_, 1);
}

Connection::~Connection() {
  sqlite3_close_v2(db_);
}

void Connection::exec(std::string_view sql) {
  check(sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, nullptr), sql);
}

void Connection::check(int rc, std::string_view doing) const {
  if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE) return;
  fail(sqlite3_errmsg(db_), doing);
}

void Connection::fail(std::string_view message, std::string_view doing) {
  const std::string_view first_line = doing.substr(0, doing.find('\n'));
  throw StorageError(fmt::format("SQLite: {} (while running '{}')", message, first_line));
}

Statement::Statement(Connection& connection, std::string_view sql) : connection_(connection) {
  connection_.check(sqlite3_prepare_v3(connection_.get(), sql.data(), int(sql.size()),
                                       SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr),
                    sql);
}

Statement::~Statement() {
  sqlite3_finalize(stmt_);
}

Statement& Statement::reset() {
  // reset() reports the error of the last step, which was already reported; ignore it here.
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
  connection_.check(
      sqlite3_bind_text(stmt_, index, text.data(), int(text.size()), SQLITE_TRANSIENT),
      sqlite3_sql(stmt_));
  return *this;
}

Statement& Statement::bind_static(int index, std::string_view text) {
  connection_.check(sqlite3_bind_text(stmt_, index, text.data(), int(text.size()), SQLITE_STATIC),
                    sqlite3_sql(stmt_));
  return *this;
}

Statement& Statement::bind(int index, std::int64_t value) {
  connection_.check(sqlite3_bind_int64(stmt_, index, value), sqlite3_sql(stmt_));
  return *this;
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  const std::string message = sqlite3_errmsg(connection_.get());
  sqlite3_reset(stmt_);
  Connection::fail(message, sqlite3_sql(stmt_));
}

void Statement::run() {
  while (step()) {
  }
}

std::int64_t Statement::int64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

std::string Statement::text(int column) const {
  const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  return data ? std::string(data, std::size_t(sqlite3_column_bytes(stmt_, column))) : std::string();
}

std::string_view Statement::text_view(int column) const {
  const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  return data ? std::string_view(data, std::size_t(sqlite3_column_bytes(stmt_, column)))
              : std::string_view();
}

bool Statement::is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

TriggersOff::TriggersOff(Connection& connection) : connection_(connection) {
  // Changing the setting expires the connection's prepared statements, so they are compiled
  // again without (and afterwards with) the trigger programs.
  connection_.check(
      sqlite3_db_config(connection_.get(), SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, nullptr),
      "switching triggers off");
}

TriggersOff::~TriggersOff() {
  sqlite3_db_config(connection_.get(), SQLITE_DBCONFIG_ENABLE_TRIGGER, 1, nullptr);
}

Transaction::Transaction(Connection& connection, Kind kind) : connection_(connection) {
  connection_.exec(kind == Kind::immediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
}

Transaction::~Transaction() {
  if (open_) sqlite3_exec(connection_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
  connection_.exec("COMMIT");
  open_ = false;
}

}  // namespace prkl::sqlite
