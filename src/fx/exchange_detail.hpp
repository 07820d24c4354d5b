// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>

#include "prkl/error.hpp"
#include "prkl/model.hpp"

namespace prkl::detail {

/// The error for storing `rate` over a different stored rate without replace.
InvalidArgument rate_conflict(const ExchangeRate& rate, std::int64_t stored_units);

}  // namespace prkl::detail
