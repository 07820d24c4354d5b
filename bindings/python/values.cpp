// SPDX-License-Identifier: MIT
// The values the API returns. Each has attributes for Python code and to_dict() for JSON.

#include <fmt/format.h>
#include <pybind11/stl.h>

#include <prkl/prkl.hpp>

#include "bindings.hpp"

namespace prkl::python {

py::object to_python_date(std::chrono::sys_days day) {
  static const py::object date_type = py::module_::import("datetime").attr("date");
  const std::chrono::year_month_day ymd{day};
  return date_type(int(ymd.year()), unsigned(ymd.month()), unsigned(ymd.day()));
}

namespace {

py::object average_object(const std::optional<Decimal>& average) {
  if (!average) return py::none();
  if (average->scale == 0) return py::int_(average->units);
  static const py::object decimal_type = py::module_::import("decimal").attr("Decimal");
  return decimal_type(average->to_string());
}

py::object optional_int(const std::optional<std::int64_t>& v) {
  return v ? py::object(py::int_(*v)) : py::object(py::none());
}

// For JSON: a scaled value becomes a float, whose JSON text is the exact decimal for up to 15
// significant digits (every realistic price at scales up to 4).
py::object json_number(const std::optional<Decimal>& value) {
  if (!value) return py::none();
  if (value->scale == 0) return py::int_(value->units);
  return py::float_(std::stod(value->to_string()));
}

py::dict percentile_dict(const RateDay& d) {
  py::dict out;
  for (const Percentile& p : d.percentiles) out[py::int_(p.percent)] = average_object(p.value);
  return out;
}

py::list rates_used_list(const BatchResult& r) {
  static const py::object decimal_type = py::module_::import("decimal").attr("Decimal");
  py::list out;
  for (const ExchangeRate& rate : r.rates_used) {
    py::dict d;
    d["currency"] = rate.currency;
    d["day"] = to_python_date(rate.day);
    d["rate"] = decimal_type(format_rate(rate.units));
    out.append(d);
  }
  return out;
}

// Depth first with a stack of its own rather than recursion, like every walk of the tree.
py::dict region_dict(const RegionNode& root) {
  struct Open {
    const RegionNode* node;
    py::list children;
    std::size_t next = 0;
  };
  const auto finish = [](const RegionNode& node, py::list children) {
    py::dict d;
    d["slug"] = node.region.slug;
    d["name"] = node.region.name;
    d["ports"] = node.port_codes;
    d["regions"] = std::move(children);
    return d;
  };
  std::vector<Open> open;
  open.push_back({&root, py::list()});
  for (;;) {
    Open& top = open.back();
    if (top.next < top.node->children.size()) {
      const RegionNode* child = &top.node->children[top.next++];
      open.push_back({child, py::list()});
      continue;
    }
    py::dict done = finish(*top.node, std::move(top.children));
    open.pop_back();
    if (open.empty()) return done;
    open.back().children.append(std::move(done));
  }
}

}  // namespace

void bind_values(py::module_& m) {
  py::class_<RateDay>(m, "RateDay", "Price statistics of one calendar day.")
      .def_property_readonly(
          "day", [](const RateDay& d) { return to_python_date(d.day); }, "The day (datetime.date).")
      .def_readonly("count", &RateDay::count, "Number of prices on the day.")
      .def_property_readonly(
          "average_price", [](const RateDay& d) { return average_object(d.average); },
          "Exact average rounded half away from zero: int, decimal.Decimal when a scale was "
          "asked for, None below min_count.")
      .def_property_readonly(
          "min", [](const RateDay& d) { return optional_int(d.min); }, "Lowest price, or None.")
      .def_property_readonly(
          "max", [](const RateDay& d) { return optional_int(d.max); }, "Highest price, or None.")
      .def_property_readonly(
          "percentiles", &percentile_dict,
          "The asked percentiles by percent ({50: 1120}), valued like average_price.")
      .def(
          "to_dict",
          [](const RateDay& d) {
            py::dict out;
            out["day"] = format_date(d.day);
            out["average_price"] = json_number(d.average);
            out["count"] = d.count;
            out["min"] = optional_int(d.min);
            out["max"] = optional_int(d.max);
            for (const Percentile& p : d.percentiles) {
              out[py::str(fmt::format("p{}", p.percent))] = json_number(p.value);
            }
            return out;
          },
          "JSON-ready values: day as YYYY-MM-DD, average_price (and p25, p50, ... when asked) "
          "as int, float or None.")
      .def("__repr__", [](const RateDay& d) {
        return fmt::format("RateDay(day={}, count={}, average_price={}, min={}, max={})",
                           format_date(d.day), d.count, d.average ? d.average->to_string() : "None",
                           d.min ? std::to_string(*d.min) : "None",
                           d.max ? std::to_string(*d.max) : "None");
      });

  py::class_<Port>(m, "Port", "A port: code, name and the region it is in.")
      .def_readonly("code", &Port::code)
      .def_readonly("name", &Port::name)
      .def_readonly("region", &Port::region_slug)
      .def("to_dict",
           [](const Port& p) {
             py::dict d;
             d["code"] = p.code;
             d["name"] = p.name;
             d["region"] = p.region_slug;
             return d;
           })
      .def("__eq__", [](const Port& a, const Port& b) { return a == b; })
      .def("__repr__", [](const Port& p) {
        return fmt::format("Port(code='{}', name='{}', region='{}')", p.code, p.name,
                           p.region_slug);
      });

  py::class_<RegionNode>(m, "RegionNode", "A region with its sub-regions and its own ports.")
      .def_property_readonly("slug", [](const RegionNode& n) { return n.region.slug; })
      .def_property_readonly("name", [](const RegionNode& n) { return n.region.name; })
      .def_property_readonly("parent", [](const RegionNode& n) { return n.region.parent_slug; })
      .def_readonly("ports", &RegionNode::port_codes, "Codes of the ports directly in the region.")
      .def_readonly("regions", &RegionNode::children, "Sub-regions.")
      .def("to_dict", &region_dict)
      .def("__repr__", [](const RegionNode& n) {
        return fmt::format("RegionNode(slug='{}', regions={}, ports={})", n.region.slug,
                           n.children.size(), n.port_codes.size());
      });

  py::class_<RowError>(m, "RowError", "One problem with one row of a batch or a dump.")
      .def_readonly("row", &RowError::row, "1-based row of the batch (or line of the dump).")
      .def_readonly("field", &RowError::field)
      .def_readonly("message", &RowError::message)
      .def("to_dict",
           [](const RowError& e) {
             py::dict d;
             d["row"] = e.row;
             d["field"] = e.field;
             d["message"] = e.message;
             return d;
           })
      .def("__repr__", [](const RowError& e) {
        return fmt::format("RowError(row={}, field='{}', message='{}')", e.row, e.field, e.message);
      });

  py::class_<BatchResult>(m, "BatchResult", "What applying a batch did.")
      .def_readonly("batch_id", &BatchResult::batch_id)
      .def_readonly("rows", &BatchResult::rows)
      .def_readonly("prices", &BatchResult::prices, "Prices written (a date range writes many).")
      .def_readonly("applied_at", &BatchResult::applied_at, "UTC ISO 8601 time of the first apply.")
      .def_readonly("replayed", &BatchResult::replayed,
                    "True when the id was applied before and nothing was written now.")
      .def_property_readonly("rates_used", &rates_used_list,
                             "Exchange rates prices were converted at: dicts of currency, day "
                             "(datetime.date) and rate (decimal.Decimal, units per USD).")
      .def("to_dict",
           [](const BatchResult& r) {
             py::dict d;
             d["batch_id"] = r.batch_id;
             d["rows"] = r.rows;
             d["prices"] = r.prices;
             d["applied_at"] = r.applied_at;
             d["replayed"] = r.replayed;
             py::list rates;
             for (const ExchangeRate& rate : r.rates_used) {
               py::dict item;
               item["currency"] = rate.currency;
               item["day"] = format_date(rate.day);
               item["rate"] = format_rate(rate.units);
               rates.append(item);
             }
             d["rates_used"] = rates;
             return d;
           })
      .def("__repr__", [](const BatchResult& r) {
        return fmt::format("BatchResult(batch_id='{}', rows={}, prices={}, replayed={})",
                           r.batch_id, r.rows, r.prices, r.replayed ? "True" : "False");
      });
}

}  // namespace prkl::python
