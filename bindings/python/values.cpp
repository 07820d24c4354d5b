// SPDX-License-Identifier: MIT
// The values the API returns. Each has attributes for Python code and to_dict() for JSON.

#include <fmt/format.h>
#include <pybind11/stl.h>

#include <prkl/prkl.hpp>

#include "bindings.hpp"

namespace prkl::python {

py::object to_python_date(std::chrono::sys_days day) {
  static const py::handle date_type = python_object("datetime", "date");
  const std::chrono::year_month_day ymd{day};
  return date_type(int(ymd.year()), unsigned(ymd.month()), unsigned(ymd.day()));
}

namespace {

py::object average_object(const std::optional<Decimal>& average) {
  if (!average) return py::none();
  if (average->scale == 0) return py::int_(average->units);
  static const py::handle decimal_type = python_object("decimal", "Decimal");
  return decimal_type(average->to_string());
}

py::object optional_int(const std::optional<std::int64_t>& v) {
  return v ? py::object(py::int_(*v)) : py::object(py::none());
}

// to_dict()'s value: exact (int, or decimal.Decimal when scaled) unless the caller accepts a
// float, whose JSON text is the exact decimal only up to 15 significant digits.
py::object dict_number(const std::optional<Decimal>& value, bool float_ok) {
  if (!value) return py::none();
  if (value->scale == 0 || !float_ok) return average_object(value);
  return py::float_(std::stod(value->to_string()));
}

// Every to_dict() is built from prkl::fields(), the description the CLI and the examples share,
// so the keys and their order are the same wherever a value is shown.
py::dict fields_dict(const std::vector<Field>& fields, bool float_ok = false) {
  py::dict out;
  for (const Field& field : fields) {
    out[py::str(field.name)] = std::visit(
        [float_ok](const auto& value) -> py::object {
          using T = std::decay_t<decltype(value)>;
          if constexpr (std::is_same_v<T, std::monostate>) {
            return py::none();
          } else if constexpr (std::is_same_v<T, Decimal>) {
            return dict_number(value, float_ok);
          } else if constexpr (std::is_same_v<T, std::int64_t>) {
            return py::int_(value);
          } else {
            return py::cast(value);
          }
        },
        field.value);
  }
  return out;
}

// Pickle states and hashes are built from plain tuples of the fields.
py::object decimal_state(const std::optional<Decimal>& value) {
  if (!value) return py::none();
  return py::make_tuple(value->units, value->scale);
}

std::optional<Decimal> decimal_from_state(const py::object& state) {
  if (state.is_none()) return std::nullopt;
  const auto t = state.cast<py::tuple>();
  return Decimal{t[0].cast<std::int64_t>(), t[1].cast<int>()};
}

std::optional<std::int64_t> optional_int_from(const py::object& value) {
  if (value.is_none()) return std::nullopt;
  return value.cast<std::int64_t>();
}

py::tuple rate_day_state(const RateDay& d) {
  py::list percentiles;
  for (const Percentile& p : d.percentiles) {
    percentiles.append(py::make_tuple(p.percent, decimal_state(p.value)));
  }
  return py::make_tuple(
      d.day.time_since_epoch().count(), d.count, decimal_state(d.average), optional_int(d.min),
      optional_int(d.max), py::tuple(percentiles),
      d.average_double ? py::object(py::float_(*d.average_double)) : py::object(py::none()));
}

RateDay rate_day_from_state(const py::tuple& t) {
  if (t.size() != 7) throw std::runtime_error("not a prkl.RateDay pickle");
  RateDay d{Date{std::chrono::days{t[0].cast<std::int64_t>()}},
            t[1].cast<std::int64_t>(),
            decimal_from_state(t[2]),
            optional_int_from(t[3]),
            optional_int_from(t[4]),
            {}};
  for (const auto& item : t[5].cast<py::tuple>()) {
    const auto p = item.cast<py::tuple>();
    d.percentiles.push_back({p[0].cast<double>(), decimal_from_state(p[1])});
  }
  if (!t[6].is_none()) d.average_double = t[6].cast<double>();
  return d;
}

py::tuple batch_result_state(const BatchResult& r) {
  py::list rates;
  for (const ExchangeRate& rate : r.rates_used) {
    rates.append(py::make_tuple(rate.currency, rate.day.time_since_epoch().count(), rate.units));
  }
  return py::make_tuple(r.batch_id, r.rows, r.prices, r.applied_at, r.replayed, py::tuple(rates));
}

BatchResult batch_result_from_state(const py::tuple& t) {
  if (t.size() != 6) throw std::runtime_error("not a prkl.BatchResult pickle");
  BatchResult r{t[0].cast<std::string>(), t[1].cast<std::int64_t>(), t[2].cast<std::int64_t>(),
                t[3].cast<std::string>(), t[4].cast<bool>(),         {}};
  for (const auto& item : t[5].cast<py::tuple>()) {
    const auto rate = item.cast<py::tuple>();
    r.rates_used.push_back({rate[0].cast<std::string>(),
                            Date{std::chrono::days{rate[1].cast<std::int64_t>()}},
                            rate[2].cast<std::int64_t>()});
  }
  return r;
}

bool same_batch_result(const BatchResult& a, const BatchResult& b) {
  return a.batch_id == b.batch_id && a.rows == b.rows && a.prices == b.prices &&
         a.applied_at == b.applied_at && a.replayed == b.replayed && a.rates_used == b.rates_used;
}

// A region tree as one flat tuple, depth first, each node with its number of children, so that
// neither pickling nor comparing recurses however deep the tree is.
py::tuple region_state(const RegionNode& root) {
  py::list nodes;
  std::vector<const RegionNode*> pending{&root};
  while (!pending.empty()) {
    const RegionNode* node = pending.back();
    pending.pop_back();
    nodes.append(py::make_tuple(node->region.slug, node->region.name,
                                node->region.parent_slug
                                    ? py::object(py::str(*node->region.parent_slug))
                                    : py::object(py::none()),
                                py::tuple(py::cast(node->port_codes)), node->children.size()));
    for (auto child = node->children.rbegin(); child != node->children.rend(); ++child) {
      pending.push_back(&*child);
    }
  }
  return py::tuple(nodes);
}

RegionNode region_from_state(const py::tuple& nodes) {
  if (nodes.size() == 0) throw std::runtime_error("not a prkl.RegionNode pickle");
  // Each open node with how many of its children are still to come.
  struct Open {
    RegionNode node;
    std::size_t missing;
  };
  std::vector<Open> open;
  std::optional<RegionNode> root;
  for (const auto& item : nodes) {
    if (root) throw std::runtime_error("not a prkl.RegionNode pickle");
    const auto t = item.cast<py::tuple>();
    RegionNode node{
        {t[0].cast<std::string>(), t[1].cast<std::string>(),
         t[2].is_none() ? std::nullopt : std::optional<std::string>(t[2].cast<std::string>())},
        {},
        t[3].cast<std::vector<std::string>>()};
    open.push_back({std::move(node), t[4].cast<std::size_t>()});
    while (!open.empty() && open.back().missing == 0) {
      RegionNode done = std::move(open.back().node);
      open.pop_back();
      if (open.empty()) {
        root = std::move(done);
      } else {
        open.back().node.children.push_back(std::move(done));
        --open.back().missing;
      }
    }
  }
  if (!root) throw std::runtime_error("not a prkl.RegionNode pickle");
  return std::move(*root);
}

// Registers ==, hash() and pickling for a value type from its state tuple, so that equal
// values hash alike.
template <typename T, typename State, typename FromState, typename Same>
void value_protocol(py::class_<T>& cls, State state, FromState from_state, Same same) {
  cls.def(
         "__eq__", [same](const T& a, const T& b) { return same(a, b); }, py::is_operator())
      .def(
          "__ne__", [same](const T& a, const T& b) { return !same(a, b); }, py::is_operator())
      .def("__hash__", [state](const T& value) { return py::hash(state(value)); })
      .def(py::pickle([state](const T& value) { return state(value); },
                      [from_state](const py::tuple& t) { return from_state(t); }));
}

py::dict percentile_dict(const RateDay& d) {
  py::dict out;
  for (const Percentile& p : d.percentiles) {
    // Whole percents stay ints (d.percentiles[50]); 2.5 is a float key.
    const bool whole = p.percent == double(std::int64_t(p.percent));
    const py::object key =
        whole ? py::object(py::int_(std::int64_t(p.percent))) : py::object(py::float_(p.percent));
    out[key] = average_object(p.value);
  }
  return out;
}

py::list rates_used_list(const BatchResult& r) {
  static const py::handle decimal_type = python_object("decimal", "Decimal");
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
    py::dict d = fields_dict(fields(node.region));
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

// Values compare by value, hash alike when equal, and pickle (for multiprocessing, caches).
void bind_rate_day(py::module_& m) {
  auto rate_day =
      py::class_<RateDay>(m, "RateDay", "Price statistics of one calendar day.")
          .def_property_readonly(
              "day", [](const RateDay& d) { return to_python_date(d.day); },
              "The day (datetime.date).")
          .def_readonly("count", &RateDay::count, "Number of prices on the day.")
          .def_property_readonly(
              "average_price", [](const RateDay& d) { return average_object(d.average); },
              "Exact average rounded half away from zero: int, decimal.Decimal when a scale was "
              "asked for, None below min_count.")
          .def_property_readonly(
              "average_float",
              [](const RateDay& d) {
                return d.average_double ? py::object(py::float_(*d.average_double))
                                        : py::object(py::none());
              },
              "The exact average, unrounded, as the nearest float (ties to even): what "
              "float(AVG(price)) gives in an app on PostgreSQL. None below min_count.")
          .def_property_readonly(
              "min", [](const RateDay& d) { return optional_int(d.min); }, "Lowest price, or None.")
          .def_property_readonly(
              "max", [](const RateDay& d) { return optional_int(d.max); },
              "Highest price, or None.")
          .def_property_readonly(
              "percentiles", &percentile_dict,
              "The asked percentiles by percent ({50: 1120}), valued like average_price.")
          .def(
              "to_dict",
              [](const RateDay& d, bool float_ok) { return fields_dict(fields(d), float_ok); },
              py::kw_only(), py::arg("float_ok") = false,
              "Values for JSON: day as YYYY-MM-DD; average_price (and p25, p50, ... when asked) "
              "exact, as int, decimal.Decimal (when a scale was asked) or None. float_ok=True "
              "gives floats instead of Decimals, which are exact only to 15 significant digits.")
          .def("__repr__", [](const RateDay& d) {
            return fmt::format(
                "RateDay(day={}, count={}, average_price={}, min={}, max={})", format_date(d.day),
                d.count, d.average ? d.average->to_string() : "None",
                d.min ? std::to_string(*d.min) : "None", d.max ? std::to_string(*d.max) : "None");
          });
  value_protocol(rate_day, &rate_day_state, &rate_day_from_state,
                 [](const RateDay& a, const RateDay& b) { return a == b; });
}

void bind_port(py::module_& m) {
  auto port = py::class_<Port>(m, "Port", "A port: code, name and the region it is in.")
                  .def_readonly("code", &Port::code)
                  .def_readonly("name", &Port::name)
                  .def_readonly("region", &Port::region_slug)
                  .def("to_dict", [](const Port& p) { return fields_dict(fields(p)); })
                  .def("__repr__", [](const Port& p) {
                    return fmt::format("Port(code='{}', name='{}', region='{}')", p.code, p.name,
                                       p.region_slug);
                  });
  value_protocol(
      port, [](const Port& p) { return py::make_tuple(p.code, p.name, p.region_slug); },
      [](const py::tuple& t) {
        if (t.size() != 3) throw std::runtime_error("not a prkl.Port pickle");
        return Port{t[0].cast<std::string>(), t[1].cast<std::string>(), t[2].cast<std::string>()};
      },
      [](const Port& a, const Port& b) { return a == b; });
}

void bind_region_node(py::module_& m) {
  auto region_node =
      py::class_<RegionNode>(m, "RegionNode", "A region with its sub-regions and its own ports.")
          .def_property_readonly("slug", [](const RegionNode& n) { return n.region.slug; })
          .def_property_readonly("name", [](const RegionNode& n) { return n.region.name; })
          .def_property_readonly("parent", [](const RegionNode& n) { return n.region.parent_slug; })
          .def_readonly("ports", &RegionNode::port_codes,
                        "Codes of the ports directly in the region.")
          .def_readonly("regions", &RegionNode::children, "Sub-regions.")
          .def("to_dict", &region_dict)
          .def("__repr__", [](const RegionNode& n) {
            return fmt::format("RegionNode(slug='{}', regions={}, ports={})", n.region.slug,
                               n.children.size(), n.port_codes.size());
          });
  value_protocol(region_node, &region_state, &region_from_state,
                 [](const RegionNode& a, const RegionNode& b) {
                   return region_state(a).equal(region_state(b));
                 });
}

void bind_row_error(py::module_& m) {
  auto row_error =
      py::class_<RowError>(m, "RowError", "One problem with one row of a batch or a dump.")
          .def_readonly("row", &RowError::row, "1-based row of the batch (or line of the dump).")
          .def_readonly("field", &RowError::field)
          .def_readonly("message", &RowError::message)
          .def("to_dict", [](const RowError& e) { return fields_dict(fields(e)); })
          .def("__repr__", [](const RowError& e) {
            return fmt::format("RowError(row={}, field='{}', message='{}')", e.row, e.field,
                               e.message);
          });
  value_protocol(
      row_error, [](const RowError& e) { return py::make_tuple(e.row, e.field, e.message); },
      [](const py::tuple& t) {
        if (t.size() != 3) throw std::runtime_error("not a prkl.RowError pickle");
        return RowError{t[0].cast<std::int64_t>(), t[1].cast<std::string>(),
                        t[2].cast<std::string>()};
      },
      [](const RowError& a, const RowError& b) { return a == b; });
}

void bind_batch_result(py::module_& m) {
  auto batch_result =
      py::class_<BatchResult>(m, "BatchResult", "What applying a batch did.")
          .def_readonly("batch_id", &BatchResult::batch_id)
          .def_readonly("rows", &BatchResult::rows)
          .def_readonly("prices", &BatchResult::prices,
                        "Prices written (a date range writes many).")
          .def_readonly("applied_at", &BatchResult::applied_at,
                        "UTC ISO 8601 time of the first apply.")
          .def_readonly("replayed", &BatchResult::replayed,
                        "True when the id was applied before and nothing was written now.")
          .def_property_readonly("rates_used", &rates_used_list,
                                 "Exchange rates prices were converted at: dicts of currency, day "
                                 "(datetime.date) and rate (decimal.Decimal, units per USD).")
          .def("to_dict",
               [](const BatchResult& r) {
                 py::dict d = fields_dict(fields(r));
                 py::list rates;
                 for (const ExchangeRate& rate : r.rates_used)
                   rates.append(fields_dict(fields(rate)));
                 d["rates_used"] = rates;
                 return d;
               })
          .def("__repr__", [](const BatchResult& r) {
            return fmt::format("BatchResult(batch_id='{}', rows={}, prices={}, replayed={})",
                               r.batch_id, r.rows, r.prices, r.replayed ? "True" : "False");
          });
  value_protocol(batch_result, &batch_result_state, &batch_result_from_state, &same_batch_result);
}

}  // namespace

void bind_values(py::module_& m) {
  bind_rate_day(m);
  bind_port(m);
  bind_region_node(m);
  bind_row_error(m);
  bind_batch_result(m);
}

}  // namespace prkl::python
