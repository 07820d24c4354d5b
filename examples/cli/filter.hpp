// SPDX-License-Identifier: MIT
#pragma once

// Which prices a question counts, as every asking command takes it: --equipment, --term,
// --max-age.

#include <cstdint>
#include <optional>
#include <prkl/prkl.hpp>
#include <string>
#include <vector>

namespace prkl_cli {

struct FilterOptions {
  std::vector<std::string> equipment;
  std::string term;
  std::optional<std::int64_t> max_age;

  // Codes and the age are checked by the Database, against the store's own equipment table.
  prkl::PriceFilter filter() const {
    prkl::PriceFilter f{equipment, {}, max_age};
    if (!term.empty()) f.term = prkl::parse_term(term);
    return f;
  }
};

}  // namespace prkl_cli
