// SPDX-License-Identifier: MIT
// prkl.Database's exchange rates.

#include <fmt/format.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <prkl/pool.hpp>
#include <prkl/prkl.hpp>

#include "arguments.hpp"
#include "bindings.hpp"

namespace prkl::python {

namespace {

void def_import_exchange_rates(DatabaseClass& db) {
  db.def(
      "import_exchange_rates",
      [](Pool& pool, const std::filesystem::path& path, bool replace) {
        py::gil_scoped_release release;
        return pool.borrow()->import_exchange_rates(path, replace);
      },
      py::arg("path"), py::arg("replace") = false,
      "Loads openexchangerates-style YYYY-MM-DD.json files (one file or a directory) in "
      "one transaction; returns how many rates were new or changed. A day stored before "
      "with other rates is refused unless replace=True.");
}

}  // namespace

void bind_fx(DatabaseClass& db) {
  def_import_exchange_rates(db);
}

}  // namespace prkl::python
