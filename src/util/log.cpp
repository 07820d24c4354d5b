// SPDX-License-Identifier: MIT
// The library's log: events to the handler a caller sets, slow calls, batches applied and refused.
#include "util/log.hpp"

#include <fmt/format.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "prkl/error.hpp"

namespace prkl {
namespace detail {
namespace {

// The handler is read on every event and set rarely: a copy is taken under the lock and called
// outside it, so a handler that logs slowly never holds up one being set.
std::mutex handler_mutex;
std::shared_ptr<const LogHandler> handler;
std::atomic<bool> handler_set{false};
std::atomic<double> slow_call_seconds{1.0};

}  // namespace

void emit(LogLevel level, std::string_view event, std::string message,
          std::vector<std::pair<std::string, std::string>> fields) noexcept {
  try {
    std::shared_ptr<const LogHandler> current;
    {
      const std::lock_guard lock(handler_mutex);
      current = handler;
    }
    if (current) (*current)(LogEvent{level, event, std::move(message), std::move(fields)});
  } catch (...) {
    // A failing handler must not turn the caller's success into an error.
  }
}

void log_if_slow(Operation operation, std::chrono::steady_clock::duration took) noexcept {
  if (!handler_set.load(std::memory_order_relaxed)) return;
  const double s = std::chrono::duration<double>(took).count();
  if (s < slow_call_seconds.load(std::memory_order_relaxed)) return;
  try {
    const char* name = operation_name(operation);
    emit(LogLevel::warning, "slow_call", fmt::format("prkl {} took {:.3f} s", name, s),
         {{"operation", name}, {"seconds", fmt::format("{:.6f}", s)}});
  } catch (...) {
  }
}

bool logging_on() noexcept {
  return handler_set.load(std::memory_order_relaxed);
}

void log_batch(std::string_view id, std::int64_t rows, std::int64_t prices, std::int64_t bad_rows,
               std::chrono::steady_clock::duration took) noexcept {
  if (!logging_on()) return;
  try {
    const std::string s = fmt::format("{:.6f}", std::chrono::duration<double>(took).count());
    if (bad_rows > 0) {
      emit(LogLevel::warning, "batch_refused",
           fmt::format("batch {} refused: {} of {} rows bad, nothing written", quoted_value(id),
                       bad_rows, rows),
           {{"batch_id", std::string(id)},
            {"rows", std::to_string(rows)},
            {"bad_rows", std::to_string(bad_rows)},
            {"seconds", s}});
    } else {
      emit(LogLevel::info, "batch_applied",
           fmt::format("batch {} applied: {} rows, {} prices in {} s", quoted_value(id), rows,
                       prices, s),
           {{"batch_id", std::string(id)},
            {"rows", std::to_string(rows)},
            {"prices", std::to_string(prices)},
            {"seconds", s}});
    }
  } catch (...) {
  }
}

}  // namespace detail

void set_log_handler(LogHandler new_handler) {
  auto next = new_handler ? std::make_shared<const LogHandler>(std::move(new_handler)) : nullptr;
  const std::lock_guard lock(detail::handler_mutex);
  detail::handler_set.store(next != nullptr, std::memory_order_relaxed);
  detail::handler = std::move(next);
}

void set_slow_call_threshold(std::chrono::duration<double> threshold) {
  if (!(threshold.count() >= 0)) {
    throw InvalidArgument(
        fmt::format("slow call threshold of {} s is negative", threshold.count()));
  }
  detail::slow_call_seconds.store(threshold.count(), std::memory_order_relaxed);
}

}  // namespace prkl
