// SPDX-License-Identifier: MIT
#pragma once

// What every area of prkl.Database converts its Python arguments with.

#include <pybind11/pybind11.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <prkl/json.hpp>
#include <prkl/model.hpp>
#include <prkl/store.hpp>
#include <string>
#include <vector>

namespace prkl::python {

namespace py = pybind11;

/// A datetime.date or a 'YYYY-MM-DD' str; InvalidArgument naming `what` otherwise.
Date date_argument(const py::handle& value, const char* what);

/// Rows from an iterable of dicts and tuples, drawn no further than `max_rows`.
std::vector<BatchRow> iterable_rows(const py::object& rows, std::int64_t max_rows);

/// Runs `use` without the GIL on a batch's rows as a source: a CSV path (str or os.PathLike) or
/// CSV text (bytes, named "CSV" in messages) is read by prkl's one CSV reader, no further than
/// `max_rows`, as `use` takes its rows a chunk at a time (the batch's rows are never all held);
/// an iterable of dicts and tuples is drawn first, with the GIL (iterable_rows()).
void with_batch_rows(const py::object& rows, std::int64_t max_rows,
                     const std::function<void(BatchRowSource&)>& use);

/// The filter keywords every question takes: `equipment` (a code, a list of codes, or None),
/// `term` ('short', 'long' or None), `max_age_days` (an int or None); None leaves a condition out.
PriceFilter price_filter(const py::object& equipment, const std::optional<std::string>& term,
                         std::optional<std::int64_t> max_age_days);

RatesOptions rates_options(std::int64_t min_count, int scale, const std::string& bucket,
                           const std::optional<std::vector<double>>& percentiles,
                           const std::string& currency, PriceFilter filter);
RatesQuery rates_query(const py::object& date_from, const py::object& date_to,
                       const std::string& origin, const std::string& destination,
                       const RatesOptions& o);

/// What data_version() returns, and with_version=True calls return with their answer.
std::string version_token(const StoreVersion& v);

/// `answer`, or (answer, the version token it was read at) with `with_version`: what an HTTP
/// cache tags it with, without a second read of the version.
py::object maybe_versioned(py::object answer, bool with_version, const StoreVersion& at);

std::vector<RateField> rate_fields(const std::vector<std::string>& names);

/// An exact value as Python gives prices: int when whole, decimal.Decimal otherwise; None.
py::object exact_object(const std::optional<Decimal>& value);

}  // namespace prkl::python
