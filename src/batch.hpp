#pragma once

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

/// The prices a valid batch writes: one per row, or one per day of a row's range, in USD
/// (converted with `rates`, which check_currencies() found complete).
std::vector<Price> expand_rows(const std::vector<BatchRow>& rows, const RateTable& rates);

/// For rows in other currencies than USD: the currency is one of `known` (sorted), every day
/// has a usable rate in `rates`, and the converted price is within the maximum.
void check_currencies(const std::vector<BatchRow>& rows, const RateTable& rates,
                      std::span<const std::string> known, const Options& options,
                      std::vector<RowError>& errors);

/// 64-bit FNV-1a over the canonical text of the prices, as 16 hex digits.
std::string digest_of(const std::vector<Price>& prices);

/// Checks a caller's batch id: 1..200 printable characters.
void check_batch_id(const std::string& id);

}  // namespace prkl::detail
