// SPDX-License-Identifier: MIT
#pragma once
// What the commands print: records (a value's fields, from prkl::fields()) rendered as a table,
// JSON, CSV or newline-delimited JSON, and written to standard output or, atomically, to a file.

#include <functional>
#include <ostream>
#include <prkl/json.hpp>
#include <streambuf>
#include <string>
#include <string_view>
#include <vector>

namespace prkl_cli {

enum class Format { table, json, csv, ndjson };

// "table", "json", "csv" or "ndjson"; an empty text picks table when the output is a terminal
// and JSON otherwise.
Format parse_format(std::string_view text, bool output_is_terminal);

using Record = std::vector<prkl::Field>;

// `records` in `format`. Every record has the same fields; `columns` names them for a CSV header
// or a table when there are no records. JSON is an array of objects, one per line.
std::string render(const std::vector<Record>& records, const std::vector<std::string>& columns,
                   Format format);

// A JSON array of `items`, already JSON text, one per line at `indent`.
std::string json_lines(const std::vector<std::string>& items, std::string_view indent);

// Writes `text` to standard output or to `path`. A regular file is replaced atomically: the text
// goes into a temporary file beside it, flushed to disk and renamed over it, so a reader never
// sees half an answer and a failed command leaves whatever was there before. A symbolic link is
// followed; a device or a FIFO is written to, never replaced; a directory is refused.
void write_output(const std::string& text, const std::string& path);
// Writes an output given a piece at a time, with the same rules as above: `produce` is called
// once with a writer of pieces, so what is written never needs to be held whole.
using OutputWriter = std::function<void(std::string_view piece)>;
using OutputProducer = std::function<void(const OutputWriter& write)>;
void write_output(const std::string& path, const OutputProducer& produce);

// An ostream whose bytes go to an OutputWriter in pieces of up to 1 MiB; flush() hands over
// the rest (nothing does on destruction, where a writer's error could not be thrown).
class OutputStream final : public std::ostream {
 public:
  explicit OutputStream(const OutputWriter& write);

 private:
  class Buffer final : public std::streambuf {
   public:
    explicit Buffer(const OutputWriter& write);
    int sync() override;

   protected:
    int_type overflow(int_type c) override;

   private:
    const OutputWriter& write_;
    std::string buffer_;
  };
  Buffer buffer_;
};

// Throws InvalidArgument when `output` is the same file as `input` ("-" for standard input; a
// directory's files each count): the command would destroy what it reads. Same file means same
// device and inode, whatever the paths spell.
void refuse_output_onto_input(const std::string& output, const std::string& input);

}  // namespace prkl_cli
