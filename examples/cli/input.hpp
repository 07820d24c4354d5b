// SPDX-License-Identifier: MIT
#pragma once
// Files named on the command line: a path, or "-" for standard input, either of them plain or
// gzip-compressed. Compression is recognised by the data's magic bytes, not by the file's name.

#include <memory>
#include <prkl/prkl.hpp>
#include <string>
#include <vector>

namespace prkl_cli {

// How messages name the input: the path, or "<stdin>" for "-".
std::string input_name(const std::string& path);

// Streams the dump at `path` into `db` (see Database::import_dump).
prkl::ImportSummary import_dump_input(prkl::Database& db, const std::string& path, bool replace,
                                      const prkl::Progress& progress);

// A batch file read as the batch is checked or applied, a chunk of rows at a time; of the rows
// handed over only their lines are kept, for messages. Reads no more than `max_rows` rows (the
// store's Options::max_batch_prices): past them, the batch is refused whatever the input's size.
class BatchInput final : public prkl::BatchRowSource {
 public:
  BatchInput(const std::string& path, std::int64_t max_rows);
  ~BatchInput() override;
  BatchInput(const BatchInput&) = delete;
  BatchInput& operator=(const BatchInput&) = delete;
  bool next(std::vector<prkl::BatchRow>& rows, std::size_t most) override;
  // The line of the file each row handed over began on, by row.
  const std::vector<std::int64_t>& lines() const { return lines_; }

 private:
  struct Source;
  std::unique_ptr<Source> source_;
  std::vector<std::int64_t> lines_;
};
// A file or a directory of YYYY-MM-DD.json files, or "-" with the rates of `day` (YYYY-MM-DD;
// only for "-", where no file name gives it).
std::vector<prkl::ExchangeRate> read_fx_input(const std::string& path, const std::string& day);

}  // namespace prkl_cli
