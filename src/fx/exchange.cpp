// SPDX-License-Identifier: MIT
// Exchange rates: reading their files, formatting and checking them before they are stored.
#include "prkl/exchange.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "fx/exchange_detail.hpp"
#include "prkl/error.hpp"

namespace prkl {

bool is_currency_code(std::string_view code) noexcept {
  return code.size() == 3 &&
         std::all_of(code.begin(), code.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

std::string format_rate(std::int64_t units) {
  std::string text = Decimal{units, exchange_rate_scale}.to_string();
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text;
}

std::int64_t parse_rate(std::string_view text, std::string_view what) {
  const auto bad = [&](std::string_view why) {
    return InvalidArgument(fmt::format("{}: rate {} {}", what, quoted_value(text), why));
  };
  // Digits and a decimal point, then an optional exponent: a JSON number, read as the decimal
  // it spells rather than the double nearest to it.
  std::string digits;
  int point_shift = 0;  // fraction digits seen
  std::size_t at = 0;
  bool seen_point = false, seen_digit = false;
  if (at < text.size() && text[at] == '-') throw bad("is not above 0");
  for (; at < text.size(); ++at) {
    const char c = text[at];
    if (c >= '0' && c <= '9') {
      seen_digit = true;
      if (!(digits.empty() && c == '0')) digits += c;
      if (seen_point) ++point_shift;
    } else if (c == '.' && !seen_point) {
      seen_point = true;
    } else {
      break;
    }
  }
  if (!seen_digit) throw bad("is not a number");
  long exponent = 0;
  if (at < text.size() && (text[at] == 'e' || text[at] == 'E')) {
    ++at;
    if (at < text.size() && text[at] == '+') ++at;
    const auto [end, error] =
        std::from_chars(text.data() + at, text.data() + text.size(), exponent);
    if (error != std::errc{} || end == text.data() + at) throw bad("is not a number");
    at = std::size_t(end - text.data());
  }
  if (at != text.size()) throw bad("is not a number");
  if (digits.empty()) throw bad("is not above 0");
  if (exponent < -1000 || exponent > 1000) throw bad("is out of range");
  // value = digits * 10^(exponent - point_shift); units = value * 10^scale.
  long shift = exponent - point_shift + exchange_rate_scale;
  while (shift < 0 && digits.size() > 1 && digits.back() == '0') {
    digits.pop_back();
    ++shift;
  }
  if (shift < 0) {
    throw bad(fmt::format("has more than {} fraction digits", exchange_rate_scale));
  }
  // Units must fit in 64 bits: rates up to 9,223,372 per USD (the bolívar's were in the
  // millions).
  const auto too_large = [&] { return bad("is too large (at most 9223372 per USD)"); };
  if (long(digits.size()) + shift > 19) throw too_large();
  std::int64_t units = 0;
  if (std::from_chars(digits.data(), digits.data() + digits.size(), units).ec != std::errc{}) {
    throw too_large();
  }
  for (long i = 0; i < shift; ++i) {
    if (units > std::numeric_limits<std::int64_t>::max() / 10) throw too_large();
    units *= 10;
  }
  return units;
}

namespace {

// Keeps every number's text as written: nlohmann's SAX interface hands over the characters of
// a float along with the double, and the double is not used.
class RateFileReader final : public nlohmann::json_sax<nlohmann::json> {
 public:
  RateFileReader(std::string path, Date day) : path_(std::move(path)), day_(day) {}

  bool null() override { return value("null"); }
  bool boolean(bool) override { return value("a boolean"); }
  bool number_integer(number_integer_t v) override { return number(std::to_string(v)); }
  bool number_unsigned(number_unsigned_t v) override { return number(std::to_string(v)); }
  bool number_float(number_float_t, const string_t& text) override { return number(text); }
  bool string(string_t& v) override {
    if (depth_ == 1 && key_ == "base") {
      if (v != "USD") fail(fmt::format("base is {}, not USD", quoted_value(v)));
      base_seen_ = true;
      return true;
    }
    return value("a string");
  }
  bool binary(binary_t&) override { return value("binary data"); }
  bool start_object(std::size_t) override {
    ++depth_;
    if (depth_ == 1) return true;
    if (depth_ == 2 && key_ == "rates") {
      in_rates_ = true;
      rates_seen_ = true;
      return true;
    }
    if (depth_ > 2)
      fail(fmt::format("key {} holds an object, not a number", quoted_value("rates." + key_)));
    return true;  // other top-level objects (a license note, say) are not ours to judge
  }
  bool end_object() override {
    if (depth_ == 2) in_rates_ = false;
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    ++depth_;
    if (in_rates_)
      fail(fmt::format("key {} holds an array, not a number", quoted_value("rates." + key_)));
    return true;
  }
  bool end_array() override {
    --depth_;
    return true;
  }
  bool key(string_t& k) override {
    key_ = k;
    return true;
  }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& e) override {
    throw InvalidArgument(
        fmt::format("{}: malformed JSON at byte {}: {}", path_, position, e.what()));
  }

  std::vector<ExchangeRate> finish() {
    if (!rates_seen_) fail("no 'rates' object");
    if (!base_seen_) fail("no 'base' key (it must be \"USD\")");
    return std::move(rates_);
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw InvalidArgument(fmt::format("{}: {}", path_, why));
  }
  bool value(std::string_view what) {
    if (in_rates_)
      fail(fmt::format("key {} holds {}, not a number", quoted_value("rates." + key_), what));
    if (depth_ == 1 && key_ == "base") fail(fmt::format("key 'base' holds {}, not \"USD\"", what));
    return true;
  }
  bool number(const std::string& text) {
    if (depth_ == 1 && key_ == "base") fail("key 'base' holds a number, not \"USD\"");
    if (!in_rates_) return true;  // "timestamp" and the like
    const std::string where = fmt::format("{}: key {}", path_, quoted_value("rates." + key_));
    if (!is_currency_code(key_)) {
      throw InvalidArgument(fmt::format("{}: {} is not a currency code (three capital letters)",
                                        where, quoted_value(key_)));
    }
    const std::int64_t units = parse_rate(text, where);
    if (key_ == base_currency) {
      if (units != 1'000'000'000'000) fail(fmt::format("the USD rate is {}, not 1", text));
      return true;
    }
    if (std::any_of(rates_.begin(), rates_.end(),
                    [&](const ExchangeRate& r) { return r.currency == key_; })) {
      fail(fmt::format("key {} appears twice", quoted_value("rates." + key_)));
    }
    rates_.push_back({key_, day_, units});
    return true;
  }

  std::string path_;
  Date day_;
  std::string key_;
  int depth_ = 0;
  bool in_rates_ = false, rates_seen_ = false, base_seen_ = false;
  std::vector<ExchangeRate> rates_;
};

Date day_of_file(const std::filesystem::path& path) {
  const std::string name = path.filename().string();
  if (name.size() != 15 || !name.ends_with(".json")) {
    throw InvalidArgument(
        fmt::format("{}: an exchange-rate file is named for its day, YYYY-MM-DD.json",
                    quoted_value(path.string())));
  }
  return parse_date(std::string_view(name).substr(0, 10), path.string());
}

}  // namespace

std::vector<ExchangeRate> read_exchange_rate_file(const std::filesystem::path& path) {
  const Date day = day_of_file(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw InvalidArgument(fmt::format("{}: cannot read the file", quoted_value(path.string())));
  }
  return read_exchange_rate_file(in, day, path.string());
}

std::vector<ExchangeRate> read_exchange_rate_file(std::istream& in, Date day,
                                                  std::string_view name) {
  // Read whole, but never more than a day's file can hold: the parser keeps a string or a key
  // whole, so an unbounded one would take the process's memory with it.
  std::string text(max_exchange_rate_file_bytes + 1, '\0');
  in.read(text.data(), std::streamsize(text.size()));
  text.resize(std::size_t(in.gcount()));
  if (text.size() > max_exchange_rate_file_bytes) {
    throw InvalidArgument(
        fmt::format("{}: longer than {} bytes; a day's exchange rates need far "
                    "less",
                    quoted_value(name), max_exchange_rate_file_bytes));
  }
  if (in.bad()) throw InvalidArgument(fmt::format("{}: cannot read it", quoted_value(name)));
  RateFileReader reader(quoted_value(name), day);
  nlohmann::json::sax_parse(text, &reader);
  return reader.finish();
}

std::vector<ExchangeRate> read_exchange_rates(const std::filesystem::path& path) {
  std::error_code error;
  if (!std::filesystem::is_directory(path, error)) return read_exchange_rate_file(path);
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(path)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.size() == 15 && name.ends_with(".json")) {
      files.push_back(entry.path());
    }
  }
  if (files.empty()) {
    throw InvalidArgument(
        fmt::format("{}: no YYYY-MM-DD.json exchange-rate files", quoted_value(path.string())));
  }
  std::sort(files.begin(), files.end());
  std::vector<ExchangeRate> out;
  for (const auto& file : files) {
    auto rates = read_exchange_rate_file(file);
    out.insert(out.end(), rates.begin(), rates.end());
  }
  return out;
}

}  // namespace prkl

