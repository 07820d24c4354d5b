// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// What the library reports as it works, through a handler the application sets: calls slower
/// than a threshold, reconnects, batches applied and refused. Never a password (URLs are
/// redacted) and never a batch's rows: ids and counts only.

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "prkl/export.hpp"

namespace prkl {

enum class LogLevel { debug, info, warning, error };

struct LogEvent {
  LogLevel level = LogLevel::info;
  /// What happened, for filtering: "slow_call", "reconnect", "batch_applied", "batch_refused".
  std::string_view event;
  /// One line for people.
  std::string message;
  /// The same as name/value pairs, for structured logs (operation, seconds, batch_id, ...).
  std::vector<std::pair<std::string, std::string>> fields;
};

/// Called on the thread that did the work, possibly several at once: it must be thread-safe
/// and should be quick. An empty handler (the default) turns reporting off.
using LogHandler = std::function<void(const LogEvent&)>;

PRKL_EXPORT void set_log_handler(LogHandler handler);

/// Calls that take longer are reported as "slow_call" warnings (1 s by default).
PRKL_EXPORT void set_slow_call_threshold(std::chrono::duration<double> threshold);

}  // namespace prkl
