// SPDX-License-Identifier: MIT
#pragma once

#include "prkl/options.hpp"

namespace prkl::detail {

/// Refuses Options a Database cannot work with, naming the option, its value and its range.
void check_options(const Options& options);

}  // namespace prkl::detail