namespace prkl::detail {

InvalidArgument rate_conflict(const ExchangeRate& rate, std::int64_t stored_units) {
  return InvalidArgument(fmt::format(
      "the {} rate for {} is stored as {}, not {}; nothing was stored (replace it explicitly "
      "to change it)",
      rate.currency, format_date(rate.day), format_rate(stored_units), format_rate(rate.units)));
}

std::vector<ExchangeRate> distinct_rates(std::span<const ExchangeRate> rates) {
  for (const ExchangeRate& rate : rates) {
    if (!is_currency_code(rate.currency) || rate.currency == base_currency) {
      throw InvalidArgument(
          fmt::format("exchange rate for {} on {}: not a currency code other than USD",
                      quoted_value(rate.currency), format_date(rate.day)));
    }
    if (rate.units <= 0) {
      throw InvalidArgument(fmt::format("exchange rate for {} on {} is {}: not above 0",
                                        rate.currency, format_date(rate.day),
                                        Decimal{rate.units, exchange_rate_scale}.to_string()));
    }
  }
  // Each (currency, day) once: the same rate twice is one, two different rates are a mistake.
  std::vector<ExchangeRate> distinct(rates.begin(), rates.end());
  std::sort(distinct.begin(), distinct.end(), [](const ExchangeRate& a, const ExchangeRate& b) {
    return std::tie(a.currency, a.day, a.units) < std::tie(b.currency, b.day, b.units);
  });
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  for (std::size_t i = 1; i < distinct.size(); ++i) {
    if (distinct[i].currency == distinct[i - 1].currency &&
        distinct[i].day == distinct[i - 1].day) {
      throw InvalidArgument(fmt::format("two {} rates for {}: {} and {}; nothing was stored",
                                        distinct[i].currency, format_date(distinct[i].day),
                                        format_rate(distinct[i - 1].units),
                                        format_rate(distinct[i].units)));
    }
  }
  return distinct;
}

}  // namespace prkl::detail
