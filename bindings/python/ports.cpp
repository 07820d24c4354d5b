// SPDX-License-Identifier: MIT
// prkl.Database's geography: resolving locations, ports by code, region or search, the region tree.

#include <fmt/format.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <prkl/pool.hpp>
#include <prkl/prkl.hpp>

#include "arguments.hpp"
#include "bindings.hpp"

namespace prkl::python {

namespace {

void def_resolve(DatabaseClass& db) {
  db.def(
      "resolve",
      [](Pool& pool, const std::string& location) {
        py::gil_scoped_release release;
        return pool.borrow()->resolve(location);
      },
      py::arg("location"), "The sorted port codes a port code or region slug stands for.");
}

void def_port(DatabaseClass& db) {
  db.def(
      "port",
      [](Pool& pool, const std::string& code, bool with_version) {
        Port found;
        StoreVersion at;
        {
          py::gil_scoped_release release;
          auto db = pool.borrow();
          found = db->port(code);
          at = db->last_version();
        }
        return maybe_versioned(py::cast(std::move(found)), with_version, at);
      },
      py::arg("code"), py::arg("with_version") = false,
      "The port with this code; NotFound otherwise. with_version=True: (port, token), as "
      "rates_json().");
}

void def_ports(DatabaseClass& db) {
  db.def(
      "ports",
      [](Pool& pool, const std::optional<std::string>& region,
         const std::optional<std::string>& search, std::int64_t limit, std::int64_t offset,
         bool with_version) {
        std::vector<Port> found;
        StoreVersion at;
        {
          py::gil_scoped_release release;
          auto db = pool.borrow();
          found = db->search_ports(search.value_or(""), limit, offset, region.value_or(""));
          at = db->last_version();
        }
        return maybe_versioned(py::cast(std::move(found)), with_version, at);
      },
      py::arg("region") = py::none(), py::arg("search") = py::none(), py::arg("limit") = 100,
      py::arg("offset") = 0, py::arg("with_version") = false,
      "Ports by code: all of them, those of a region (at any depth), and/or those whose "
      "code or name contains `search`, ignoring case. with_version=True: (ports, token), as "
      "rates_json().");
}

void def_region_tree(DatabaseClass& db) {
  db.def(
      "region_tree",
      [](Pool& pool, bool with_version) {
        std::vector<RegionNode> roots;
        StoreVersion at;
        {
          py::gil_scoped_release release;
          auto db = pool.borrow();
          roots = db->region_tree();
          at = db->last_version();
        }
        return maybe_versioned(py::cast(std::move(roots)), with_version, at);
      },
      py::arg("with_version") = false,
      "The region forest: RegionNode roots with their sub-regions and ports. "
      "with_version=True: (roots, token), as rates_json().");
}

}  // namespace

void bind_ports(DatabaseClass& db) {
  def_resolve(db);
  def_port(db);
  def_ports(db);
  def_region_tree(db);
}

}  // namespace prkl::python
