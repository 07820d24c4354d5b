// SPDX-License-Identifier: MIT
#include <prkl/metrics.hpp>
#include <prkl/store.hpp>
#include <prkl/url.hpp>
#include <prkl/version.hpp>

#include "bindings.hpp"

PYBIND11_MODULE(_prkl, m) {
  m.doc() = "prkl: freight-rate data (native part; import prkl instead)";
  m.attr("__version__") = prkl::version();
  m.attr("SCHEMA_VERSION") = prkl::schema_version;
  prkl::python::bind_errors(m);
  prkl::python::bind_values(m);
  prkl::python::bind_database(m);
  m.def("redact_url", &prkl::redact_url, pybind11::arg("url"),
        "The URL with any password shown as *** (URI user info, a password= parameter or "
        "libpq key=value), as prkl shows URLs in repr() and messages.");
  m.def("metrics_text", &prkl::metrics_text,
        "prkl's metrics of this process in Prometheus' text format: per operation a latency "
        "histogram and errors by type, batches by outcome with rows and prices, cache hits and "
        "misses, store reconnects (docs/operations.md).");
  m.def("set_metrics_enabled", &prkl::set_metrics_enabled, pybind11::arg("enabled"),
        "Turns prkl's metrics on (the default) or off.");
}
