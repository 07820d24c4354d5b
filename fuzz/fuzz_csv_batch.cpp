// SPDX-License-Identifier: MIT
// CSV batches on arbitrary bytes: read, then checked against a small world as a batch is before
// it is written. Either step may refuse with prkl::Error; none may crash, hang or grow without
// bound (ranges are counted before they are expanded).
#include <prkl/prkl.hpp>
#include <sstream>

#include "batch/batch.hpp"
#include "geography/geography.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const prkl::detail::Geography world(
      {{"world", "World", std::nullopt}, {"east", "East", "world"}},
      {{"CNSGH", "Shanghai", "east"}, {"NLRTM", "Rotterdam", "world"}, {"NOOSL", "Oslo", "world"}});
  static const prkl::Options options;
  static const std::vector<std::string> equipment{"20DC", "40HC"};
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  try {
    // In small chunks, as a batch is read and checked: rows numbered on across them.
    prkl::BatchCsvReader reader(in, "fuzz.csv");
    std::vector<prkl::BatchRow> rows;
    std::vector<prkl::RowError> errors;
    std::vector<bool> unlisted;
    prkl::detail::RowCounts counts;
    for (std::size_t first = 0; reader.next(rows, 3); first += rows.size()) {
      prkl::detail::validate_rows(rows, first, world, equipment, options, errors, unlisted, counts);
    }
    prkl::detail::check_counts(counts, options, errors);
  } catch (const prkl::Error&) {
  }
  return 0;
}
