// SPDX-License-Identifier: MIT
#pragma once

#include "prkl/dump.hpp"
#include "prkl/options.hpp"

namespace prkl::detail {

/// Refuses a data set that would not load whole, with ValidationFailed listing its bad rows
/// (the first thousand): a broken region tree, bad port text, prices on unknown ports or out of
/// range.
void check_dataset(const Dataset& data, const Options& options);

}  // namespace prkl::detail
