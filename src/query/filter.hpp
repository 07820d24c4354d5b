// SPDX-License-Identifier: MIT
#pragma once

#include <span>
#include <string>

#include "prkl/model.hpp"
#include "prkl/store.hpp"

namespace prkl::detail {

/// Throws InvalidArgument naming the first bad part of `filter`: an equipment code that is
/// malformed or not among `known` (sorted), a max_age_days outside 0..max_age_limit.
void check_filter(const PriceFilter& filter, std::span<const std::string> known);
/// The same against the codes `store` knows, read only when the filter names equipment.
void check_filter(const PriceFilter& filter, Store& store);
}  // namespace prkl::detail
