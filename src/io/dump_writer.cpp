// SPDX-License-Identifier: MIT
// Writing a data set as a plain-SQL dump in the ratestask dump's shape, a block of rows at a time.
#include <fmt/format.h>

#include <ostream>
#include <span>
#include <string>

#include "io/copy_text.hpp"
#include "prkl/dump.hpp"
#include "prkl/error.hpp"
#include "storage/ratestask.hpp"

namespace prkl {

namespace ratestask = detail::ratestask;

namespace {

// Rows go out in blocks of about this many bytes, so a data set is not held twice in memory.
constexpr std::size_t block_bytes = 1 << 20;

template <typename Row>
void copy_block(std::ostream& out, const ratestask::Table& table, std::span<const Row> rows) {
  out << fmt::format("COPY {} ({}) FROM stdin;\n", table.name, ratestask::column_list(table));
  std::string block;
  for (const Row& row : rows) {
    detail::append_copy_row(block, row);
    if (block.size() >= block_bytes) {
      out << block;
      block.clear();
    }
  }
  out << block << "\\.\n\n\n";
}

}  // namespace

DumpWriter::DumpWriter(std::ostream& out, std::span<const Region> regions,
                       std::span<const Port> ports)
    : out_(out) {
  out_ << "--\n-- prkl data set, plain SQL in the shape of the ratestask dump\n--\n\n"
          "SET client_encoding = 'UTF8';\nSET standard_conforming_strings = on;\n\n";
  for (const auto& table : ratestask::tables) {
    out_ << ratestask::create_table(table, ratestask::Dialect::pg_dump) << ";\n\n";
  }
  copy_block(out_, ratestask::regions, regions);
  copy_block(out_, ratestask::ports, ports);
  out_ << fmt::format("COPY {} ({}) FROM stdin;\n", ratestask::prices.name,
                      ratestask::column_list(ratestask::prices));
}

void DumpWriter::add(std::span<const Price> prices) {
  for (const Price& price : prices) {
    detail::append_copy_row(block_, price);
    if (block_.size() >= block_bytes) {
      out_ << block_;
      block_.clear();
    }
  }
}

void DumpWriter::finish() {
  out_ << block_ << "\\.\n\n\n" << ratestask::dump_constraints();
  block_.clear();
  if (!out_) throw StorageError("writing the dump failed");
}

void write_dump(std::ostream& out, const Dataset& data) {
  // The ratestask shape has no table for them: they would be lost without a word.
  if (!data.contracts.empty()) {
    throw InvalidArgument(fmt::format(
        "the data set has {} contracts, which a ratestask dump cannot hold; load it into a store",
        data.contracts.size()));
  }
  DumpWriter writer(out, data.regions, data.ports);
  writer.add(data.prices);
  writer.finish();
}

}  // namespace prkl
