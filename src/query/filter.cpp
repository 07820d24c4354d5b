// SPDX-License-Identifier: MIT
// Which prices an answer counts: terms, equipment codes, and the checks of a price filter.
#include "query/filter.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "prkl/error.hpp"

namespace prkl {

Term parse_term(std::string_view text) {
  if (text == "short") return Term::short_term;
  if (text == "long") return Term::long_term;
  throw InvalidArgument(
      fmt::format("unknown term {} (expected short or long)", quoted_value(text)));
}

std::string_view to_string(Term term) noexcept {
  return term == Term::long_term ? "long" : "short";
}

void check_equipment_code(std::string_view code) {
  const bool well_formed = code.size() == 4 && std::all_of(code.begin(), code.end(), [](char c) {
                             return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
                           });
  if (!well_formed) {
    throw InvalidArgument(
        fmt::format("equipment code {} is not four digits or capital letters (such as 40HC)",
                    quoted_value(code)));
  }
}

namespace detail {

void check_filter(const PriceFilter& filter, std::span<const std::string> known) {
  for (const std::string& code : filter.equipment) {
    check_equipment_code(code);
    if (!std::binary_search(known.begin(), known.end(), code)) {
      throw InvalidArgument(fmt::format(
          "unknown equipment code {} (the store knows {})", quoted_value(code),
          known.empty() ? std::string("none") : fmt::format("{}", fmt::join(known, ", "))));
    }
  }
  if (filter.max_age_days && (*filter.max_age_days < 0 || *filter.max_age_days > max_age_limit)) {
    throw InvalidArgument(
        fmt::format("max_age_days {} is outside 0..{}", *filter.max_age_days, max_age_limit));
  }
}

void check_filter(const PriceFilter& filter, Store& store) {
  check_filter(filter, filter.equipment.empty() ? std::vector<std::string>() : store.equipment());
}

}  // namespace detail

}  // namespace prkl
