// SPDX-License-Identifier: MIT
// libpq owned: connecting with a timeout, statements with parameters, COPY IN, transactions, and
// errors typed by SQLSTATE (a lost connection, a commit in doubt).
#include "pg_handles.hpp"

#include <fmt/format.h>

#include <charconv>
#include <exception>

#include "prkl/error.hpp"
#include "util/metrics.hpp"

namespace prkl::postgres {

namespace {
constexpr std::size_t chunk_size = 1 << 20;
}  // namespace

std::string Result::text(int row, int column) const {
  return std::string(PQgetvalue(result_.get(), row, column),
                     std::size_t(PQgetlength(result_.get(), row, column)));
}

std::int64_t Result::int64(int row, int column) const {
  const char* begin = PQgetvalue(result_.get(), row, column);
  const char* end = begin + PQgetlength(result_.get(), row, column);
  std::int64_t value = 0;
  const auto [stop, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc{} || stop != end) {
    throw StorageError(fmt::format("PostgreSQL returned '{}' where an integer belongs",
                                   std::string_view(begin, std::size_t(end - begin))));
  }
  return value;
}

Connection::Connection(std::string conninfo, std::chrono::seconds connect_timeout)
    : conninfo_(std::move(conninfo)), connect_timeout_(connect_timeout) {
  open();
}

Connection::~Connection() {
  PQfinish(conn_);
}

void Connection::open() {
  // libpq expands the connection string (URI or key=value) given as dbname in place, and a
  // later setting wins over an earlier one: the timeout goes first so the string's own wins.
  const std::string timeout = std::to_string(connect_timeout_.count());
  const char* const keywords[] = {"connect_timeout", "dbname", nullptr};
  const char* const values[] = {timeout.c_str(), conninfo_.c_str(), nullptr};
  conn_ = PQconnectdbParams(keywords, values, 1);
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string message = conn_ ? PQerrorMessage(conn_) : "out of memory";
    while (!message.empty() && message.back() == '\n') message.pop_back();
    PQfinish(conn_);
    conn_ = nullptr;
    // libpq gives no SQLSTATE for a failed connection. An unreachable or refusing server is
    // what this mostly is, and trying again later is the cure.
    throw ConnectionLost(fmt::format("cannot connect to PostgreSQL: {}", message));
  }
  // Keep server notices (e.g. "relation already exists, skipping") off the user's terminal.
  PQsetNoticeProcessor(
      conn_, [](void*, const char*) {}, nullptr);
}

void Connection::reconnect() {
  detail::record_reconnect();
  ++reconnects_;
  PQfinish(conn_);
  conn_ = nullptr;
  open();
}

void Connection::fail(PGresult* result, std::string_view doing, Phase phase) const {
  const std::string_view first_line = doing.substr(0, doing.find('\n'));
  // Copied before the result is cleared below: the field points into the result.
  const char* state_field = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string state = state_field ? state_field : "";
  std::string message = result ? PQresultErrorMessage(result) : PQerrorMessage(conn_);
  if (message.empty()) message = PQerrorMessage(conn_);
  while (!message.empty() && message.back() == '\n') message.pop_back();
  PQclear(result);
  if (PQstatus(conn_) == CONNECTION_BAD) {
    if (phase == Phase::commit) {
      throw InDoubt(fmt::format("lost the connection to PostgreSQL while committing: {}; the "
                                "transaction may or may not have been committed",
                                message),
                    state);
    }
    throw ConnectionLost(fmt::format("lost the connection to PostgreSQL while running '{}': {}",
                                     first_line, message),
                         state);
  }
  throw StorageError(
      fmt::format("PostgreSQL{}: {} (while running '{}')",
                  state.empty() ? "" : fmt::format(" [{}]", state), message, first_line),
      state);
}

Result Connection::check(PGresult* result, std::string_view doing, Phase phase) const {
  const auto status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_COPY_IN ||
      status == PGRES_COPY_OUT) {
    return Result(result);
  }
  fail(result, doing, phase);
}

