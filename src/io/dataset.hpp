// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "prkl/database.hpp"
#include "prkl/dump.hpp"
#include "prkl/options.hpp"
#include "prkl/store.hpp"

namespace prkl::detail {

/// Opens a dump file to read, refusing a directory or a file that cannot be read (an error that
/// names it, before any store is touched); `size` is its size in bytes, 0 when unknown.
std::ifstream open_dump(const std::filesystem::path& path, std::int64_t& size);

/// Checks a data set's rows as they stream into a store's Loader, so a load holds a chunk of
/// prices, not all of them. Ports and regions are held (at most max_geography_rows) and checked
/// as a whole at finish(); each price is checked as it comes, against the ports seen so far — a
/// port code not yet seen is held once until the end, as a dump may list ports after prices.
/// Bad rows are collected (the first thousand) while reading goes on to find more, with nothing
/// more written; finish() then throws ValidationFailed, and the Loader, never finished, rolls
/// the store back.
class CheckedLoad final : public DumpSink {
 public:
  /// `progress` hears the prices written, of `total_prices` (0: unknown).
  CheckedLoad(Loader& loader, const Options& options, Progress progress = {},
              std::int64_t total_prices = 0);

  void region(Region region, std::int64_t line) override;
  void port(Port port, std::int64_t line) override;
  void price(Price price, std::int64_t line) override;
  void remove_prices_on(Date day) override;

  /// A contract, checked as it passes (against the ports seen so far: a data set lists its
  /// ports first); `line` counts contracts from 1.
  void contract(Contract contract, std::int64_t line);

  /// Checks what only the whole shows (the region tree, ports the prices named), then has the
  /// loader commit.
  ImportSummary finish();
  /// Every row of `data`, each with its line (Dataset's *_lines, else its place from 1), then
  /// finish().
  ImportSummary load(const Dataset& data);
  /// Every row `generator` makes, a chunk at a time, then finish().
  ImportSummary load(Generator& generator);

 private:
  // A port code a price named before any port row had it: the first such row, and how many.
  struct Awaited {
    std::int64_t line = 0;
    const char* field = "";
    std::int64_t rows = 0;
  };

  void check_codes(const Price& price, std::int64_t line);
  void hold(std::size_t bytes);
  void add_error(RowError error);
  void geography_row();
  void flush();
  void flush_contracts();
  [[noreturn]] void refuse() const;

  Loader& loader_;
  const Options& options_;
  Progress progress_;
  std::int64_t total_prices_ = 0;
  std::vector<Region> regions_;
  std::vector<Port> ports_;
  std::vector<std::int64_t> region_lines_, port_lines_;
  std::unordered_set<std::string> codes_;
  std::unordered_map<std::string, Awaited> awaited_;
  std::vector<Price> pending_;  // prices not yet handed to the loader
  std::vector<Contract> pending_contracts_;
  std::int64_t contracts_ = 0;
  std::int64_t prices_ = 0;  // handed over or pending, less those a DELETE removed
  std::vector<RowError> errors_;
  std::size_t held_bytes_ = 0;  // of the text held: geography and awaited codes
};

}  // namespace prkl::detail
