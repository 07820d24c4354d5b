// SPDX-License-Identifier: MIT
#pragma once

// How the library writes to its log (prkl/log.hpp).

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "prkl/log.hpp"
#include "util/metrics.hpp"

namespace prkl::detail {

/// Hands an event to the caller's handler, if one is set; never throws.
void emit(LogLevel level, std::string_view event, std::string message,
          std::vector<std::pair<std::string, std::string>> fields) noexcept;

/// A warning when `operation` took longer than the slow-call threshold.
void log_if_slow(Operation operation, std::chrono::steady_clock::duration took) noexcept;

}  // namespace prkl::detail