void Connection::commit() {
  // A connection known to be lost cannot send the COMMIT, and the server rolls back the
  // transaction of a client that is gone: nothing landed.
  const Phase phase = broken() ? Phase::statement : Phase::commit;
  check(PQexec(conn_, "COMMIT"), "COMMIT", phase);
}

Result Connection::exec(std::string_view sql) {
  return check(PQexec(conn_, std::string(sql).c_str()), sql);
}

namespace {

std::vector<const char*> pointers(const Params& params) {
  std::vector<const char*> out;
  out.reserve(params.size());
  for (const auto& p : params) out.push_back(p ? p->c_str() : nullptr);
  return out;
}

}  // namespace

Result Connection::exec(std::string_view sql, const Params& params, Format result_format) {
  const auto values = pointers(params);
  return check(
      PQexecParams(conn_, std::string(sql).c_str(), int(values.size()), nullptr, values.data(),
                   nullptr, nullptr, result_format == Format::binary ? 1 : 0),
      sql);
}

void Connection::copy_out(std::string_view sql,
                          const std::function<void(std::string_view)>& on_row) {
  exec(sql);
  std::exception_ptr failure;
  for (;;) {
    char* buffer = nullptr;
    const int length = PQgetCopyData(conn_, &buffer, 0);
    if (length < 0) break;
    if (!failure) {
      std::string_view row(buffer, std::size_t(length));
      if (row.ends_with('\n')) row.remove_suffix(1);
      try {
        on_row(row);
      } catch (...) {
        failure = std::current_exception();
      }
    }
    PQfreemem(buffer);
  }
  PGresult* result = PQgetResult(conn_);
  while (PGresult* extra = PQgetResult(conn_)) PQclear(extra);
  if (!result || PQresultStatus(result) != PGRES_COMMAND_OK) fail(result, sql);
  PQclear(result);
  if (failure) std::rethrow_exception(failure);
}

CopyIn::CopyIn(Connection& connection, std::string copy_sql)
    : connection_(connection), sql_(std::move(copy_sql)) {
  connection_.exec(sql_);
  buffer_.reserve(chunk_size);
}

CopyIn::~CopyIn() {
  if (!open_ || connection_.broken()) return;
  PQputCopyEnd(connection_.get(), "abandoned by prkl");
  while (PGresult* r = PQgetResult(connection_.get())) PQclear(r);
}

void CopyIn::write(std::string_view text) {
  buffer_.append(text);
  if (buffer_.size() >= chunk_size) flush();
}

void CopyIn::flush() {
  if (buffer_.empty()) return;
  if (PQputCopyData(connection_.get(), buffer_.data(), int(buffer_.size())) != 1) {
    open_ = false;
    connection_.fail(nullptr, sql_);
  }
  buffer_.clear();
}

void CopyIn::finish() {
  flush();
  open_ = false;
  if (PQputCopyEnd(connection_.get(), nullptr) != 1) connection_.fail(nullptr, sql_);
  PGresult* result = PQgetResult(connection_.get());
  while (PGresult* extra = PQgetResult(connection_.get())) PQclear(extra);
  if (!result || PQresultStatus(result) != PGRES_COMMAND_OK) connection_.fail(result, sql_);
  PQclear(result);
}

Transaction::Transaction(Connection& connection, Access access)
    : connection_(connection), access_(access) {
  // Said in the BEGIN rather than by a SET TRANSACTION after it: one round trip fewer.
  connection_.exec(access == Access::read_only ? "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"
                                               : "BEGIN");
}

Transaction::~Transaction() {
  if (open_ && !connection_.broken()) PQclear(PQexec(connection_.get(), "ROLLBACK"));
}

void Transaction::commit() {
  if (access_ == Access::read_only) {
    connection_.exec("COMMIT");
  } else {
    connection_.commit();
  }
  open_ = false;
}

}  // namespace prkl::postgres
