// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Price batches: many rows checked as a whole, then written all-or-nothing under an id.

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <vector>
#include "prkl/export.hpp"

#include "prkl/date.hpp"
#include "prkl/model.hpp"

namespace prkl {

/// One input row, as text, the way it arrives from CSV, JSON or a form. A row carries one of
/// `day`; `date_from` and `date_to` (one price for every day of that inclusive range, as the
/// ratestask upload did); or `valid_from` and `valid_to` (a contract: one stored row that counts
/// on every day of its validity, at most max_contract_days long).
struct PRKL_EXPORT BatchRow {
  std::string origin;
  std::string destination;
  std::string day;
  std::string date_from;
  std::string date_to;
  /// A whole number of `currency` units.
  std::string price;
  /// Line in the source file, when the row came from one; 0 otherwise.
  std::int64_t source_line = 0;
  /// ISO 4217 code of the price; empty means USD. Other currencies are converted to whole USD
  /// at the rate of the price's own day (see Options::max_rate_age_days) before they are stored.
  std::string currency{};
  /// Optional dimensions (see Price): an equipment code the store knows, `short` or `long`,
  /// and the day the price was submitted (YYYY-MM-DD; empty: the price's own day).
  std::string equipment{};
  std::string term{};
  std::string received{};
  /// A contract's validity, YYYY-MM-DD each, inclusive; its price in another currency is
  /// converted at the rate of `valid_from`.
  std::string valid_from{};
  std::string valid_to{};

  /// A single-day row built from typed values.
  static BatchRow single(std::string origin, std::string destination, Date day, std::int64_t price);
  /// A date-range row built from typed values.
  static BatchRow range(std::string origin, std::string destination, Date date_from, Date date_to,
                        std::int64_t price);
};

/// A batch. An empty id means "derive one from the content", so the same rows applied twice
/// land once.
struct Batch {
  std::string id;
  std::vector<BatchRow> rows;
};

/// What applying a batch did. A replayed result is the one stored when the id was first applied.
struct BatchResult {
  std::string batch_id;
  std::int64_t rows = 0;
  /// Prices written: a date-range row writes one per day, a contract one.
  std::int64_t prices = 0;
  /// UTC, ISO 8601, when the batch was first applied.
  std::string applied_at;
  /// True when this id had already been applied and nothing was written now.
  bool replayed = false;
  /// The exchange rates prices in other currencies were converted at (see
  /// BatchRecord::rates_used), by currency and day.
  std::vector<ExchangeRate> rates_used;
};

/// Options::max_batch_prices unless a caller sets it: each row is at least one price, so it also
/// bounds the rows a reader reads before it refuses a larger batch.
inline constexpr std::int64_t default_max_batch_prices = 1'000'000;

/// The BatchRow field a CSV column or a key names: `origin` (or `orig_code`, `origin_code`),
/// `destination` (or `dest_code`, `destination_code`), `day`, `date_from`, `date_to`, `price`,
/// `currency`, `equipment`, `term`, `received`, `valid_from`, `valid_to`.
/// nullptr for any other name.
PRKL_EXPORT std::string BatchRow::*batch_field(std::string_view name);

/// Reads a CSV batch. The header row names the columns, in any order: `origin`, `destination`
/// (or `orig_code`/`origin_code`, `dest_code`/`destination_code`), `price`, and either `day` or
/// `date_from` and `date_to`, or `valid_from` and `valid_to`; optionally `currency`, `equipment`,
/// `term` and `received`. Unknown
/// columns are an error (a typo must not drop data). Throws InvalidArgument for a missing file, a
/// bad header, malformed CSV quoting, or more than `max_rows` rows: reading stops there, so memory
/// is bounded whatever the input's size (pass Options::max_batch_prices of the Database that will
/// take the batch).
PRKL_EXPORT std::vector<BatchRow> read_batch_csv(const std::filesystem::path& path,
                                                 std::int64_t max_rows = default_max_batch_prices);
/// The same from a stream; `name` stands for the file in messages.
PRKL_EXPORT std::vector<BatchRow> read_batch_csv(std::istream& in, std::string_view name = "batch",
                                                 std::int64_t max_rows = default_max_batch_prices);

/// A batch's rows, handed over a chunk at a time, so that checking and applying a batch hold a
/// chunk of its rows rather than all of them (Database::validate and apply take one).
class PRKL_EXPORT BatchRowSource {
 public:
  virtual ~BatchRowSource() = default;
  /// Replaces `rows` with up to `most` (> 0) next rows; returns false, `rows` empty, at the end.
  virtual bool next(std::vector<BatchRow>& rows, std::size_t most) = 0;
};

/// A CSV batch read as it is used: the format, limits and errors of read_batch_csv(), the rows
/// handed over as they are read. An error is thrown from the next() that reaches it.
class PRKL_EXPORT BatchCsvReader final : public BatchRowSource {
 public:
  explicit BatchCsvReader(std::istream& in, std::string_view name = "batch",
                          std::int64_t max_rows = default_max_batch_prices);
  ~BatchCsvReader() override;
  BatchCsvReader(const BatchCsvReader&) = delete;
  BatchCsvReader& operator=(const BatchCsvReader&) = delete;
  bool next(std::vector<BatchRow>& rows, std::size_t most) override;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace prkl
