#include "copy_text.hpp"

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

}  // namespace prkl::detail
