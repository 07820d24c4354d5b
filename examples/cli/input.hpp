// SPDX-License-Identifier: MIT
#pragma once
// Files named on the command line: a path, or "-" for standard input, either of them plain or
// gzip-compressed. Compression is recognised by the data's magic bytes, not by the file's name.

#include <prkl/prkl.hpp>
#include <string>
#include <vector>

namespace prkl_cli {

// How messages name the input: the path, or "<stdin>" for "-".
std::string input_name(const std::string& path);

// Streams the dump at `path` into `db` (see Database::import_dump).
prkl::ImportSummary import_dump_input(prkl::Database& db, const std::string& path, bool replace,
                                      const prkl::Progress& progress);

// Reads no more than `max_rows` rows (the store's Options::max_batch_prices): past them, the
// batch is refused whatever the input's size.
std::vector<prkl::BatchRow> read_batch_input(const std::string& path, std::int64_t max_rows);
// A file or a directory of YYYY-MM-DD.json files, or "-" with the rates of `day` (YYYY-MM-DD;
// only for "-", where no file name gives it).
std::vector<prkl::ExchangeRate> read_fx_input(const std::string& path, const std::string& day);

}  // namespace prkl_cli
