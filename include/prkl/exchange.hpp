// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Exchange rates: reading them from openexchangerates-style files, and writing them as text.

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>
#include "prkl/export.hpp"

#include "prkl/model.hpp"

namespace prkl {

/// Reads one day of rates in the openexchangerates historical shape,
/// `{"base": "USD", "timestamp": 1451692799, "rates": {"EUR": 0.9214, ...}}`, from a file named
/// `YYYY-MM-DD.json` (the name gives the day). Each rate is taken exactly as written (no
/// floating point): more than exchange_rate_scale fraction digits, a rate of 0 or below, a base
/// other than USD, a currency that is not three capital letters, or malformed JSON is an
/// InvalidArgument naming the path and the key. The USD rate itself, when present, must be 1.
PRKL_EXPORT std::vector<ExchangeRate> read_exchange_rate_file(const std::filesystem::path& path);
/// The same from a stream holding `day`'s rates; `name` stands for the file in messages. More
/// than max_exchange_rate_file_bytes is refused before it is parsed.
PRKL_EXPORT std::vector<ExchangeRate> read_exchange_rate_file(std::istream& in, Date day,
                                                              std::string_view name);

/// The largest exchange-rate file read: a day of every ISO 4217 currency is a few kilobytes.
inline constexpr std::size_t max_exchange_rate_file_bytes = 4 << 20;

/// Every `YYYY-MM-DD.json` file of `path` (a directory, read in name order) or `path` itself
/// (one file). A directory without such files is an InvalidArgument.
PRKL_EXPORT std::vector<ExchangeRate> read_exchange_rates(const std::filesystem::path& path);

/// A rate's units (at exchange_rate_scale) as plain decimal text without trailing zeros:
/// 921400000000 is "0.9214".
PRKL_EXPORT std::string format_rate(std::int64_t units);

/// "0.9214", "1", "1.2e-05" as units at exchange_rate_scale; throws InvalidArgument, naming
/// `what`, for anything malformed, not above 0, too precise or too large.
PRKL_EXPORT std::int64_t parse_rate(std::string_view text, std::string_view what);

/// True for three capital ASCII letters (the shape of an ISO 4217 code).
PRKL_EXPORT bool is_currency_code(std::string_view code) noexcept;

}  // namespace prkl
