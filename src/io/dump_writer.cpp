// SPDX-License-Identifier: MIT
// Writing a data set as a plain-SQL dump in the ratestask dump's shape, a block of rows at a time.
#include <fmt/format.h>

#include <ostream>
#include <string>

#include "io/copy_text.hpp"
#include "prkl/dump.hpp"
#include "prkl/error.hpp"
#include "storage/ratestask.hpp"

namespace prkl {

namespace ratestask = detail::ratestask;

void write_dump(std::ostream& out, const Dataset& data) {
  // The ratestask shape has no table for them: they would be lost without a word.
  if (!data.contracts.empty()) {
    throw InvalidArgument(fmt::format(
        "the data set has {} contracts, which a ratestask dump cannot hold; load it into a store",
        data.contracts.size()));
  }
  out << "--\n-- prkl data set, plain SQL in the shape of the ratestask dump\n--\n\n"
         "SET client_encoding = 'UTF8';\nSET standard_conforming_strings = on;\n\n";
  for (const auto& table : ratestask::tables) {
    out << ratestask::create_table(table, ratestask::Dialect::pg_dump) << ";\n\n";
  }
  // Rows go out in blocks, so a large data set is not held twice in memory.
  const auto copy_block = [&out](const ratestask::Table& table, const auto& rows) {
    out << fmt::format("COPY {} ({}) FROM stdin;\n", table.name, ratestask::column_list(table));
    std::string block;
    for (const auto& row : rows) {
      detail::append_copy_row(block, row);
      if (block.size() >= (1 << 20)) {
        out << block;
        block.clear();
      }
    }
    out << block << "\\.\n\n\n";
  };
  copy_block(ratestask::regions, data.regions);
  copy_block(ratestask::ports, data.ports);
  copy_block(ratestask::prices, data.prices);
  out << ratestask::dump_constraints();
  if (!out) throw StorageError("writing the dump failed");
}

}  // namespace prkl
