// SPDX-License-Identifier: MIT
// The SQLite C API owned: a connection with its busy timeout, prepared statements, transactions,
// and errors typed by extended result code.
#include "sqlite_handles.hpp"

#include <fmt/format.h>

#include <utility>

#include "prkl/error.hpp"

namespace prkl::sqlite {

namespace {

std::string describe_wait(std::chrono::milliseconds wait) {
  return wait.count() % 1000 == 0 ? fmt::format("{} s", wait.count() / 1000)
                                  : fmt::format("{} ms", wait.count());
}

}  // namespace

Connection::Connection(const std::string& path, const std::string& name, int flags,
                       std::chrono::milliseconds busy_timeout)
    : path_(path), busy_timeout_(busy_timeout) {
  const int rc = sqlite3_open_v2(name.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    const std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw StorageError(
        fmt::format("cannot open SQLite database {}: {}", quoted_value(path), message));
  }
  sqlite3_extended_result_codes(db_, 1);
  // Before any statement: the first one may already meet another process's lock.
  sqlite3_busy_timeout(db_, int(busy_timeout.count()));
}

Connection::Connection(Connection&& other) noexcept
    : path_(std::move(other.path_)),
      busy_timeout_(other.busy_timeout_),
      db_(std::exchange(other.db_, nullptr)) {}

Connection::~Connection() {
  sqlite3_close_v2(db_);
}

void Connection::exec(std::string_view sql) {
  check(try_exec(sql), sql);
}

int Connection::try_exec(std::string_view sql) {
  const int rc = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, nullptr);
  return rc == SQLITE_OK ? rc : sqlite3_extended_errcode(db_);
}

void Connection::check(int rc, std::string_view doing) const {
  if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE) return;
  fail(sqlite3_extended_errcode(db_), sqlite3_errmsg(db_), doing);
}

void Connection::fail(int code, std::string_view message, std::string_view doing) const {
  std::string what;
  switch (code & 0xff) {
    case SQLITE_BUSY:
      what = fmt::format(
          "SQLite database '{}' is locked: waited {} for another writer; raise "
          "Options::busy_timeout",
          path_, describe_wait(busy_timeout_));
      break;
    case SQLITE_READONLY:
      what = code == SQLITE_READONLY_DIRECTORY
                 ? fmt::format(
                       "SQLite database '{}' is read-only to this process: SQLite cannot create "
                       "its -wal and -shm files in its directory ({})",
                       path_, message)
                 : fmt::format("SQLite database '{}' is read-only to this process ({})", path_,
                               message);
      break;
    case SQLITE_FULL:
      what = fmt::format("SQLite database '{}' cannot grow ({}); the write was rolled back", path_,
                         message);
      break;
    default:
      what = fmt::format("SQLite database '{}': {}", path_, message);
  }
  const std::string_view first_line = doing.substr(0, doing.find('\n'));
  throw StorageError(fmt::format("{} (while running '{}')", what, first_line),
                     std::to_string(code));
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
  const int code = sqlite3_extended_errcode(connection_.get());
  const std::string message = sqlite3_errmsg(connection_.get());
  sqlite3_reset(stmt_);
  connection_.fail(code, message, sqlite3_sql(stmt_));
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
