// SPDX-License-Identifier: MIT
// The store's table of equipment codes, through the Database's front door.
#include <algorithm>

#include "prkl/database.hpp"

namespace prkl {

std::vector<std::string> Database::equipment() {
  return reader().equipment();
}

std::int64_t Database::add_equipment(std::span<const std::string> codes) {
  // Every code is checked before any is written: all or none.
  std::for_each(codes.begin(), codes.end(),
                [](const std::string& code) { check_equipment_code(code); });
  const std::int64_t added = store_->add_equipment(codes);
  note_write();
  return added;
}

}  // namespace prkl
