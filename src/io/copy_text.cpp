// SPDX-License-Identifier: MIT
// PostgreSQL's COPY text format: escaping and unescaping one field.
#include "io/copy_text.hpp"

#include <fmt/format.h>

namespace prkl::detail {

namespace {

void append_field(std::string& out, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += c;
    }
  }
}

}  // namespace

void append_copy_row(std::string& out, const Region& region) {
  append_field(out, region.slug);
  out += '\t';
  append_field(out, region.name);
  out += '\t';
  if (region.parent_slug) {
    append_field(out, *region.parent_slug);
  } else {
    out += "\\N";
  }
  out += '\n';
}

void append_copy_row(std::string& out, const Port& port) {
  append_field(out, port.code);
  out += '\t';
  append_field(out, port.name);
  out += '\t';
  append_field(out, port.region_slug);
  out += '\n';
}

void append_copy_row(std::string& out, const Price& price) {
  append_field(out, price.origin);
  out += '\t';
  append_field(out, price.destination);
  const std::chrono::year_month_day ymd{price.day};
  fmt::format_to(std::back_inserter(out), "\t{:04}-{:02}-{:02}\t{}\n", int(ymd.year()),
                 unsigned(ymd.month()), unsigned(ymd.day()), price.price);
}

namespace {

// "\t<equipment>\t<term>\t<received>\n", \N for each one absent.
void append_dimensions(std::string& out, const std::string& equipment, std::optional<Term> term,
                       std::optional<Date> received) {
  out += '\t';
  if (equipment.empty()) {
    out += "\\N";
  } else {
    append_field(out, equipment);
  }
  out += term ? fmt::format("\t{}", to_string(*term)) : std::string("\t\\N");
  if (received) {
    const std::chrono::year_month_day ymd{*received};
    fmt::format_to(std::back_inserter(out), "\t{:04}-{:02}-{:02}\n", int(ymd.year()),
                   unsigned(ymd.month()), unsigned(ymd.day()));
  } else {
    out += "\t\\N\n";
  }
}

}  // namespace

void append_dimensioned_copy_row(std::string& out, const Price& price) {
  append_copy_row(out, price);
  out.pop_back();  // the row goes on
  append_dimensions(out, price.equipment, price.term, price.received);
}

void append_copy_row(std::string& out, const Contract& contract) {
  append_field(out, contract.origin);
  out += '\t';
  append_field(out, contract.destination);
  const std::chrono::year_month_day from{contract.valid_from}, to{contract.valid_to};
  fmt::format_to(std::back_inserter(out), "\t{:04}-{:02}-{:02}\t{:04}-{:02}-{:02}\t{}",
                 int(from.year()), unsigned(from.month()), unsigned(from.day()), int(to.year()),
                 unsigned(to.month()), unsigned(to.day()), contract.price);
  append_dimensions(out, contract.equipment, contract.term, contract.received);
}

std::string copy_unescape(std::string_view field) {
  if (field.find('\\') == std::string_view::npos) return std::string(field);
  std::string out;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] != '\\' || i + 1 == field.size()) {
      out += field[i];
      continue;
    }
    const char e = field[++i];
    const auto digit_run = [&](int base, std::size_t max_len) {
      unsigned value = 0;
      std::size_t n = 0;
      while (n < max_len && i < field.size()) {
        const char d = field[i];
        int v = -1;
        if (d >= '0' && d <= '9')
          v = d - '0';
        else if (base == 16 && d >= 'a' && d <= 'f')
          v = d - 'a' + 10;
        else if (base == 16 && d >= 'A' && d <= 'F')
          v = d - 'A' + 10;
        if (v < 0 || v >= base) break;
        value = value * unsigned(base) + unsigned(v);
        ++i;
        ++n;
      }
      --i;
      out += char(value & 0xFF);
      return n;
    };
    switch (e) {
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'v':
        out += '\v';
        break;
      case 'x':
        ++i;
        if (digit_run(16, 2) == 0) out.back() = 'x';
        break;
      default:
        if (e >= '0' && e <= '7') {
          digit_run(8, 3);
        } else {
          out += e;
        }
    }
  }
  return out;
}

}  // namespace prkl::detail
