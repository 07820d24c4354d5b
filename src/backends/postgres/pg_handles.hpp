// SPDX-License-Identifier: MIT
#pragma once

// RAII owners for libpq: a connection, a result, and a transaction that rolls back unless
// committed. Only this backend sees libpq-fe.h.

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace prkl::postgres {

struct ResultDeleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};

/// A query result; text format.
class Result {
 public:
  explicit Result(PGresult* result) : result_(result) {}
  int rows() const { return PQntuples(result_.get()); }
  bool is_null(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }
  std::string text(int row, int column) const;
  std::int64_t int64(int row, int column) const;
  PGresult* get() const noexcept { return result_.get(); }

 private:
  std::unique_ptr<PGresult, ResultDeleter> result_;
};

/// Parameters as text, NULL when empty optional.
using Params = std::vector<std::optional<std::string>>;

/// Where a failure struck. A connection lost while a COMMIT was on its way (or its answer was)
/// leaves the transaction's outcome unknown; lost anywhere else, nothing was committed.
enum class Phase { statement, commit };

class Connection {
 public:
  /// `connect_timeout` (0: wait for ever) applies unless `conninfo` sets its own.
  Connection(std::string conninfo, std::chrono::seconds connect_timeout);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  PGconn* get() const noexcept { return conn_; }
  bool broken() const { return PQstatus(conn_) == CONNECTION_BAD; }
  /// Drops the connection and opens a new one with the same settings.
  void reconnect();
  /// How many times reconnect() was called.
  std::uint64_t reconnects() const noexcept { return reconnects_; }

  // Nothing here leaves state on the server's session: no named prepared statements, no SET,
  // no session locks. Behind a pooler in transaction mode (PgBouncer) each transaction, and
  // each statement outside one, may run on another server connection, shared with other
  // clients; only what a transaction does within itself is sure to stay together.

  /// Runs SQL without parameters (may hold several statements).
  Result exec(std::string_view sql);
  enum class Format { text, binary };
  /// Runs SQL with bound text parameters as an unnamed statement, parsed, bound and run in one
  /// round trip; results come as text unless asked for in binary.
  Result exec(std::string_view sql, const Params& params, Format result_format = Format::text);
  /// Runs `COPY (...) TO STDOUT` and hands each row's text (without its newline) to `on_row`.
  /// If `on_row` throws, the rest of the COPY is drained so the connection stays usable.
  void copy_out(std::string_view sql, const std::function<void(std::string_view)>& on_row);
  /// Commits the open transaction; a connection lost on the way throws InDoubt.
  void commit();

  /// Throws the right prkl error for a failed result or a broken connection: InDoubt when the
  /// connection was lost in Phase::commit, ConnectionLost when lost in any other, otherwise a
  /// StorageError with the server's SQLSTATE.
  [[noreturn]] void fail(PGresult* result, std::string_view doing,
                         Phase phase = Phase::statement) const;

 private:
  Result check(PGresult* result, std::string_view doing, Phase phase = Phase::statement) const;
  void open();

  std::string conninfo_;
  std::chrono::seconds connect_timeout_;
  PGconn* conn_ = nullptr;
  std::uint64_t reconnects_ = 0;
};

/// A `COPY ... FROM STDIN` in progress. Rows are buffered and sent in large chunks; finish()
/// completes it, and a CopyIn dropped without finish() aborts the COPY (and with it the
/// transaction), never throwing from the destructor.
class CopyIn {
 public:
  CopyIn(Connection& connection, std::string copy_sql);
  ~CopyIn();
  CopyIn(const CopyIn&) = delete;
  CopyIn& operator=(const CopyIn&) = delete;

  /// Appends COPY text: fields already escaped, tab-separated, each row ending in '\n'.
  void write(std::string_view text);
  void finish();

 private:
  void flush();

  Connection& connection_;
  std::string sql_;
  std::string buffer_;
  bool open_ = true;
};

class Transaction {
 public:
  /// A read-only transaction is one consistent snapshot (REPEATABLE READ), and has nothing to
  /// lose: a connection lost during its COMMIT is ConnectionLost, not InDoubt.
  enum class Access { read_write, read_only };
  explicit Transaction(Connection& connection, Access access = Access::read_write);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Connection& connection_;
  Access access_;
  bool open_ = true;
};

}  // namespace prkl::postgres
