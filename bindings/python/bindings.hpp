// SPDX-License-Identifier: MIT
#pragma once

#include <pybind11/pybind11.h>

#include <chrono>

namespace prkl::python {

namespace py = pybind11;

/// Exception classes and the translator from prkl's C++ errors.
void bind_errors(py::module_& m);
/// Value types: RateDay, Port, RegionNode, RowError, BatchResult.
void bind_values(py::module_& m);
/// Database and connect().
void bind_database(py::module_& m);
/// Database.market() and rank() with their values; after bind_database.
void bind_market(py::module_& m);

/// datetime.date <-> prkl::Date; strings are parsed as YYYY-MM-DD (`what` names the argument).
py::object to_python_date(std::chrono::sys_days day);

}  // namespace prkl::python
