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
    const auto rows = prkl::read_batch_csv(in, "fuzz.csv");
    std::vector<bool> unlisted;
    (void)prkl::detail::validate_rows(rows, world, equipment, options, unlisted);
  } catch (const prkl::Error&) {
  }
  return 0;
}
