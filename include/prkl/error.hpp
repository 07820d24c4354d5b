#pragma once

/// \file
/// The error hierarchy. Every error prkl throws derives from prkl::Error, and each class says
/// what the caller can do about it rather than where it came from.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace prkl {

/// How every prkl message shows a value it was given: in single quotes, with control characters
/// and bytes that are not UTF-8 escaped (\x1b, \t, \xff; a backslash as \\), and cut after 200
/// bytes with "..." and the value's whole length, so that a message stays one readable line of
/// valid UTF-8 whatever the value holds.
std::string quoted_value(std::string_view value);

/// Root of every error prkl throws.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A value given by the caller is malformed or out of range (a bad date, a reversed range, an
/// unknown option). The message names the value.
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

/// A port, region or database that was asked for does not exist. The message names it.
class NotFound : public Error {
 public:
  using Error::Error;
};

/// A batch id was applied before with different content; the earlier batch stands.
class BatchConflict : public InvalidArgument {
 public:
  using InvalidArgument::InvalidArgument;
};

/// One problem with one row of a batch or a dump.
struct RowError {
  /// 1-based row of the batch, or the line of the dump file.
  std::int64_t row = 0;
  /// The field at fault ("origin", "price", ...), or "row" when no single field is.
  std::string field;
  /// What was wrong, naming the bad value.
  std::string message;

  friend bool operator==(const RowError&, const RowError&) = default;
};

/// Input was checked as a whole and some rows are bad; errors() lists every one of them.
/// Nothing was written.
class ValidationFailed : public Error {
 public:
  ValidationFailed(std::string what, std::vector<RowError> errors);
  const std::vector<RowError>& errors() const noexcept { return errors_; }

 private:
  std::vector<RowError> errors_;
};

/// The storage backend failed (I/O, a lost connection, a locked database, a broken schema).
class StorageError : public Error {
 public:
  using Error::Error;
};

}  // namespace prkl
