// SPDX-License-Identifier: MIT
#include <prkl/log.hpp>
#include <prkl/metrics.hpp>
#include <prkl/store.hpp>
#include <prkl/url.hpp>
#include <prkl/version.hpp>

#include "bindings.hpp"

namespace {

namespace py = pybind11;

// Routes the library's log events to a Python callable (prkl/__init__.py passes one that logs
// to logging.getLogger("prkl")). The callable is held, called and released with the GIL held,
// whichever thread reports.
void set_log_callback(const py::object& callback) {
  if (callback.is_none()) {
    prkl::set_log_handler(nullptr);
    return;
  }
  std::shared_ptr<py::object> held(new py::object(callback), [](py::object* p) {
    py::gil_scoped_acquire gil;
    delete p;
  });
  prkl::set_log_handler([held](const prkl::LogEvent& e) {
    py::gil_scoped_acquire gil;
    try {
      py::dict fields;
      for (const auto& [name, value] : e.fields) fields[py::str(name)] = value;
      (*held)(int(e.level), std::string(e.event), e.message, fields);
    } catch (py::error_already_set& error) {
      error.discard_as_unraisable("prkl log handler");
    }
  });
}

}  // namespace

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
  m.def("_set_log_callback", &set_log_callback, py::arg("callback"));
  m.def(
      "set_slow_call_threshold",
      [](double seconds) { prkl::set_slow_call_threshold(std::chrono::duration<double>(seconds)); },
      py::arg("seconds"),
      "Calls slower than this are logged as warnings to logging.getLogger('prkl') (1 s).");
  m.def("set_metrics_enabled", &prkl::set_metrics_enabled, pybind11::arg("enabled"),
        "Turns prkl's metrics on (the default) or off.");
}
