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
#include <istream>
#include <memory>
#include <streambuf>

namespace prkl_cli {
namespace {

// Reads through zlib, which inflates gzip data and passes anything else through unchanged, so
// one reader serves standard input whatever it holds. A read error (a truncated or corrupt gzip
// stream, an I/O error) is kept and reported by finish(): a std::istream swallows exceptions
// thrown while it fills its buffer and would show the reader a clean end of file instead.
class ZlibInput : public std::streambuf {
 public:
  ZlibInput(int fd, std::string name) : name_(std::move(name)) {
    file_ = gzdopen(fd, "rb");
    if (file_ == nullptr) {
      ::close(fd);
      throw prkl::InvalidArgument(fmt::format("cannot read {}", prkl::quoted_value(name_)));
    }
    gzbuffer(file_, 1 << 17);
  }
  ZlibInput(const ZlibInput&) = delete;
  ZlibInput& operator=(const ZlibInput&) = delete;
  ~ZlibInput() override { gzclose(file_); }

  // Throws what went wrong while reading, if anything did.
  void finish() const {
    if (!error_.empty()) {
      throw prkl::InvalidArgument(fmt::format("{}: {}", name_, error_));
    }
  }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    if (!error_.empty()) return traits_type::eof();
    const int got = gzread(file_, buffer_.data(), unsigned(buffer_.size()));
    if (got < 0) {
      int code = Z_OK;
      const char* message = gzerror(file_, &code);
      error_ = code == Z_ERRNO ? std::strerror(errno) : without_path(message);
      return traits_type::eof();
    }
    if (got == 0) {
      // zlib reports a gzip stream cut short at its end as the end of the data, with an error.
      int code = Z_OK;
      const char* message = gzerror(file_, &code);
      if (code != Z_OK) error_ = without_path(message);
      return traits_type::eof();
    }
    setg(buffer_.data(), buffer_.data(), buffer_.data() + got);
    return traits_type::to_int_type(*gptr());
  }

 private:
  // zlib's messages start with the name it knows the file by, "<fd:3>: ", which means nothing to
  // the user; the message names the file as the user did.
  static std::string without_path(std::string_view message) {
    const auto colon = message.find(": ");
    return std::string(colon == std::string_view::npos ? message : message.substr(colon + 2));
  }

  gzFile file_ = nullptr;
  std::string name_;
  std::string error_;
  std::array<char, 1 << 16> buffer_{};
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

prkl::Dataset read_dump_input(const std::string& path, const prkl::Progress& progress) {
  if (path != "-" && !is_gzip(path)) return prkl::read_dump(path, progress);
  const auto source = open_zlib(path);
  std::istream in(source.get());
  // The uncompressed size is not known ahead, so progress shows only once the reader is done.
  return finish(*source, [&] { return prkl::read_dump(in, progress, 0); });
}

std::vector<prkl::BatchRow> read_batch_input(const std::string& path, std::int64_t max_rows) {
  if (path != "-" && !is_gzip(path)) return prkl::read_batch_csv(path, max_rows);
  const auto source = open_zlib(path);
  std::istream in(source.get());
  return finish(*source, [&] { return prkl::read_batch_csv(in, input_name(path), max_rows); });
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
