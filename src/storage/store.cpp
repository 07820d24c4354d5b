// SPDX-License-Identifier: MIT
// The Store seam's defaults, and what every backend refuses alike.
#include "prkl/store.hpp"

#include <fmt/format.h>

#include "prkl/error.hpp"
#include "storage/store_detail.hpp"

namespace prkl {

StoreHealth Store::health() {
  version();
  return {schema_version, schema_version, false, std::nullopt};
}

std::uint64_t Store::log_position() {
  return 0;
}

bool Store::has_replayed(std::uint64_t) {
  return true;
}

}  // namespace prkl

namespace prkl::detail {

void refuse_load_over_data() {
  throw InvalidArgument(
      "the store already holds data; loading would mix two data sets (to load over it, pass "
      "--replace to the prkl tool, replace=True in Python, replace = true in C++)");
}

std::string seed_equipment_sql() {
  std::string values;
  for (const std::string_view code : default_equipment) {
    values += fmt::format("{}('{}')", values.empty() ? "" : ", ", code);
  }
  return fmt::format("INSERT INTO prkl_equipment (code) VALUES {}", values);
}

}  // namespace prkl::detail
