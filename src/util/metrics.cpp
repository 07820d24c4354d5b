// SPDX-License-Identifier: MIT
// Metrics (prometheus-cpp): counters and histograms per operation, and their Prometheus text.
#include "util/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <fmt/format.h>
#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "prkl/error.hpp"
#include "prkl/metrics.hpp"
#include "util/log.hpp"

namespace prkl {
namespace detail {
namespace {

using prometheus::Counter;
using prometheus::Histogram;

constexpr std::array<const char*, 4> outcome_names{"applied", "replayed", "refused", "conflict"};

// From 50 µs (a rates answer from memory) to 30 s (a large batch or import).
const Histogram::BucketBoundaries latency_buckets{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                                  0.005,   0.01,   0.025,   0.05,   0.1,   0.25,
                                                  0.5,     1,      2.5,     5,      10,    30};

struct Metrics {
  prometheus::Registry registry;
  prometheus::Family<Histogram>& durations =
      prometheus::BuildHistogram()
          .Name("prkl_operation_duration_seconds")
          .Help(
              "Time of each call to prkl, by operation; its _count is the number of calls, "
              "failed ones included")
          .Register(registry);
  prometheus::Family<Counter>& errors =
      prometheus::BuildCounter()
          .Name("prkl_operation_errors_total")
          .Help("Calls that ended in an error, by operation and error type")
          .Register(registry);
  prometheus::Family<Counter>& batches =
      prometheus::BuildCounter()
          .Name("prkl_batches_total")
          .Help(
              "Batches by outcome: applied (written now), replayed (the id was applied "
              "before), refused (bad rows), conflict (the id was applied with other rows)")
          .Register(registry);
  Counter& rows = prometheus::BuildCounter()
                      .Name("prkl_batch_rows_total")
                      .Help("Rows of the batches applied")
                      .Register(registry)
                      .Add({});
  Counter& prices = prometheus::BuildCounter()
                        .Name("prkl_batch_prices_total")
                        .Help("Prices written by the batches applied (a date range is many)")
                        .Register(registry)
                        .Add({});
  prometheus::Family<Counter>& cache =
      prometheus::BuildCounter()
          .Name("prkl_cache_requests_total")
          .Help(
              "Rates answers by whether the in-memory copy of the aggregates was current (hit) "
              "or had to be brought forward from the store first (miss)")
          .Register(registry);
  prometheus::Family<Counter>& replica_checks =
      prometheus::BuildCounter()
          .Name("prkl_replica_checks_total")
          .Help(
              "Reads after a write of the process that asked the standby whether it had replayed "
              "the write, by where the read went: standby (it had, within replica_wait) or "
              "primary (it had not)")
          .Register(registry);
  Counter& version_reads =
      prometheus::BuildCounter()
          .Name("prkl_version_reads_total")
          .Help(
              "Data versions asked of the store: one per call that reads (rates, rates_matrix, "
              "a port or region lookup, version()); on PostgreSQL, calls that arrive together "
              "share one round trip")
          .Register(registry)
          .Add({});
  Counter& reconnects = prometheus::BuildCounter()
                            .Name("prkl_store_reconnects_total")
                            .Help("Connections to the store opened again after one was lost")
                            .Register(registry)
                            .Add({});

  std::array<Histogram*, operation_count> duration_of{};
  std::array<Counter*, outcome_names.size()> batches_by_outcome{};
  Counter& cache_hits = cache.Add({{"result", "hit"}});
  Counter& cache_misses = cache.Add({{"result", "miss"}});
  Counter& replica_checks_standby = replica_checks.Add({{"served_by", "standby"}});
  Counter& replica_checks_primary = replica_checks.Add({{"served_by", "primary"}});

  Metrics() {
    for (int i = 0; i < operation_count; ++i) {
      duration_of[std::size_t(i)] =
          &durations.Add({{"operation", operation_name(Operation(i))}}, latency_buckets);
    }
    for (std::size_t i = 0; i < outcome_names.size(); ++i) {
      batches_by_outcome[i] = &batches.Add({{"outcome", outcome_names[i]}});
    }
  }
};

Metrics& metrics() {
  static Metrics instance;
  return instance;
}

std::atomic<bool> enabled{true};

double seconds(std::chrono::steady_clock::duration took) {
  return std::chrono::duration<double>(took).count();
}

const char* error_type(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const BatchConflict&) {
    return "batch_conflict";
  } catch (const InvalidArgument&) {
    return "invalid_argument";
  } catch (const NotFound&) {
    return "not_found";
  } catch (const ValidationFailed&) {
    return "validation_failed";
  } catch (const ConnectionLost&) {
    return "connection_lost";
  } catch (const InDoubt&) {
    return "in_doubt";
  } catch (const StorageError&) {
    return "storage_error";
  } catch (...) {
    return "other";
  }
}

}  // namespace

bool metrics_on() noexcept {
  return enabled.load(std::memory_order_relaxed);
}

void record_call(Operation operation, std::chrono::steady_clock::duration took) noexcept {
  if (metrics_on()) metrics().duration_of[std::size_t(operation)]->Observe(seconds(took));
  log_if_slow(operation, took);
}

void record_failure(Operation operation, std::chrono::steady_clock::duration took,
                    std::exception_ptr error) noexcept {
  log_if_slow(operation, took);
  if (!metrics_on()) return;
  Metrics& m = metrics();
  m.duration_of[std::size_t(operation)]->Observe(seconds(took));
  try {
    m.errors.Add({{"operation", operation_name(operation)}, {"type", error_type(error)}})
        .Increment();
  } catch (...) {
    // Counting must never replace the caller's error with its own (out of memory here).
  }
}

void record_batch(BatchOutcome outcome, std::int64_t rows, std::int64_t prices) noexcept {
  if (!metrics_on()) return;
  Metrics& m = metrics();
  m.batches_by_outcome[std::size_t(outcome)]->Increment();
  if (outcome == BatchOutcome::applied) {
    m.rows.Increment(double(rows));
    m.prices.Increment(double(prices));
  }
}

void record_cache(bool hit) noexcept {
  if (!metrics_on()) return;
  (hit ? metrics().cache_hits : metrics().cache_misses).Increment();
}

void record_version_read() noexcept {
  if (metrics_on()) metrics().version_reads.Increment();
}

void record_replica_check(bool replayed) noexcept {
  if (!metrics_on()) return;
  (replayed ? metrics().replica_checks_standby : metrics().replica_checks_primary).Increment();
}

void record_reconnect() noexcept {
  if (metrics_on()) metrics().reconnects.Increment();
  if (logging_on()) {
    emit(LogLevel::info, "reconnect", "prkl lost its connection to the store and opened another",
         {});
  }
}

}  // namespace detail

std::string metrics_text() {
  return prometheus::TextSerializer().Serialize(detail::metrics().registry.Collect());
}

void set_metrics_enabled(bool on) {
  detail::enabled.store(on, std::memory_order_relaxed);
}

bool metrics_enabled() {
  return detail::metrics_on();
}
}  // namespace prkl
