// SPDX-License-Identifier: MIT
#pragma once

// A batch against a store: checked whole, written all-or-nothing, once per id.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "batch/batch.hpp"
#include "fx/rate_table.hpp"
#include "geography/geography.hpp"
#include "prkl/batch.hpp"
#include "prkl/options.hpp"
#include "prkl/store.hpp"

namespace prkl::detail {

/// Where a batch is checked and written.
struct BatchTarget {
  /// The write store: a lagging standby would refuse a port just added, or pass one just
  /// removed.
  Store& store;
  /// The store's geography, up to date; asked only once the batch's id and size passed.
  std::function<const Geography&()> geography;
  const Options& options;
  /// Called after the store was written to, or found to hold the batch already.
  std::function<void()> wrote;
};

/// A batch taken a chunk of rows at a time: each chunk is checked (currencies included) and,
/// while the batch is good so far and it is to be applied, expanded into what it writes; the
/// rows themselves are not kept. At most max_listed_row_errors errors are listed; the bad rows
/// past them are counted in one more error (row 0).
/// How many rows a batch is taken in at a time.
inline constexpr std::size_t batch_chunk_rows = 4096;

class BatchIntake {
 public:
  /// Checks `id` (empty: one is derived from the content). `expand`: keep what the rows become,
  /// for apply().
  BatchIntake(const BatchTarget& target, std::string id, bool expand);

  void add(std::span<const BatchRow> rows);
  /// Every row of `source`, batch_chunk_rows at a time: the chunk's rows are held, not the
  /// batch's.
  void add_all(BatchRowSource& source);
  /// A batch given whole, in the same chunks, so that its errors are the ones the same rows
  /// read a chunk at a time get (currencies are checked chunk by chunk).
  void add_all(std::span<const BatchRow> rows);
  /// Every problem of the batch taken so far, in row order; empty when it is good.
  std::vector<RowError> errors();
  /// Writes the batch in one transaction (see Database::apply()), or throws ValidationFailed
  /// with its errors, nothing written.
  BatchResult apply(const Progress& progress);

 private:
  std::vector<RowError> errors(std::int64_t& unlisted_rows);

  const BatchTarget& target_;
  std::string id_;
  bool expand_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::size_t rows_ = 0;
  std::optional<std::vector<std::string>> equipment_;   // the store's codes, once a row names one
  std::optional<std::vector<std::string>> currencies_;  // the store's, once a row names one
  std::vector<RowError> errors_;
  std::vector<bool> unlisted_;
  RowCounts counts_;
  Expander expander_;
};

/// The errors of the batch `rows` (a span of them, or a BatchRowSource) make; empty when it
/// is good.
template <typename Rows>
std::vector<RowError> batch_errors(const BatchTarget& target, const std::string& id, Rows&& rows) {
  BatchIntake intake(target, id, false);
  intake.add_all(rows);
  return intake.errors();
}

/// Writes the batch `rows` make (see Database::apply()).
template <typename Rows>
BatchResult apply_batch(const BatchTarget& target, const std::string& id, Rows&& rows,
                        const Progress& progress) {
  BatchIntake intake(target, id, true);
  intake.add_all(rows);
  return intake.apply(progress);
}

/// The ledger's record as a caller sees it.
BatchResult result_of(const BatchRecord& record, bool replayed);

}  // namespace prkl::detail
