// SPDX-License-Identifier: MIT
// prkl.Database's rates questions: one lane or a matrix, as values or as JSON text.

#include <fmt/format.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <prkl/pool.hpp>
#include <prkl/prkl.hpp>

#include "arguments.hpp"
#include "bindings.hpp"

namespace prkl::python {

namespace {

void def_rates(DatabaseClass& db) {
  db.def(
      "rates",
      [](Pool& pool, const py::object& date_from, const py::object& date_to,
         const std::string& origin, const std::string& destination, std::int64_t min_count,
         int scale, const std::string& bucket,
         const std::optional<std::vector<double>>& percentiles, const std::string& currency,
         bool with_version, const py::object& equipment, const std::optional<std::string>& term,
         std::optional<std::int64_t> max_age_days) {
        const RatesQuery query =
            rates_query(date_from, date_to, origin, destination,
                        rates_options(min_count, scale, bucket, percentiles, currency,
                                      price_filter(equipment, term, max_age_days)));
        std::vector<RateDay> days;
        StoreVersion at;
        {
          py::gil_scoped_release release;
          auto db = pool.borrow();
          days = db->rates(query);
          at = db->last_version();
        }
        return maybe_versioned(py::cast(std::move(days)), with_version, at);
      },
      py::arg("date_from"), py::arg("date_to"), py::arg("origin"), py::arg("destination"),
      py::arg("min_count") = 3, py::arg("scale") = 0, py::arg("bucket") = "day",
      py::arg("percentiles") = py::none(), py::arg("currency") = "USD",
      py::arg("with_version") = false, py::kw_only(), py::arg("equipment") = py::none(),
      py::arg("term") = py::none(), py::arg("max_age_days") = py::none(),
      "One RateDay per day (or per week or month: bucket='week'|'month', each labelled by "
      "its calendar start) from date_from to date_to inclusive, ascending. origin and "
      "destination are port codes or region slugs (regions include sub-regions at any "
      "depth). Dates are datetime.date or 'YYYY-MM-DD'. percentiles=[25, 50, 75] adds "
      "day.percentiles; currency='EUR' converts at each day's exchange rate. equipment='40HC' "
      "(or a list), term='short'|'long' and max_age_days=90 count only those prices. "
      "with_version=True returns (days, token), as rates_json().");
}

void def_rates_json(DatabaseClass& db) {
  db.def(
      "rates_json",
      [](Pool& pool, const py::object& date_from, const py::object& date_to,
         const std::string& origin, const std::string& destination, std::int64_t min_count,
         int scale, const std::vector<std::string>& fields, bool newest_first,
         const std::string& bucket, const std::optional<std::vector<double>>& percentiles,
         const std::string& currency, bool with_version, const py::object& equipment,
         const std::optional<std::string>& term, std::optional<std::int64_t> max_age_days) {
        const RatesQuery query =
            rates_query(date_from, date_to, origin, destination,
                        rates_options(min_count, scale, bucket, percentiles, currency,
                                      price_filter(equipment, term, max_age_days)));
        const std::vector<RateField> keys = rate_fields(fields);
        std::string text;
        StoreVersion at;
        {
          py::gil_scoped_release release;
          auto db = pool.borrow();
          text = rates_json(db->rates(query), keys, newest_first);
          at = db->last_version();
        }
        return maybe_versioned(py::str(text), with_version, at);
      },
      py::arg("date_from"), py::arg("date_to"), py::arg("origin"), py::arg("destination"),
      py::arg("min_count") = 3, py::arg("scale") = 0,
      py::arg("fields") = std::vector<std::string>{"day", "count", "average_price", "min", "max"},
      py::arg("newest_first") = false, py::arg("bucket") = "day",
      py::arg("percentiles") = py::none(), py::arg("currency") = "USD",
      py::arg("with_version") = false, py::kw_only(), py::arg("equipment") = py::none(),
      py::arg("term") = py::none(), py::arg("max_age_days") = py::none(),
      "The same answer as rates(), as JSON text ready to send: an array of objects with "
      "`fields` in the order given ('percentiles' adds p25, p50, ...), averages as exact "
      "decimals. Written in C++ without Python objects per day, for web handlers. "
      "with_version=True returns (text, token): the data_version() token the answer was "
      "read at (it is that version's or a newer one), to tag it with, with no second read.");
}

void def_rates_matrix(DatabaseClass& db) {
  db.def(
      "rates_matrix",
      [](Pool& pool, const py::object& date_from, const py::object& date_to,
         const std::vector<std::string>& origins, const std::vector<std::string>& destinations,
         std::int64_t min_count, int scale, const std::string& bucket,
         const std::optional<std::vector<double>>& percentiles, const std::string& currency,
         const py::object& equipment, const std::optional<std::string>& term,
         std::optional<std::int64_t> max_age_days) {
        const MatrixQuery query{date_argument(date_from, "date_from"),
                                date_argument(date_to, "date_to"), origins, destinations,
                                rates_options(min_count, scale, bucket, percentiles, currency,
                                              price_filter(equipment, term, max_age_days))};
        std::vector<LaneRates> lanes;
        {
          py::gil_scoped_release release;
          lanes = pool.borrow()->rates_matrix(query);
        }
        py::list out;
        for (LaneRates& lane : lanes) {
          out.append(py::make_tuple(lane.origin, lane.destination, py::cast(std::move(lane.days))));
        }
        return out;
      },
      py::arg("date_from"), py::arg("date_to"), py::arg("origins"), py::arg("destinations"),
      py::arg("min_count") = 3, py::arg("scale") = 0, py::arg("bucket") = "day",
      py::arg("percentiles") = py::none(), py::arg("currency") = "USD", py::kw_only(),
      py::arg("equipment") = py::none(), py::arg("term") = py::none(),
      py::arg("max_age_days") = py::none(),
      "rates() for every origin with every destination in one call: a list of (origin, "
      "destination, [RateDay]), origins outer. At most max_matrix_lanes (connect(); 100 by "
      "default) pairs.");
}

void def_rates_matrix_json(DatabaseClass& db) {
  db.def(
      "rates_matrix_json",
      [](Pool& pool, const py::object& date_from, const py::object& date_to,
         const std::vector<std::string>& origins, const std::vector<std::string>& destinations,
         std::int64_t min_count, int scale, const std::vector<std::string>& fields,
         const std::string& bucket, const std::optional<std::vector<double>>& percentiles,
         const std::string& currency, bool with_version, const py::object& equipment,
         const std::optional<std::string>& term, std::optional<std::int64_t> max_age_days) {
        const MatrixQuery query{date_argument(date_from, "date_from"),
                                date_argument(date_to, "date_to"), origins, destinations,
                                rates_options(min_count, scale, bucket, percentiles, currency,
                                              price_filter(equipment, term, max_age_days))};
        const std::vector<RateField> keys = rate_fields(fields);
        std::string text;
        StoreVersion at;
        {
          py::gil_scoped_release release;
          auto db = pool.borrow();
          text = rates_matrix_json(db->rates_matrix(query), keys);
          at = db->last_version();
        }
        return maybe_versioned(py::str(text), with_version, at);
      },
      py::arg("date_from"), py::arg("date_to"), py::arg("origins"), py::arg("destinations"),
      py::arg("min_count") = 3, py::arg("scale") = 0,
      py::arg("fields") = std::vector<std::string>{"day", "count", "average_price", "min", "max"},
      py::arg("bucket") = "day", py::arg("percentiles") = py::none(), py::arg("currency") = "USD",
      py::arg("with_version") = false, py::kw_only(), py::arg("equipment") = py::none(),
      py::arg("term") = py::none(), py::arg("max_age_days") = py::none(),
      "rates_matrix() as JSON text: {\"lanes\": [{\"origin\", \"destination\", "
      "\"rates\": [...]}]}; with_version=True: (text, token), as rates_json().");
}

}  // namespace

void bind_rates(DatabaseClass& db) {
  def_rates(db);
  def_rates_json(db);
  def_rates_matrix(db);
  def_rates_matrix_json(db);
}

}  // namespace prkl::python
