// SPDX-License-Identifier: MIT
// The market's questions on prkl.Database: market() and rank(), their JSON forms, the
// MarketAnswer, MarketDay and RankDay values they return, and the equipment codes they filter on.
#include <fmt/format.h>
#include <pybind11/stl.h>

#include <prkl/database.hpp>
#include <prkl/market.hpp>
#include <prkl/pool.hpp>

#include "arguments.hpp"
#include "bindings.hpp"

namespace prkl::python {

namespace {

// A price to rank: an int, a decimal.Decimal or a str such as "1234.50", read exactly; a float
// is refused, since its binary value is not the decimal it was written as.
Decimal price_of(const py::handle& value) {
  if (py::isinstance<py::bool_>(value) || py::isinstance<py::float_>(value)) {
    throw InvalidArgument(
        fmt::format("price {} must be an int, a decimal.Decimal or a str such as '1234.50'",
                    py::repr(value).cast<std::string>()));
  }
  return parse_decimal(py::str(value).cast<std::string>());
}

MarketQuery market_query(const py::object& date_from, const py::object& date_to,
                         const std::string& origin, const std::string& destination, bool fallback,
                         const std::string& bucket, const std::string& currency, int scale,
                         std::int64_t min_count, PriceFilter filter) {
  return {date_argument(date_from, "date_from"),
          date_argument(date_to, "date_to"),
          origin,
          destination,
          min_count,
          scale,
          parse_bucket(bucket),
          currency,
          fallback,
          std::move(filter)};
}

RankQuery rank_query(const py::object& price, const py::object& date_from,
                     const py::object& date_to, const std::string& origin,
                     const std::string& destination, const std::string& bucket,
                     const std::string& currency, std::int64_t min_count, PriceFilter filter) {
  return {date_argument(date_from, "date_from"),
          date_argument(date_to, "date_to"),
          origin,
          destination,
          price_of(price),
          currency,
          min_count,
          parse_bucket(bucket),
          std::move(filter)};
}

template <typename Answer, typename Query>
Answer ask(Pool& pool, const Query& query, Answer (Database::*method)(const Query&)) {
  py::gil_scoped_release release;
  return ((*pool.borrow()).*method)(query);
}

void bind_market_values(py::module_& m) {
  py::class_<MarketDay>(m, "MarketDay", "One day (or bucket) of the market's band.")
      .def_property_readonly("day", [](const MarketDay& d) { return to_python_date(d.day); })
      .def_readonly("count", &MarketDay::count, "How many prices stand behind the band.")
      .def_property_readonly(
          "low", [](const MarketDay& d) { return exact_object(d.low); },
          "The 2.5th percentile; None below min_count (as every value).")
      .def_property_readonly(
          "midlow", [](const MarketDay& d) { return exact_object(d.midlow); },
          "The 25th percentile.")
      .def_property_readonly("median", [](const MarketDay& d) { return exact_object(d.median); })
      .def_property_readonly("mean", [](const MarketDay& d) { return exact_object(d.mean); })
      .def_property_readonly(
          "midhigh", [](const MarketDay& d) { return exact_object(d.midhigh); },
          "The 75th percentile.")
      .def_property_readonly(
          "high", [](const MarketDay& d) { return exact_object(d.high); }, "The 97.5th percentile.")
      .def("__repr__", [](const MarketDay& d) {
        return fmt::format("<prkl.MarketDay {} count={}>", format_date(d.day), d.count);
      });
  py::class_<MarketAnswer>(m, "MarketAnswer", "The band of a lane, and the level it was given at.")
      .def_property_readonly(
          "asked",
          [](const MarketAnswer& a) { return py::make_tuple(a.asked.origin, a.asked.destination); },
          "(origin, destination) as asked.")
      .def_property_readonly(
          "answered",
          [](const MarketAnswer& a) {
            return py::make_tuple(a.answered.origin, a.answered.destination);
          },
          "(origin, destination) the band is of: the asked lane unless fallback stepped up.")
      .def_readonly("steps", &MarketAnswer::steps, "Region levels the fallback stepped up.")
      .def_readonly("days", &MarketAnswer::days)
      .def(
          "to_dict",
          [](const MarketAnswer& a) {
            static const py::handle loads = python_object("json", "loads");
            return loads(market_json(a));
          },
          "{'asked': {...}, 'answered': {..., 'steps'}, 'days': [...]}, values as decimal "
          "strings or None: market_json()'s document.");
  py::class_<RankDay>(m, "RankDay", "Where a price stands among one day's (or bucket's) prices.")
      .def_property_readonly("day", [](const RankDay& d) { return to_python_date(d.day); })
      .def_readonly("count", &RankDay::count)
      .def_property_readonly(
          "percent_rank", [](const RankDay& d) { return exact_object(d.percent_rank); },
          "Prices below / count, as decimal.Decimal at 6 digits; None below "
          "min_count.")
      .def_property_readonly(
          "cume_dist", [](const RankDay& d) { return exact_object(d.cume_dist); },
          "(Prices at or below + 1) / (count + 1), at 6 digits.")
      .def("__repr__", [](const RankDay& d) {
        return fmt::format("<prkl.RankDay {} count={}>", format_date(d.day), d.count);
      });
}

// The equipment codes the store knows: what prices may carry and filters may name.
void def_equipment(DatabaseClass& database) {
  database.def(
      "equipment",
      [](Pool& pool) {
        py::gil_scoped_release release;
        return pool.borrow()->equipment();
      },
      "The equipment codes (ISO 6346 size-types such as '40HC') prices may carry, sorted.");
  database.def(
      "add_equipment",
      [](Pool& pool, const std::vector<std::string>& codes) {
        py::gil_scoped_release release;
        return pool.borrow()->add_equipment(codes);
      },
      py::arg("codes"),
      "Adds equipment codes (four digits or capital letters each); returns how many were new. "
      "A bad code is an InvalidArgument naming it, and nothing is added.");
}

}  // namespace

void bind_market(py::module_& m, DatabaseClass& database) {
  bind_market_values(m);
  def_equipment(database);
  database.def(
      "market",
      [](Pool& pool, const py::object& date_from, const py::object& date_to,
         const std::string& origin, const std::string& destination, bool fallback,
         const std::string& bucket, const std::string& currency, int scale, std::int64_t min_count,
         const py::object& equipment, const std::optional<std::string>& term,
         std::optional<std::int64_t> max_age_days) {
        return ask(pool,
                   market_query(date_from, date_to, origin, destination, fallback, bucket, currency,
                                scale, min_count, price_filter(equipment, term, max_age_days)),
                   &Database::market);
      },
      py::arg("date_from"), py::arg("date_to"), py::arg("origin"), py::arg("destination"),
      py::kw_only(), py::arg("fallback") = false, py::arg("bucket") = "day",
      py::arg("currency") = "USD", py::arg("scale") = 0, py::arg("min_count") = 3,
      py::arg("equipment") = py::none(), py::arg("term") = py::none(),
      py::arg("max_age_days") = py::none(),
      "The market's band per day (or bucket): count, low (2.5th percentile), midlow (25th), "
      "median, mean, midhigh (75th), high (97.5th), None below min_count. fallback=True steps a "
      "thin lane (more than half its days below min_count) up the region tree, origin then "
      "destination, and the answer says where (answered, steps).");
  database.def(
      "market_json",
      [](Pool& pool, const py::object& date_from, const py::object& date_to,
         const std::string& origin, const std::string& destination, bool fallback,
         const std::string& bucket, const std::string& currency, int scale, std::int64_t min_count,
         const py::object& equipment, const std::optional<std::string>& term,
         std::optional<std::int64_t> max_age_days) {
        const MarketQuery query =
            market_query(date_from, date_to, origin, destination, fallback, bucket, currency, scale,
                         min_count, price_filter(equipment, term, max_age_days));
        py::gil_scoped_release release;
        return market_json(pool.borrow()->market(query));
      },
      py::arg("date_from"), py::arg("date_to"), py::arg("origin"), py::arg("destination"),
      py::kw_only(), py::arg("fallback") = false, py::arg("bucket") = "day",
      py::arg("currency") = "USD", py::arg("scale") = 0, py::arg("min_count") = 3,
      py::arg("equipment") = py::none(), py::arg("term") = py::none(),
      py::arg("max_age_days") = py::none(),
      "market() as the JSON text of MarketAnswer.to_dict(), written without Python objects.");
  database.def(
      "rank",
      [](Pool& pool, const py::object& price, const py::object& date_from,
         const py::object& date_to, const std::string& origin, const std::string& destination,
         const std::string& bucket, const std::string& currency, std::int64_t min_count,
         const py::object& equipment, const std::optional<std::string>& term,
         std::optional<std::int64_t> max_age_days) {
        return ask(pool,
                   rank_query(price, date_from, date_to, origin, destination, bucket, currency,
                              min_count, price_filter(equipment, term, max_age_days)),
                   &Database::rank);
      },
      py::arg("price"), py::arg("date_from"), py::arg("date_to"), py::arg("origin"),
      py::arg("destination"), py::kw_only(), py::arg("bucket") = "day", py::arg("currency") = "USD",
      py::arg("min_count") = 1, py::arg("equipment") = py::none(), py::arg("term") = py::none(),
      py::arg("max_age_days") = py::none(),
      "Where `price` (int, decimal.Decimal or '1234.50', in `currency`) stands among the lane's "
      "prices of each day: count, percent_rank and cume_dist as PostgreSQL's hypothetical-set "
      "aggregates give them, at 6 digits.");
  database.def(
      "rank_json",
      [](Pool& pool, const py::object& price, const py::object& date_from,
         const py::object& date_to, const std::string& origin, const std::string& destination,
         const std::string& bucket, const std::string& currency, std::int64_t min_count,
         const py::object& equipment, const std::optional<std::string>& term,
         std::optional<std::int64_t> max_age_days) {
        const RankQuery query =
            rank_query(price, date_from, date_to, origin, destination, bucket, currency, min_count,
                       price_filter(equipment, term, max_age_days));
        py::gil_scoped_release release;
        return rank_json(pool.borrow()->rank(query));
      },
      py::arg("price"), py::arg("date_from"), py::arg("date_to"), py::arg("origin"),
      py::arg("destination"), py::kw_only(), py::arg("bucket") = "day", py::arg("currency") = "USD",
      py::arg("min_count") = 1, py::arg("equipment") = py::none(), py::arg("term") = py::none(),
      py::arg("max_age_days") = py::none(),
      "rank() as JSON text: [{'day', 'count', 'percent_rank', 'cume_dist'}, ...].");
}

}  // namespace prkl::python
