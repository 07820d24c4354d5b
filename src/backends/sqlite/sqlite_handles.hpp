// SPDX-License-Identifier: MIT
#pragma once

// RAII owners for the SQLite C API: a connection, a prepared statement that is reset and rebound
// for every use, and a transaction that rolls back unless committed.

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace prkl::sqlite {

class Connection {
 public:
  /// `name` is what sqlite3_open_v2 takes (a URI with SQLITE_OPEN_URI); errors name `path`.
  Connection(const std::string& path, const std::string& name, int flags,
             std::chrono::milliseconds busy_timeout);
  Connection(const std::string& path, int flags, std::chrono::milliseconds busy_timeout)
      : Connection(path, path, flags, busy_timeout) {}
  ~Connection();
  Connection(Connection&& other) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  sqlite3* get() const noexcept { return db_; }
  const std::string& path() const noexcept { return path_; }
  std::chrono::milliseconds busy_timeout() const noexcept { return busy_timeout_; }
  /// Runs one or more statements without results.
  void exec(std::string_view sql);
  /// Like exec(), but returns SQLite's (extended) result code instead of throwing.
  int try_exec(std::string_view sql);
  /// Throws StorageError with SQLite's message when `rc` is an error.
  void check(int rc, std::string_view doing) const;
  /// Throws StorageError for the error `code` (extended), naming the store and, when it was
  /// kept waiting for a lock, how long it waited.
  [[noreturn]] void fail(int code, std::string_view message, std::string_view doing) const;

 private:
  std::string path_;
  std::chrono::milliseconds busy_timeout_;
  sqlite3* db_ = nullptr;
};

class Statement {
 public:
  Statement(Connection& connection, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  /// Resets the statement and clears its bindings, ready for a new use.
  Statement& reset();
  Statement& bind(int index, std::string_view text);
  /// Binds without copying: `text` must stay alive and unchanged until the next reset().
  Statement& bind_static(int index, std::string_view text);
  Statement& bind(int index, std::int64_t value);
  /// Steps once; true while there is a row to read.
  bool step();
  /// Steps to completion, for statements without rows.
  void run();

  std::int64_t int64(int column) const;
  std::string text(int column) const;
  /// Valid until the next step() or reset().
  std::string_view text_view(int column) const;
  bool is_null(int column) const;

 private:
  Connection& connection_;
  sqlite3_stmt* stmt_ = nullptr;
};

/// Switches the connection's triggers off until destroyed. The setting belongs to this
/// connection alone: other connections' writes still fire every trigger.
class TriggersOff {
 public:
  explicit TriggersOff(Connection& connection);
  ~TriggersOff();
  TriggersOff(const TriggersOff&) = delete;
  TriggersOff& operator=(const TriggersOff&) = delete;

 private:
  Connection& connection_;
};

class Transaction {
 public:
  enum class Kind { deferred, immediate };
  Transaction(Connection& connection, Kind kind);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Connection& connection_;
  bool open_ = true;
};

}  // namespace prkl::sqlite
