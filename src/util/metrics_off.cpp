// SPDX-License-Identifier: MIT
// Metrics in a build without them (PRKL_WITH_METRICS=OFF): nothing is counted, the log still
// hears slow calls and reconnects, and asking to turn metrics on says why it cannot.
#include <fmt/format.h>

#include "prkl/error.hpp"
#include "prkl/metrics.hpp"
#include "util/log.hpp"
#include "util/metrics.hpp"

namespace prkl {
namespace detail {

bool metrics_on() noexcept {
  return false;
}

void record_call(Operation operation, std::chrono::steady_clock::duration took) noexcept {
  log_if_slow(operation, took);
}

void record_failure(Operation operation, std::chrono::steady_clock::duration took,
                    std::exception_ptr) noexcept {
  log_if_slow(operation, took);
}

void record_batch(BatchOutcome, std::int64_t, std::int64_t) noexcept {}
void record_cache(bool) noexcept {}
void record_version_read() noexcept {}
void record_replica_check(bool) noexcept {}

void record_reconnect() noexcept {
  if (logging_on()) {
    emit(LogLevel::info, "reconnect", "prkl lost its connection to the store and opened another",
         {});
  }
}

}  // namespace detail

std::string metrics_text() {
  // A comment is valid Prometheus text: a scrape succeeds and shows why it is empty.
  return "# prkl was built without metrics (PRKL_WITH_METRICS=OFF)\n";
}

void set_metrics_enabled(bool on) {
  if (on) {
    throw InvalidArgument(
        "this build of prkl has no metrics (it was built with "
        "PRKL_WITH_METRICS=OFF)");
  }
}

bool metrics_enabled() {
  return false;
}

}  // namespace prkl
