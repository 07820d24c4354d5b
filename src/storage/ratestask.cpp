// SPDX-License-Identifier: MIT
// The SQL made from the one description of the ratestask tables.
#include "storage/ratestask.hpp"

#include <fmt/format.h>

#include "prkl/model.hpp"

namespace prkl::detail::ratestask {

std::string create_contracts(Dialect dialect) {
  std::string out = create_table(contracts, dialect);
  out.pop_back();
  const std::string days = dialect == Dialect::sqlite
                               ? "julianday(valid_to) - julianday(valid_from)"
                               : "valid_to - valid_from";
  fmt::format_to(std::back_inserter(out),
                 ",{}CHECK (valid_to >= valid_from AND {} < {}),{}CHECK (price > 0));\n"
                 "CREATE INDEX prkl_contracts_lane ON prkl_contracts (orig_code, dest_code, "
                 "valid_from)",
                 dialect == Dialect::sqlite ? "\n  " : " ", days, max_contract_days,
                 dialect == Dialect::sqlite ? "\n  " : " ");
  return out;
}

std::string dump_constraints() {
  std::string out;
  for (const Table& table : tables) {
    if (table.key.empty()) continue;
    fmt::format_to(std::back_inserter(out),
                   "ALTER TABLE ONLY {0}\n    ADD CONSTRAINT {0}_pkey PRIMARY KEY ({1});\n\n",
                   table.name, table.key);
  }
  for (const Table& table : tables) {
    for (const Column& column : table.columns) {
      if (column.references.empty()) continue;
      fmt::format_to(std::back_inserter(out),
                     "ALTER TABLE ONLY {0}\n    ADD CONSTRAINT {0}_{1}_fkey FOREIGN KEY ({1}) "
                     "REFERENCES {2};\n\n",
                     table.name, column.name, column.references);
    }
  }
  return out;
}

}  // namespace prkl::detail::ratestask
