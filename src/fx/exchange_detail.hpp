// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "prkl/error.hpp"
#include "prkl/model.hpp"

namespace prkl::detail {

/// The error for storing `rate` over a different stored rate without replace.
InvalidArgument rate_conflict(const ExchangeRate& rate, std::int64_t stored_units);

/// `rates` checked (currencies other than USD, rates above 0) and each (currency, day) once,
/// sorted: the same rate twice is one, two different rates are refused naming both.
std::vector<ExchangeRate> distinct_rates(std::span<const ExchangeRate> rates);

}  // namespace prkl::detail
