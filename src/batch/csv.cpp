// SPDX-License-Identifier: MIT
// Reading a batch's rows from CSV (libcsv), line by line and within the size limits.
#include <csv.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>

#include "prkl/batch.hpp"
#include "prkl/error.hpp"

namespace prkl {

std::string BatchRow::*batch_field(std::string_view name) {
  // The aliases are the names the ratestask and operations-task APIs used.
  static constexpr std::pair<std::string_view, std::string BatchRow::*> fields[] = {
      {"origin", &BatchRow::origin},
      {"orig_code", &BatchRow::origin},
      {"origin_code", &BatchRow::origin},
      {"destination", &BatchRow::destination},
      {"dest_code", &BatchRow::destination},
      {"destination_code", &BatchRow::destination},
      {"day", &BatchRow::day},
      {"date_from", &BatchRow::date_from},
      {"date_to", &BatchRow::date_to},
      {"price", &BatchRow::price},
      {"currency", &BatchRow::currency},
      {"equipment", &BatchRow::equipment},
      {"term", &BatchRow::term},
      {"received", &BatchRow::received},
      {"valid_from", &BatchRow::valid_from},
      {"valid_to", &BatchRow::valid_to},
  };
  for (const auto& [field_name, member] : fields) {
    if (field_name == name) return member;
  }
  return nullptr;
}

namespace {

// No field of a batch needs more; a longer one is a broken file, refused before libcsv (which
// grows its buffer a block at a time) has gathered much of it.
constexpr std::size_t max_field_bytes = 4096;

struct CsvReader {
  std::string path;
  std::vector<std::string BatchRow::*> fields;  // by column position, from the header
  std::vector<std::string> header;
  std::vector<BatchRow> rows;  // read, not yet handed over
  std::int64_t max_rows = 0;
  std::int64_t total_rows = 0;  // read, handed over or not
  BatchRow current;
  std::size_t column = 0;
  std::int64_t records = 0;      // records seen, header included
  std::int64_t line = 1;         // the physical line being read
  std::int64_t record_line = 1;  // the physical line the current record began on
  std::optional<std::string> error;

  // How a message names a field: by its header column once the header is read.
  std::string field_name(std::size_t at) const {
    if (records > 0 && at < header.size()) return fmt::format("field {}", quoted_value(header[at]));
    return fmt::format("{} field {}", records == 0 ? "header" : "the", at + 1);
  }

  std::string too_long(std::size_t at) const {
    return fmt::format("{}: line {}: {} is longer than {} bytes; no batch field needs that many",
                       path, record_line, field_name(at), max_field_bytes);
  }

  void on_field(std::string_view value) {
    if (error) return;
    if (value.size() > max_field_bytes) {
      error = too_long(column);
    } else if (records == 0) {
      header.emplace_back(value);
    } else if (column < fields.size()) {
      current.*fields[column] = std::string(value);
    } else if (!(value.empty() && column == fields.size())) {
      error = fmt::format("{}: line {}: more fields than the header's {}", path, record_line,
                          fields.size());
    }
    ++column;
  }

  // libcsv's callbacks.
  static void field(void* data, std::size_t size, void* self) {
    static_cast<CsvReader*>(self)->on_field(
        std::string_view(static_cast<const char*>(data), data ? size : 0));
  }
  static void record_end(int, void* self) { static_cast<CsvReader*>(self)->on_record_end(); }

  void on_record_end() {
    if (error) return;
    if (records == 0) {
      take_header();
    } else if (column == 1 && current.origin.empty() && current.destination.empty() &&
               current.price.empty() && current.day.empty() && current.date_from.empty() &&
               current.valid_from.empty()) {
      // A blank line carries no row.
    } else if (total_rows == max_rows) {
      error = fmt::format(
          "{}: more than {} rows (line {} is one too many); a batch holds at most "
          "Options::max_batch_prices prices: split it",
          path, max_rows, record_line);
    } else {
      current.source_line = record_line;
      rows.push_back(std::move(current));
      ++total_rows;
    }
    current = BatchRow{};
    column = 0;
    ++records;
  }

  void take_header() {
    // Member pointers have no ordering, so the few columns are kept in a plain list.
    std::vector<std::pair<std::string BatchRow::*, std::string>> seen;
    const auto has = [&seen](std::string BatchRow::*member) {
      return std::any_of(seen.begin(), seen.end(),
                         [member](const auto& s) { return s.first == member; });
    };
    if (!header.empty() && header[0].starts_with("\xEF\xBB\xBF")) header[0].erase(0, 3);  // BOM
    for (const std::string& name : header) {
      const auto member = batch_field(name);
      if (!member) {
        error = fmt::format(
            "{}: unknown column {} in the header (expected origin, destination, price and day, "
            "date_from and date_to, or valid_from and valid_to)",
            path, quoted_value(name));
        return;
      }
      for (const auto& [earlier_member, earlier] : seen) {
        if (earlier_member == member) {
          error = fmt::format("{}: columns '{}' and '{}' name the same field", path, earlier, name);
          return;
        }
      }
      seen.emplace_back(member, name);
      fields.push_back(member);
    }
    const bool has_day = has(&BatchRow::day);
    const bool has_range = has(&BatchRow::date_from) || has(&BatchRow::date_to) ||
                           has(&BatchRow::valid_from) || has(&BatchRow::valid_to);
    for (auto [member, name] :
         {std::pair{&BatchRow::origin, "origin"}, std::pair{&BatchRow::destination, "destination"},
          std::pair{&BatchRow::price, "price"}}) {
      if (!has(member)) {
        error = fmt::format("{}: the header has no '{}' column", path, name);
        return;
      }
    }
    if (!has_day && !has_range) {
      error = fmt::format(
          "{}: the header has neither 'day' nor 'date_from'/'date_to' nor 'valid_from'/'valid_to'",
          path);
    }
  }
};

}  // namespace

std::vector<BatchRow> read_batch_csv(const std::filesystem::path& path, std::int64_t max_rows) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw InvalidArgument(fmt::format("cannot read batch file {}", quoted_value(path.string())));
  }
  return read_batch_csv(in, path.string(), max_rows);
}

