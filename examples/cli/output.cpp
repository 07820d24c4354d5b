// SPDX-License-Identifier: MIT
#include "output.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <variant>

namespace prkl_cli {
namespace {

bool is_number(const prkl::FieldValue& value) {
  return std::holds_alternative<std::int64_t>(value) ||
         std::holds_alternative<prkl::Decimal>(value);
}

// A value as a table cell or a CSV field: null is "-" in a table and empty in CSV.
std::string plain_text(const prkl::FieldValue& value, std::string_view null_text) {
  struct Text {
    std::string_view null_text;
    std::string operator()(std::monostate) const { return std::string(null_text); }
    std::string operator()(std::int64_t v) const { return std::to_string(v); }
    std::string operator()(const prkl::Decimal& v) const { return v.to_string(); }
    std::string operator()(const std::string& v) const { return v; }
    std::string operator()(bool v) const { return v ? "true" : "false"; }
  };
  return std::visit(Text{null_text}, value);
}

// Columns line up by characters, not bytes: port names such as "Måløy" are UTF-8.
std::size_t display_width(std::string_view text) {
  return std::size_t(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

void append_padded(std::string& out, std::string_view text, std::size_t width, bool right) {
  const std::string padding(width - std::min(width, display_width(text)), ' ');
  if (right) out += padding;
  out += text;
  if (!right) out += padding;
}

std::string table(const std::vector<Record>& records, const std::vector<std::string>& columns) {
  std::vector<std::vector<std::string>> cells;
  std::vector<std::size_t> widths;
  for (const auto& column : columns) widths.push_back(display_width(column));
  std::vector<bool> right(columns.size(), false);
  for (const auto& record : records) {
    auto& row = cells.emplace_back();
    for (std::size_t i = 0; i < record.size() && i < columns.size(); ++i) {
      row.push_back(plain_text(record[i].value, "-"));
      widths[i] = std::max(widths[i], display_width(row.back()));
      if (is_number(record[i].value)) right[i] = true;
    }
  }
  std::string out;
  const auto append_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (i > 0) line += "  ";
      append_padded(line, row[i], widths[i], right[i]);
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out += line;
    out += '\n';
  };
  append_row(columns);
  for (const auto& row : cells) append_row(row);
  return out;
}

// RFC 4180's quoting: a field holding a comma, a quote or a line break is quoted, its quotes
// doubled. Lines end in \n, as psql's and DuckDB's CSV do, not in RFC 4180's \r\n.
void append_csv_field(std::string& out, const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) {
    out += text;
    return;
  }
  out += '"';
  for (const char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

std::string csv(const std::vector<Record>& records, const std::vector<std::string>& columns) {
  std::string out;
  const auto append_line = [&out](const auto& items, auto text_of) {
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i > 0) out += ',';
      append_csv_field(out, text_of(items[i]));
    }
    out += '\n';
  };
  append_line(columns, [](const std::string& name) { return name; });
  for (const auto& record : records) {
    append_line(record, [](const prkl::Field& field) { return plain_text(field.value, ""); });
  }
  return out;
}

}  // namespace

Format parse_format(std::string_view text, bool output_is_terminal) {
  if (text.empty()) return output_is_terminal ? Format::table : Format::json;
  if (text == "table") return Format::table;
  if (text == "json") return Format::json;
  if (text == "csv") return Format::csv;
  if (text == "ndjson") return Format::ndjson;
  throw prkl::InvalidArgument(
      fmt::format("--format {} is not table, json, csv or ndjson", prkl::quoted_value(text)));
}

std::string json_lines(const std::vector<std::string>& items, std::string_view indent) {
  if (items.empty()) return "[]";
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    fmt::format_to(std::back_inserter(out), "{}\n{}  {}", i > 0 ? "," : "", indent, items[i]);
  }
  fmt::format_to(std::back_inserter(out), "\n{}]", indent);
  return out;
}

std::string render(const std::vector<Record>& records, const std::vector<std::string>& columns,
                   Format format) {
  switch (format) {
    case Format::table:
      return table(records, columns);
    case Format::csv:
      return csv(records, columns);
    case Format::ndjson: {
      std::string out;
      for (const auto& record : records) {
        prkl::append_json(out, record);
        out += '\n';
      }
      return out;
    }
    case Format::json: {
      std::vector<std::string> items;
      for (const auto& record : records) prkl::append_json(items.emplace_back(), record);
      return json_lines(items, "") + "\n";
    }
  }
  return {};
}

namespace {

[[noreturn]] void cannot_write(const std::string& path, std::string_view what, int error) {
  throw prkl::InvalidArgument(fmt::format("cannot write {}: {}{}{}", prkl::quoted_value(path), what,
                                          error ? ": " : "", error ? std::strerror(error) : ""));
}

bool write_all(int fd, std::string_view text) {
  for (std::size_t done = 0; done < text.size();) {
    const auto wrote = ::write(fd, text.data() + done, text.size() - done);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) return false;
    done += std::size_t(wrote);
  }
  return true;
}

// Hands `produce` a writer of pieces to `fd` (which is `path`): the first piece that cannot be
// written throws, so a full disk stops the producer rather than let it make the rest.
void write_pieces(int fd, const std::string& path, const OutputProducer& produce) {
  produce([&](std::string_view piece) {
    if (!write_all(fd, piece)) cannot_write(path, "writing", errno);
  });
}

// A device, a FIFO or a terminal is written to as it is, as a shell's `>` would: renaming a
// file over it would replace the device node itself.
void write_through(const std::string& path, const OutputProducer& produce) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) cannot_write(path, "opening it", errno);
  try {
    write_pieces(fd, path, produce);
  } catch (...) {
    ::close(fd);
    throw;
  }
  if (::close(fd) != 0) cannot_write(path, "writing", errno);
}

