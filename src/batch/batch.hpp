// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
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

/// What a batch's rows become, counted before anything is expanded.
struct RowCounts {
  std::int64_t expanded = 0;
  std::int64_t contracts = 0;
};

/// Every problem of `rows`, the batch's rows from number `first` + 1 on (a batch is checked a
/// chunk at a time): added to `errors` up to max_listed_row_errors (`equipment`: the codes the
/// store knows, sorted); `unlisted` (one per row of the batch, grown to cover these) marks rows
/// with problems past those. What the rows become is added to `counts`.
void validate_rows(std::span<const BatchRow> rows, std::size_t first, const Geography& geography,
                   std::span<const std::string> equipment, const Options& options,
                   std::vector<RowError>& errors, std::vector<bool>& unlisted, RowCounts& counts);

/// Whether a batch of `counts` is within Options::max_batch_prices and max_batch_contracts;
/// when it is not, adds the error (row 0) saying so.
bool check_counts(const RowCounts& counts, const Options& options, std::vector<RowError>& errors);

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

/// Expands a valid batch a chunk of rows at a time, converting prices in other currencies with
/// the `rates` check_currencies() found complete for the chunk.
class Expander {
 public:
  void add(std::span<const BatchRow> rows, const RateTable& rates);
  /// The batch, its digest and the rates it used.
  ExpandedBatch finish() &&;

 private:
  ExpandedBatch out_;
  std::uint64_t digest_ = 14695981039346656037ull;  // 64-bit FNV-1a
  void mix(std::string_view text);
};

/// For rows in other currencies than USD (numbered from `first` + 1): the currency is one of
/// `known` (sorted), every day has a usable rate in `rates`, and the converted price is within
/// the maximum. Adds to `listed` up to max_listed_row_errors, and marks rows past them in
/// `unlisted`.
void check_currencies(std::span<const BatchRow> rows, std::size_t first, const RateTable& rates,
                      std::span<const std::string> known, const Options& options,
                      std::vector<RowError>& listed, std::vector<bool>& unlisted);

/// Checks a caller's batch id: 1..200 bytes of clean text (see text_error()).
void check_batch_id(const std::string& id);

/// What is wrong with a price in dollars, if anything: the one rule for batches and loaded data
/// (positive, at most Options::max_price and what the store's 32-bit column holds).
std::optional<std::string> price_problem(std::int64_t dollars, const Options& options);

}  // namespace prkl::detail
