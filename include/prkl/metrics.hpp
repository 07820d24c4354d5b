// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The library's own counts and timings, for a Prometheus scrape. Every Database of the process
/// reports into one set of metrics: per operation (rates, rates_matrix, apply, ...) calls, a
/// latency histogram and errors by type; batches by outcome with their rows and prices; hits
/// and misses of the in-memory copy of the aggregates; store reconnects. docs/operations.md
/// lists each metric with its meaning.

#include <string>

#include "prkl/export.hpp"

namespace prkl {

/// The metrics in Prometheus' text exposition format (version 0.0.4), for a `/metrics` route.
PRKL_EXPORT std::string metrics_text();

/// Counting is on unless turned off here (for a process that never reads the metrics; the
/// cost is a clock read and a few uncontended updates per call). A build without metrics
/// (PRKL_WITH_METRICS=OFF) counts nothing: there metrics_enabled() is false, metrics_text() is
/// one comment line saying so, and turning them on throws InvalidArgument.
PRKL_EXPORT void set_metrics_enabled(bool enabled);
PRKL_EXPORT bool metrics_enabled();

}  // namespace prkl
