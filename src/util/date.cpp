// SPDX-License-Identifier: MIT
// Dates as ISO text: parsing and formatting, strictly.
#include "prkl/date.hpp"

#include <fmt/format.h>

#include "prkl/error.hpp"

namespace prkl {

namespace {

bool parse_digits(std::string_view text, int& out) {
  out = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  return true;
}

}  // namespace

Date parse_date(std::string_view text, std::string_view what) {
  int y = 0, m = 0, d = 0;
  const bool shaped = text.size() == 10 && text[4] == '-' && text[7] == '-' &&
                      parse_digits(text.substr(0, 4), y) && parse_digits(text.substr(5, 2), m) &&
                      parse_digits(text.substr(8, 2), d);
  if (!shaped) {
    throw InvalidArgument(
        fmt::format("{}: malformed date {}: expected YYYY-MM-DD", what, quoted_value(text)));
  }
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{unsigned(m)},
                                        std::chrono::day{unsigned(d)}};
  if (y == 0 || !ymd.ok()) {
    throw InvalidArgument(fmt::format("{}: {} is not a calendar day", what, quoted_value(text)));
  }
  return Date{ymd};
}

std::string format_date(Date day) {
  const std::chrono::year_month_day ymd{day};
  return fmt::format("{:04}-{:02}-{:02}", int(ymd.year()), unsigned(ymd.month()),
                     unsigned(ymd.day()));
}

}  // namespace prkl
