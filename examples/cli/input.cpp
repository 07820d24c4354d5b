// SPDX-License-Identifier: MIT
#include "input.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>
#include <zlib.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <ios>
#include <istream>
#include <memory>
#include <optional>
#include <streambuf>

namespace prkl_cli {
namespace {

// Reads a file descriptor, inflating it when it starts with gzip's magic bytes and passing it
// through unchanged otherwise, so one reader serves standard input whatever it holds. Members
// of a gzip file follow each other (as `cat a.gz b.gz` makes them); anything else after the
// last one is an error, not ignored as gzread() would. A read error (a truncated or corrupt
// stream, an I/O error) is kept and reported by finish(): a std::istream swallows exceptions
// thrown while it fills its buffer and would show the reader a clean end of file instead.
class ZlibInput : public std::streambuf {
 public:
  ZlibInput(int fd, std::string name) : fd_(fd), name_(std::move(name)) {
    if (inflateInit2(&stream_, 16 + MAX_WBITS) != Z_OK) {
      ::close(fd_);
      throw prkl::InvalidArgument(fmt::format("cannot read {}", prkl::quoted_value(name_)));
    }
  }
  ZlibInput(const ZlibInput&) = delete;
  ZlibInput& operator=(const ZlibInput&) = delete;
  ~ZlibInput() override {
    inflateEnd(&stream_);
    ::close(fd_);
  }

  // Throws what went wrong while reading, if anything did.
  void finish() const {
    if (!error_.empty()) {
      throw prkl::InvalidArgument(fmt::format("{}: {}", name_, error_));
    }
  }

 protected:
  int_type end() {
    if (!error_.empty()) throw std::ios_base::failure(error_);
    return traits_type::eof();
  }

  // A read error is thrown, so that the istream sets badbit and its reader stops as on a failed
  // read, never as at a clean end (a dump's load would commit what came before); finish() then
  // names the error.
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    if (!error_.empty()) throw std::ios_base::failure(error_);
    if (!started_ && !fill()) return end();  // the first bytes tell gzip or not
    const std::size_t got = gzip_ ? inflate_some() : read_some();
    if (got == 0) return end();
    setg(out_.data(), out_.data(), out_.data() + got);
    return traits_type::to_int_type(*gptr());
  }

 private:
  // Fills in_ if it is empty; false at the end of the file (or on an error, kept).
  bool fill() {
    if (stream_.avail_in > 0) return true;
    ssize_t got = 0;
    do {
      got = ::read(fd_, in_.data(), in_.size());
    } while (got < 0 && errno == EINTR);
    if (got < 0) error_ = std::strerror(errno);
    if (got <= 0) return false;
    if (!started_) {
      started_ = true;
      gzip_ = got >= 2 && static_cast<unsigned char>(in_[0]) == 0x1f &&
              static_cast<unsigned char>(in_[1]) == 0x8b;
    }
    stream_.next_in = reinterpret_cast<Bytef*>(in_.data());
    stream_.avail_in = unsigned(got);
    consumed_ += std::uint64_t(got);
    return true;
  }

  std::size_t read_some() {
    if (!fill()) return 0;
    const std::size_t got = stream_.avail_in;
    std::memcpy(out_.data(), stream_.next_in, got);
    stream_.avail_in = 0;
    return got;
  }

  std::size_t inflate_some() {
    stream_.next_out = reinterpret_cast<Bytef*>(out_.data());
    stream_.avail_out = unsigned(out_.size());
    while (stream_.avail_out == out_.size()) {
      if (!fill()) {
        if (error_.empty() && in_member_) error_ = "unexpected end of file";
        return out_.size() - stream_.avail_out;
      }
      if (!in_member_) {
        // Between members: another one, or the end. A lone byte could be a magic's first half.
        if (stream_.avail_in < 2 && !more_input()) {
          error_ = trailing();
          return 0;
        }
        if (stream_.next_in[0] != 0x1f || stream_.next_in[1] != 0x8b) {
          error_ = trailing();
          return 0;
        }
        inflateReset(&stream_);
        in_member_ = true;
      }
      const int status = inflate(&stream_, Z_NO_FLUSH);
      if (status == Z_STREAM_END) {
        in_member_ = false;
      } else if (status != Z_OK && status != Z_BUF_ERROR) {
        error_ = stream_.msg ? stream_.msg : "corrupt gzip data";
        return 0;
      }
    }
    return out_.size() - stream_.avail_out;
  }

  // Moves a lone leftover byte to the front and reads more after it; false when none came.
  bool more_input() {
    const unsigned char first = stream_.next_in[0];
    ssize_t got = 0;
    do {
      got = ::read(fd_, in_.data() + 1, in_.size() - 1);
    } while (got < 0 && errno == EINTR);
    if (got <= 0) return false;
    in_[0] = char(first);
    stream_.next_in = reinterpret_cast<Bytef*>(in_.data());
    stream_.avail_in = unsigned(got) + 1;
    consumed_ += std::uint64_t(got);
    return true;
  }

