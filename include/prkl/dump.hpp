// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Reading and writing plain-SQL PostgreSQL dumps of the ratestask shape.

#include <filesystem>
#include <iosfwd>
#include <span>
#include <string>

#include "prkl/export.hpp"

#include "prkl/model.hpp"
#include "prkl/store.hpp"

namespace prkl {

/// What read_dump() hands its rows to, in the file's order, as it reads them. `line` is the
/// dump line the row came from.
class PRKL_EXPORT DumpSink {
 public:
  virtual ~DumpSink() = default;
  virtual void region(Region region, std::int64_t line) = 0;
  virtual void port(Port port, std::int64_t line) = 0;
  virtual void price(Price price, std::int64_t line) = 0;
  /// `DELETE FROM prices WHERE day = ...`: the prices handed over so far on `day` are gone.
  virtual void remove_prices_on(Date day) = 0;
};

/// Reads a pg_dump plain-SQL file: `COPY [public.]ports|regions|prices (...) FROM stdin;` blocks
/// with pg_dump text escapes, in any order and with any column order. Statements are cut as
/// PostgreSQL cuts them and read by PostgreSQL's own parser (libpg_query). Statements that cannot
/// change rows (SET, CREATE, ALTER TABLE ... ADD CONSTRAINT, COMMENT, ...) are skipped. Data
/// statements are applied in order when they have one of the forms the ratestask dump uses:
/// `INSERT INTO table [(cols)] VALUES (...), ...;` and `DELETE FROM prices WHERE day = date'...';`.
/// Any other statement that could change data is an error naming its line, as is a malformed
/// row, a file without a COPY or INSERT into the three tables, and a pg_dump file without
/// pg_dump's closing comment. CRLF line ends, a byte order mark and psql's \restrict lines are
/// accepted. Rows are not checked against each other here; Database::load does that.
/// A build without the dump reader (PRKL_WITH_DUMP=OFF) throws InvalidArgument saying so.
PRKL_EXPORT Dataset read_dump(const std::filesystem::path& path, const Progress& progress = {});
PRKL_EXPORT Dataset read_dump(std::istream& in, const Progress& progress = {},
                              std::int64_t total_bytes = 0);
/// Reads a dump as above, handing each row to `sink` as it is read rather than holding them:
/// memory stays the same whatever the dump's size. On an error, `sink` has had the rows before it.
PRKL_EXPORT void read_dump(std::istream& in, DumpSink& sink, const Progress& progress = {},
                           std::int64_t total_bytes = 0);
/// Opens `path` for read_dump(), refusing a directory or a file that cannot be read.
PRKL_EXPORT void read_dump(const std::filesystem::path& path, DumpSink& sink,
                           const Progress& progress = {});

/// Writes `data` as a plain-SQL dump that read_dump() and PostgreSQL's psql both load. Contracts
/// have no place in it: a data set with any is refused (InvalidArgument) before a byte is written.
PRKL_EXPORT void write_dump(std::ostream& out, const Dataset& data);

/// A dump written as its prices come, for data sets larger than memory: the regions and ports
/// when made, then each block of prices as it is added, then the keys and references at
/// finish(). Without finish() the dump is incomplete (its prices' COPY is not ended). A price's
/// dimensions have no column in the ratestask shape and are not written.
class PRKL_EXPORT DumpWriter {
 public:
  DumpWriter(std::ostream& out, std::span<const Region> regions, std::span<const Port> ports);
  void add(std::span<const Price> prices);
  /// StorageError if the stream failed along the way.
  void finish();

 private:
  std::ostream& out_;
  std::string block_;
};

}  // namespace prkl
