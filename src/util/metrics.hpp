// SPDX-License-Identifier: MIT
#pragma once

// How the library records into its metrics (prkl/metrics.hpp): each operation through measured(),
// the rest through the counters below. Label values are fixed at start-up, so the hot path never
// looks a series up.

#include <chrono>
#include <cstdint>
#include <exception>
#include <string_view>
#include <type_traits>
#include <utility>

namespace prkl::detail {

enum class Operation {
  rates,
  rates_matrix,
  market,
  rank,
  resolve,
  port,
  ports,
  region_tree,
  validate,
  apply,
  batch,
  exchange_rates,
  load,
  init,
};
inline constexpr int operation_count = int(Operation::init) + 1;

/// The operation's name, as metrics label it and the log shows it.
constexpr const char* operation_name(Operation operation) {
  constexpr const char* names[operation_count] = {
      "rates",       "rates_matrix", "market", "rank",  "resolve",        "port", "ports",
      "region_tree", "validate",     "apply",  "batch", "exchange_rates", "load", "init"};
  return names[int(operation)];
}

enum class BatchOutcome { applied, replayed, refused, conflict };

bool metrics_on() noexcept;
/// A log handler is set (prkl/log.hpp).
bool logging_on() noexcept;
void record_call(Operation operation, std::chrono::steady_clock::duration took) noexcept;
/// The exception in flight: counted by its type, with the call's time.
void record_failure(Operation operation, std::chrono::steady_clock::duration took,
                    std::exception_ptr error) noexcept;
void record_batch(BatchOutcome outcome, std::int64_t rows, std::int64_t prices) noexcept;
void record_cache(bool hit) noexcept;
/// A Database asked for the store's data version.
void record_version_read() noexcept;
void record_reconnect() noexcept;
/// A read after a write found the standby had replayed it (or not, and went to the primary).
void record_replica_check(bool replayed) noexcept;
/// A batch applied (or refused: `bad_rows` > 0), for the log; the counts go to record_batch.
void log_batch(std::string_view id, std::int64_t rows, std::int64_t prices, std::int64_t bad_rows,
               std::chrono::steady_clock::duration took) noexcept;

/// How many measured() calls this thread is inside: a call made by another (rates by way of
/// rates_matrix, an import by way of load) is part of the outer one, not a call of its own.
inline thread_local int measured_depth = 0;

/// Runs `work` as one call of `operation`, timed and counted, its errors counted by type.
template <typename Work>
auto measured(Operation operation, Work&& work) -> decltype(work()) {
  if (measured_depth > 0 || !(metrics_on() || logging_on())) return std::forward<Work>(work)();
  struct Depth {
    Depth() { ++measured_depth; }
    ~Depth() { --measured_depth; }
  } depth;
  const auto start = std::chrono::steady_clock::now();
  try {
    if constexpr (std::is_void_v<decltype(work())>) {
      std::forward<Work>(work)();
      record_call(operation, std::chrono::steady_clock::now() - start);
    } else {
      auto result = std::forward<Work>(work)();
      record_call(operation, std::chrono::steady_clock::now() - start);
      return result;
    }
  } catch (...) {
    record_failure(operation, std::chrono::steady_clock::now() - start, std::current_exception());
    throw;
  }
}

}  // namespace prkl::detail