// A regular file (or none yet) is replaced whole: the pieces go into a temporary file beside it,
// flushed to disk and renamed over it, so a failure (of the disk, or of whatever produces them)
// leaves the file as it was. `replace` is false when no file was there: then the rename fails
// rather than replace whatever appeared since.
void replace_file(const std::string& path, bool replace, const OutputProducer& produce) {
  const std::filesystem::path target(path);
  std::string name = ".";
  name += target.filename().string();
  name += ".prkl-XXXXXX";
  std::string temporary = (target.parent_path() / name).string();
  const int fd = ::mkstemp(temporary.data());
  if (fd < 0) cannot_write(path, "creating a temporary file beside it", errno);
  // mkstemp makes the file private; the answer gets the mode any new file would.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  bool written = false;
  try {
    if (::fchmod(fd, 0666 & ~mask) != 0) cannot_write(path, "writing", errno);
    write_pieces(fd, path, produce);
    written = ::fsync(fd) == 0;
  } catch (...) {
    ::close(fd);
    ::unlink(temporary.c_str());
    throw;
  }
  int error = errno;
  if (::close(fd) != 0 && written) written = false, error = errno;
  const int renamed = written ? ::renameat2(AT_FDCWD, temporary.c_str(), AT_FDCWD, path.c_str(),
                                            replace ? 0 : RENAME_NOREPLACE)
                              : -1;
  if (renamed != 0) {
    if (written) error = errno;
    ::unlink(temporary.c_str());
    cannot_write(path, written ? "renaming the temporary file over it" : "writing", error);
  }
}

}  // namespace

void write_output(const std::string& text, const std::string& path) {
  write_output(path, [&](const OutputWriter& write) { write(text); });
}

void write_output(const std::string& path, const OutputProducer& produce) {
  if (path.empty() || path == "-") {
    produce([](std::string_view piece) {
      if (std::fwrite(piece.data(), 1, piece.size(), stdout) != piece.size()) {
        cannot_write("-", "standard output", errno);
      }
    });
    if (std::fflush(stdout)) cannot_write("-", "standard output", errno);
    return;
  }
  // A symbolic link is followed to what it names, as `>` does, even when that does not exist
  // yet: the link stays a link. As many links as the kernel follows, and no more.
  std::filesystem::path resolved = path;
  struct stat st {};
  for (int links = 0; ::lstat(resolved.c_str(), &st) == 0 && S_ISLNK(st.st_mode); ++links) {
    std::error_code failed;
    const auto target = std::filesystem::read_symlink(resolved, failed);
    if (failed) cannot_write(path, "following the link", failed.value());
    if (links == 40) cannot_write(path, "following the link", ELOOP);
    resolved = resolved.parent_path() / target;
  }
  if (::stat(resolved.c_str(), &st) != 0) {
    if (errno != ENOENT) cannot_write(path, "looking at it", errno);
    replace_file(resolved.string(), false, produce);
  } else if (S_ISREG(st.st_mode)) {
    replace_file(resolved.string(), true, produce);
  } else if (S_ISDIR(st.st_mode)) {
    cannot_write(path, "it is a directory", 0);
  } else {
    write_through(resolved.string(), produce);
  }
}

OutputStream::Buffer::Buffer(const OutputWriter& write) : write_(write), buffer_(1 << 20, '\0') {
  setp(buffer_.data(), buffer_.data() + buffer_.size());
}

int OutputStream::Buffer::sync() {
  const auto used = std::size_t(pptr() - pbase());
  if (used > 0) write_(std::string_view(pbase(), used));
  setp(buffer_.data(), buffer_.data() + buffer_.size());
  return 0;
}

OutputStream::Buffer::int_type OutputStream::Buffer::overflow(int_type c) {
  sync();
  if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
  *pptr() = traits_type::to_char_type(c);
  pbump(1);
  return c;
}

OutputStream::OutputStream(const OutputWriter& write) : std::ostream(nullptr), buffer_(write) {
  rdbuf(&buffer_);
  // The writer's own error (a full disk, a closed pipe) reaches the caller as it is.
  exceptions(std::ios::badbit);
}

void refuse_output_onto_input(const std::string& output, const std::string& input) {
  struct stat out {};
  if (output.empty() || output == "-" || ::stat(output.c_str(), &out) != 0) return;
  // Only a regular file can be read back: a device or a FIFO written to destroys nothing.
  if (!S_ISREG(out.st_mode)) return;
  const auto same = [&out](const struct stat& in) {
    return in.st_dev == out.st_dev && in.st_ino == out.st_ino;
  };
  const auto refuse = [&](const std::string& what) {
    throw prkl::InvalidArgument(
        fmt::format("-o {} is {}, which this command reads", prkl::quoted_value(output), what));
  };
  struct stat in {};
  if (input == "-") {
    if (::fstat(STDIN_FILENO, &in) == 0 && same(in)) refuse("standard input");
    return;
  }
  if (::stat(input.c_str(), &in) != 0) return;  // the reader names what is wrong with it
  if (same(in)) refuse(fmt::format("the input {}", prkl::quoted_value(input)));
  if (!S_ISDIR(in.st_mode)) return;
  std::error_code failed;
  for (const auto& entry : std::filesystem::directory_iterator(input, failed)) {
    if (::stat(entry.path().c_str(), &in) == 0 && same(in)) {
      refuse(fmt::format("the input {}", prkl::quoted_value(entry.path().string())));
    }
  }
}

}  // namespace prkl_cli
