// SPDX-License-Identifier: MIT
#pragma once

#include <pybind11/pybind11.h>

#include <prkl/pool.hpp>

#include <chrono>

namespace prkl::python {

namespace py = pybind11;

/// Exception classes and the translator from prkl's C++ errors.
void bind_errors(py::module_& m);
/// Value types: RateDay, Port, RegionNode, RowError, BatchResult.
void bind_values(py::module_& m);
/// Database and connect(); the areas below add their methods to it.
void bind_database(py::module_& m);

using DatabaseClass = py::class_<Pool>;
/// rates, rates_json, rates_matrix, rates_matrix_json.
void bind_rates(DatabaseClass& db);
/// resolve, port, ports, region_tree.
void bind_ports(DatabaseClass& db);
/// validate, apply, batch.
void bind_batches(DatabaseClass& db);
/// import_exchange_rates.
void bind_fx(DatabaseClass& db);
/// market, market_json, rank, rank_json, and the values they return.
void bind_market(py::module_& m, DatabaseClass& db);

/// `module.name`, imported once and never released: a static py::object would drop its
/// reference in an exit handler after the interpreter has finalized, and abort the process.
py::handle python_object(const char* module, const char* name);

/// datetime.date <-> prkl::Date; strings are parsed as YYYY-MM-DD (`what` names the argument).
py::object to_python_date(std::chrono::sys_days day);

}  // namespace prkl::python