  std::string trailing() const {
    return fmt::format("data that is not gzip follows the compressed data, at byte {}",
                       consumed_ - stream_.avail_in + 1);
  }

  int fd_;
  std::string name_;
  std::string error_;
  z_stream stream_{};
  bool started_ = false, gzip_ = false, in_member_ = false;
  std::uint64_t consumed_ = 0;  // bytes read from fd_
  std::array<char, 1 << 16> in_{};
  std::array<char, 1 << 16> out_{};
};

// A file that starts with gzip's magic bytes. A file that cannot be opened is left to the
// library's own reader, which names what is wrong with it.
bool is_gzip(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  unsigned char magic[2] = {0, 0};
  const auto got = ::read(fd, magic, sizeof magic);
  ::close(fd);
  return got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

std::unique_ptr<ZlibInput> open_zlib(const std::string& path) {
  if (path == "-") {
    const int fd = ::dup(STDIN_FILENO);
    if (fd < 0) throw prkl::InvalidArgument("cannot read standard input");
    return std::make_unique<ZlibInput>(fd, input_name(path));
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw prkl::InvalidArgument(
        fmt::format("cannot read {}: {}", prkl::quoted_value(path), std::strerror(errno)));
  }
  return std::make_unique<ZlibInput>(fd, path);
}

// Runs `read`; a read error of the source comes first, as it explains whatever the reader then
// found wrong with data that stopped short.
template <typename Read>
auto finish(const ZlibInput& source, Read read) {
  try {
    auto result = read();
    source.finish();
    return result;
  } catch (const prkl::Error&) {
    source.finish();
    throw;
  }
}

}  // namespace

std::string input_name(const std::string& path) {
  return path == "-" ? "<stdin>" : path;
}

prkl::ImportSummary import_dump_input(prkl::Database& db, const std::string& path, bool replace,
                                      const prkl::Progress& progress) {
  if (path != "-" && !is_gzip(path)) return db.import_dump(path, replace, progress);
  const auto source = open_zlib(path);
  std::istream in(source.get());
  // The uncompressed size is not known ahead: progress counts bytes without a total.
  return finish(*source, [&] { return db.import_dump(in, replace, progress, 0); });
}

struct BatchInput::Source {
  std::unique_ptr<ZlibInput> zlib;  // standard input or a gzip file; else a plain file
  std::ifstream file;
  std::istream zlib_stream{nullptr};
  std::optional<prkl::BatchCsvReader> reader;
};

BatchInput::BatchInput(const std::string& path, std::int64_t max_rows)
    : source_(std::make_unique<Source>()) {
  Source& s = *source_;
  std::istream* in = &s.file;
  if (path != "-" && !is_gzip(path)) {
    s.file.open(path, std::ios::binary);
    if (!s.file) {
      throw prkl::InvalidArgument(
          fmt::format("cannot read batch file {}", prkl::quoted_value(path)));
    }
  } else {
    s.zlib = open_zlib(path);
    s.zlib_stream.rdbuf(s.zlib.get());
    in = &s.zlib_stream;
  }
  s.reader.emplace(*in, input_name(path), max_rows);
}

BatchInput::~BatchInput() = default;

bool BatchInput::next(std::vector<prkl::BatchRow>& rows, std::size_t most) {
  Source& s = *source_;
  const auto read = [&] { return s.reader->next(rows, most); };
  const bool more = s.zlib ? finish(*s.zlib, read) : read();
  for (const prkl::BatchRow& row : rows) lines_.push_back(row.source_line);
  return more;
}

std::vector<prkl::ExchangeRate> read_fx_input(const std::string& path, const std::string& day) {
  if (path != "-" && !day.empty()) {
    throw prkl::InvalidArgument(
        "--day is for rates read from standard input; a file's name "
        "gives its day");
  }
  if (path != "-" && !is_gzip(path)) return prkl::read_exchange_rates(path);
  if (path == "-" && day.empty()) {
    throw prkl::InvalidArgument("fx import -: give the day of the rates with --day YYYY-MM-DD");
  }
  // A compressed file is named for its day too: 2016-01-04.json.gz, or .json.
  std::string name = std::filesystem::path(path).filename().string();
  if (name.ends_with(".gz")) name.resize(name.size() - 3);
  const prkl::Date date = path == "-" ? prkl::parse_date(day, "--day")
                          : name.size() == 15 && name.ends_with(".json")
                              ? prkl::parse_date(std::string_view(name).substr(0, 10), path)
                              : throw prkl::InvalidArgument(
                                    fmt::format("{}: an exchange-rate file is named for its day, "
                                                "YYYY-MM-DD.json or YYYY-MM-DD.json.gz",
                                                prkl::quoted_value(path)));
  const auto source = open_zlib(path);
  std::istream in(source.get());
  return finish(*source, [&] { return prkl::read_exchange_rate_file(in, date, input_name(path)); });
}

}  // namespace prkl_cli
