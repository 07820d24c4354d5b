// SPDX-License-Identifier: MIT
#include <prkl/version.hpp>

#include "bindings.hpp"

PYBIND11_MODULE(_prkl, m) {
  m.doc() = "prkl: freight-rate data (native part; import prkl instead)";
  m.attr("__version__") = prkl::version();
  prkl::python::bind_errors(m);
  prkl::python::bind_values(m);
  prkl::python::bind_database(m);
}
