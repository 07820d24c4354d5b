// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The error hierarchy. Every error prkl throws derives from prkl::Error, and each class says
/// what the caller can do about it rather than where it came from.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>
#include "prkl/export.hpp"

namespace prkl {

/// How every prkl message shows a value it was given: in single quotes, with control characters
/// and bytes that are not UTF-8 escaped (\x1b, \t, \xff; a backslash as \\), and cut after 200
/// bytes with "..." and the value's whole length, so that a message stays one readable line of
/// valid UTF-8 whatever the value holds.
PRKL_EXPORT std::string quoted_value(std::string_view value);

/// `message` with bytes that are not UTF-8 and control characters other than line breaks
/// escaped as quoted_value() escapes them: what every prkl error's what() holds, whatever text
/// (a file's content, a server's answer, a path) went into it.
PRKL_EXPORT std::string printable_message(std::string_view message);

/// Root of every error prkl throws. Its message is always valid UTF-8 without control
/// characters other than line breaks (see printable_message()).
class PRKL_EXPORT Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what);
  explicit Error(const char* what);
};

/// A value given by the caller is malformed or out of range (a bad date, a reversed range, an
/// unknown option). The message names the value.
class PRKL_EXPORT InvalidArgument : public Error {
 public:
  using Error::Error;
};

/// A question whose answer would hold more values than Options::max_answer_values allows; the
/// message names the size and the limit. Ask fewer lanes, a shorter range, a coarser bucket or
/// fewer percentiles.
class PRKL_EXPORT AnswerTooLarge : public InvalidArgument {
 public:
  using InvalidArgument::InvalidArgument;
};

/// A port, region or database that was asked for does not exist. The message names it.
class PRKL_EXPORT NotFound : public Error {
 public:
  using Error::Error;
};

/// A batch id was applied before with different content; the earlier batch stands.
class PRKL_EXPORT BatchConflict : public InvalidArgument {
 public:
  using InvalidArgument::InvalidArgument;
};

/// One problem with one row of a batch or a dump.
struct RowError {
  /// 1-based row of the batch, or the line of the dump file.
  std::int64_t row = 0;
  /// The field at fault ("origin", "price", ...), "row" when no single field is, or "batch"
  /// (with row 0) when the batch as a whole is at fault.
  std::string field;
  /// What was wrong, naming the bad value.
  std::string message;

  friend bool operator==(const RowError&, const RowError&) = default;
};

/// Input was checked as a whole and some rows are bad; errors() lists every one of them.
/// Nothing was written.
class PRKL_EXPORT ValidationFailed : public Error {
 public:
  ValidationFailed(std::string what, std::vector<RowError> errors);
  const std::vector<RowError>& errors() const noexcept { return errors_; }

 private:
  std::vector<RowError> errors_;
};

/// The storage backend failed. kind() says what the caller can do about it; the subclasses
/// ConnectionLost and InDoubt are the kinds worth catching on their own. Any other kind (I/O, a
/// locked database, a broken schema, a constraint the database's owner added) is not cured by
/// asking again at once.
class PRKL_EXPORT StorageError : public Error {
 public:
  enum class Kind {
    /// Anything not below.
    other,
    /// The connection to the server was lost, or could not be made, before the write under way
    /// (if any) was committed: it was not. Asking again, a read or a write, is safe and
    /// reconnects.
    connection_lost,
    /// The connection was lost while a COMMIT was on its way or its answer was: the write may
    /// or may not have landed. Apply a batch again with the same id (the ledger makes it a
    /// no-op if it landed); other writes (rates, dump imports) are safe to repeat as they are.
    in_doubt,
    /// The data changed under a read again and again (writers adding lanes the question
    /// covers, faster than it could be read at one state): nothing was answered, nothing was
    /// written. Asking again is safe, after a moment.
    busy,
  };

  /// `code` is the backend's own code for the failure (see code()); empty when it gave none.
  explicit StorageError(const std::string& what, std::string code = {})
      : StorageError(Kind::other, what, std::move(code)) {}

  Kind kind() const noexcept { return kind_; }
  /// The backend's code: PostgreSQL's SQLSTATE ("23505", "42501", "57P01", ...) or SQLite's
  /// extended result code in decimal ("2067" for SQLITE_CONSTRAINT_UNIQUE); empty when the
  /// backend gave none, as when a connection drops without a word.
  const std::string& code() const noexcept { return code_; }

 protected:
  StorageError(Kind kind, const std::string& what, std::string code)
      : Error(what), kind_(kind), code_(std::move(code)) {}

 private:
  Kind kind_;
  std::string code_;
};

/// StorageError::Kind::connection_lost: nothing was written; asking again is safe.
class PRKL_EXPORT ConnectionLost : public StorageError {
 public:
  explicit ConnectionLost(const std::string& what, std::string code = {})
      : StorageError(Kind::connection_lost, what, std::move(code)) {}
};

/// StorageError::Kind::in_doubt: a write may or may not have landed; apply it again with the
/// same batch id.
class PRKL_EXPORT InDoubt : public StorageError {
 public:
  explicit InDoubt(const std::string& what, std::string code = {})
      : StorageError(Kind::in_doubt, what, std::move(code)) {}
};

/// StorageError::Kind::busy: a read found the data changing under it every time it tried;
/// nothing was answered. Ask again after a moment (a web app answers 503 with Retry-After).
class PRKL_EXPORT Busy : public StorageError {
 public:
  explicit Busy(const std::string& what, std::string code = {})
      : StorageError(Kind::busy, what, std::move(code)) {}
};

}  // namespace prkl
