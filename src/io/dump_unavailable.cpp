// SPDX-License-Identifier: MIT
// Reading dumps in a build without the dump reader (PRKL_WITH_DUMP=OFF, no libpg_query): each
// call says so.
#include <fmt/format.h>

#include "prkl/dump.hpp"
#include "prkl/error.hpp"

namespace prkl {

namespace {

[[noreturn]] void refuse() {
  throw InvalidArgument(
      "this build of prkl cannot read dumps (it was built with PRKL_WITH_DUMP=OFF); load the "
      "dump with psql into PostgreSQL and run 'prkl init' there, or rebuild with the reader");
}

}  // namespace

Dataset read_dump(std::istream&, const Progress&, std::int64_t) {
  refuse();
}

Dataset read_dump(const std::filesystem::path&, const Progress&) {
  refuse();
}

void read_dump(std::istream&, DumpSink&, const Progress&, std::int64_t) {
  refuse();
}

void read_dump(const std::filesystem::path&, DumpSink&, const Progress&) {
  refuse();
}

}  // namespace prkl
