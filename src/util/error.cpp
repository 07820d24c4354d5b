// SPDX-License-Identifier: MIT
// prkl's error types, and the escaping that keeps their messages printable.
#include "prkl/error.hpp"

#include <fmt/format.h>

#include "util/text.hpp"

namespace prkl {

Error::Error(const std::string& what) : std::runtime_error(printable_message(what)) {}

Error::Error(const char* what) : std::runtime_error(printable_message(what)) {}

ValidationFailed::ValidationFailed(std::string what, std::vector<RowError> errors)
    : Error(what), errors_(std::move(errors)) {}

std::string quoted_value(std::string_view value) {
  // Enough to recognise a value by; a 10 MB field is not repeated in full.
  constexpr std::size_t most_shown = 200;
  std::string out = "'";
  std::size_t i = 0;
  while (i < value.size()) {
    const detail::Sequence s = detail::next_sequence(value.substr(i));
    const std::size_t length = s.length == 0 ? 1 : s.length;
    if (i + length > most_shown) break;
    if (s.length == 0 || detail::is_control(s.code_point)) {
      detail::append_escaped(out, value.substr(i, length));
    } else if (value[i] == '\\') {
      out += "\\\\";
    } else {
      out.append(value.substr(i, length));
    }
    i += length;
  }
  if (i < value.size()) return fmt::format("{}...' ({} bytes)", out, value.size());
  return out + "'";
}

std::string printable_message(std::string_view message) {
  std::string out;
  out.reserve(message.size());
  std::size_t i = 0;
  while (i < message.size()) {
    const detail::Sequence s = detail::next_sequence(message.substr(i));
    const std::size_t length = s.length == 0 ? 1 : s.length;
    // Line breaks stay: a server's message may have a DETAIL line.
    if (s.length == 0 || (detail::is_control(s.code_point) && message[i] != '\n')) {
      detail::append_escaped(out, message.substr(i, length));
    } else {
      out.append(message.substr(i, length));
    }
    i += length;
  }
  return out;
}

}  // namespace prkl
