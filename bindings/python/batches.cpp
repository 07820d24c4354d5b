// SPDX-License-Identifier: MIT
// prkl.Database's batches: validate and apply (CSV paths, bytes or rows), and the ledger.

#include <fmt/format.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <prkl/pool.hpp>
#include <prkl/prkl.hpp>

#include "arguments.hpp"
#include "bindings.hpp"

namespace prkl::python {

namespace {

void def_validate(DatabaseClass& db) {
  db.def(
      "validate",
      [](Pool& pool, const py::object& rows) {
        std::vector<RowError> errors;
        with_batch_rows(rows, pool.database_options().max_batch_prices,
                        [&](BatchRowSource& source) {
                          errors = pool.borrow()->validate(std::string(), source);
                        });
        return errors;
      },
      py::arg("rows"),
      "Every problem of every row, as RowError objects (empty when the batch is good). "
      "rows: a CSV path, CSV text as bytes, or dicts/tuples. Writes nothing.");
}

void def_apply(DatabaseClass& db) {
  db.def(
      "apply",
      [](Pool& pool, const py::object& rows, const std::optional<std::string>& batch_id) {
        BatchResult result;
        with_batch_rows(rows, pool.database_options().max_batch_prices,
                        [&](BatchRowSource& source) {
                          result = pool.borrow()->apply(batch_id.value_or(""), source);
                        });
        return result;
      },
      py::arg("rows"), py::arg("batch_id") = py::none(),
      "Validates, then writes every row in one transaction, or nothing (ValidationError "
      "lists every bad row). Applying a batch_id again returns the first result with "
      "replayed=True; without a batch_id the content names the batch.");
}

void def_batch(DatabaseClass& db) {
  db.def(
      "batch",
      [](Pool& pool, const std::string& batch_id) {
        py::gil_scoped_release release;
        return pool.borrow()->batch(batch_id);
      },
      py::arg("batch_id"),
      "The ledger's BatchResult for an applied batch id (with the exchange rates it used), "
      "or None.");
}

}  // namespace

void bind_batches(DatabaseClass& db) {
  def_validate(db);
  def_apply(db);
  def_batch(db);
}

}  // namespace prkl::python
