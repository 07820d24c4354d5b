// SPDX-License-Identifier: MIT
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fx/rate_table.hpp"
#include "geography/geography.hpp"
#include "prkl/batch.hpp"
#include "prkl/options.hpp"

namespace prkl::detail {

/// How many row errors a batch's check lists: past them, bad rows are counted, not described,
/// so that a batch of nothing but bad rows does not take more memory than its rows.
inline constexpr std::size_t max_listed_row_errors = 10'000;

/// Every problem of every row, up to max_listed_row_errors (`equipment`: the codes the store
/// knows, sorted); `unlisted` (one per row) marks the
/// rows with problems past those. Empty when the batch is good.
std::vector<RowError> validate_rows(const std::vector<BatchRow>& rows, const Geography& geography,
                                    std::span<const std::string> equipment, const Options& options,
                                    std::vector<bool>& unlisted);

class RateTable;

/// What a valid batch writes.
struct ExpandedBatch {
  /// One per row, or one per day of a row's range, in USD.
  std::vector<Price> prices;
  /// One per contract row, in USD at the rate of its first day.
  std::vector<Contract> contracts;
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
/// has a usable rate in `rates`, and the converted price is within the maximum. Adds to
/// `listed` up to max_listed_row_errors, and marks rows past them in `unlisted`.
void check_currencies(const std::vector<BatchRow>& rows, const RateTable& rates,
                      std::span<const std::string> known, const Options& options,
                      std::vector<RowError>& listed, std::vector<bool>& unlisted);

/// Checks a caller's batch id: 1..200 bytes of clean text (see text_error()).
void check_batch_id(const std::string& id);

/// What is wrong with a price in dollars, if anything: the one rule for batches and loaded data
/// (positive, at most Options::max_price and what the store's 32-bit column holds).
std::optional<std::string> price_problem(std::int64_t dollars, const Options& options);

}  // namespace prkl::detail