std::vector<BatchRow> read_batch_csv(std::istream& in, std::string_view name,
                                     std::int64_t max_rows) {
  BatchCsvReader reader(in, name, max_rows);
  std::vector<BatchRow> rows, chunk;
  while (reader.next(chunk, 1 << 16))
    std::move(chunk.begin(), chunk.end(), std::back_inserter(rows));
  return rows;
}

struct BatchCsvReader::State {
  explicit State(std::istream& input) : in(input) {}
  ~State() { csv_free(&parser); }
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  // Feeds the parser the next piece of the input; false once the input is read to its end.
  bool feed();
  void finish();

  std::istream& in;
  csv_parser parser{};
  int between_records = 0;
  CsvReader reader;
  std::vector<char> buffer = std::vector<char>(1 << 16);
  std::size_t at = 0, got = 0;
  bool done = false;
};

BatchCsvReader::BatchCsvReader(std::istream& in, std::string_view name, std::int64_t max_rows)
    : state_(std::make_unique<State>(in)) {
  State& s = *state_;
  if (csv_init(&s.parser, CSV_STRICT | CSV_STRICT_FINI) != 0) throw std::bad_alloc();
  // libcsv's default 128-byte blocks would take a field's buffer to its size in many copies.
  csv_set_blk_size(&s.parser, 2 * max_field_bytes);
  // The state csv_init() leaves: between records. A record begins on the line being fed when
  // the parser is in it as the line (or the line's next piece) starts.
  s.between_records = s.parser.pstate;
  s.reader.path = std::string(name);
  s.reader.max_rows = max_rows;
}

BatchCsvReader::~BatchCsvReader() = default;

// Fed a line at a time, so that the reader knows the physical line (quoted fields may span
// several), and in pieces of at most max_field_bytes, so that a field too long is caught by the
// size of libcsv's buffer before it grows much beyond the limit.
bool BatchCsvReader::State::feed() {
  if (at == got) {
    if (!in) return false;
    in.read(buffer.data(), std::streamsize(buffer.size()));
    got = std::size_t(in.gcount());
    at = 0;
    if (got == 0) return bool(in);
  }
  const char* piece = buffer.data() + at;
  std::size_t size = std::min(got - at, max_field_bytes);
  const void* newline = std::memchr(piece, '\n', size);
  if (newline) size = std::size_t(static_cast<const char*>(newline) - piece) + 1;
  if (parser.pstate == between_records) reader.record_line = reader.line;
  if (csv_parse(&parser, piece, size, CsvReader::field, CsvReader::record_end, &reader) != size) {
    throw InvalidArgument(fmt::format("{}: malformed CSV on line {}: {}", reader.path, reader.line,
                                      csv_strerror(csv_error(&parser))));
  }
  if (reader.error) throw InvalidArgument(*reader.error);
  if (parser.entry_pos > max_field_bytes) throw InvalidArgument(reader.too_long(reader.column));
  if (newline) ++reader.line;
  at += size;
  return true;
}

void BatchCsvReader::State::finish() {
  if (csv_fini(&parser, CsvReader::field, CsvReader::record_end, &reader) != 0) {
    throw InvalidArgument(
        fmt::format("{}: malformed CSV at the end of the file (the record from "
                    "line {} is not finished): {}",
                    reader.path, reader.record_line, csv_strerror(csv_error(&parser))));
  }
  if (reader.error) throw InvalidArgument(*reader.error);
  if (reader.records == 0) {
    throw InvalidArgument(fmt::format("{}: the file is empty", reader.path));
  }
}

bool BatchCsvReader::next(std::vector<BatchRow>& rows, std::size_t most) {
  State& s = *state_;
  rows.clear();
  std::vector<BatchRow>& read = s.reader.rows;
  while (!s.done && read.size() < most) {
    if (!s.feed()) {
      s.done = true;
      s.finish();
    }
  }
  const auto taken = std::ptrdiff_t(std::min(most, read.size()));
  std::move(read.begin(), read.begin() + taken, std::back_inserter(rows));
  read.erase(read.begin(), read.begin() + taken);
  return !rows.empty();
}

}  // namespace prkl
