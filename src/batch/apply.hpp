// SPDX-License-Identifier: MIT
#pragma once

// A batch against a store: checked whole, written all-or-nothing, once per id.

#include <cstdint>
#include <functional>
#include <vector>

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

/// Every problem of the batch's rows, currencies included (the rates they will convert at go to
/// `rates`). At most max_listed_row_errors are listed; `unlisted_rows` counts the bad rows past
/// them, which one more error (row 0) says.
std::vector<RowError> check_batch(const Batch& batch, const BatchTarget& target, RateTable& rates,
                                  std::int64_t& unlisted_rows);

/// Checks, then writes the whole batch in one transaction (see Database::apply()).
BatchResult apply_batch(const Batch& batch, const BatchTarget& target, const Progress& progress);

/// The ledger's record as a caller sees it.
BatchResult result_of(const BatchRecord& record, bool replayed);

}  // namespace prkl::detail
