// SPDX-License-Identifier: MIT
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "geography.hpp"
#include "prkl/batch.hpp"
#include "prkl/database.hpp"

namespace prkl::detail {

/// Every problem of every row; empty when the batch is good.
std::vector<RowError> validate_rows(const std::vector<BatchRow>& rows, const Geography& geography,
                                    const Options& options);

class RateTable;

/// What a valid batch writes.
struct ExpandedBatch {
  /// One per row, or one per day of a row's range, in USD.
  std::vector<Price> prices;
  /// Hex 64-bit FNV-1a over the canonical text of the rows as given, day by day (a price in
  /// another currency by its amount and currency): tells a retry from a different batch.
  std::string digest;
  /// The exchange rates the conversions used, by currency and day.
  std::vector<ExchangeRate> rates_used;
};

/// Expands a valid batch, converting prices in other currencies with `rates` (which
/// check_currencies() found complete).
ExpandedBatch expand_rows(const std::vector<BatchRow>& rows, const RateTable& rates);

/// For rows in other currencies than USD: the currency is one of `known` (sorted), every day
/// has a usable rate in `rates`, and the converted price is within the maximum.
void check_currencies(const std::vector<BatchRow>& rows, const RateTable& rates,
                      std::span<const std::string> known, const Options& options,
                      std::vector<RowError>& errors);

/// Checks a caller's batch id: 1..200 bytes of clean text (see text_error()).
void check_batch_id(const std::string& id);

/// What is wrong with a price in dollars, if anything: the one rule for batches and loaded data
/// (positive, at most Options::max_price and what the store's 32-bit column holds).
std::optional<std::string> price_problem(std::int64_t dollars, const Options& options);

}  // namespace prkl::detail
