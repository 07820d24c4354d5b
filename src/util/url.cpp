// SPDX-License-Identifier: MIT
// Store URLs as they may be shown: passwords hidden in logs, messages and repr().
#include "prkl/url.hpp"

#include <cctype>

namespace prkl {

namespace {

constexpr std::string_view hidden = "***";

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  }
  return true;
}

// The URI form: postgresql://[user[:password]@]host[:port][/db][?key=value&...]
std::string redact_uri(std::string_view url, std::size_t after_scheme) {
  std::string out(url.substr(0, after_scheme));
  const std::size_t authority_end = url.find_first_of("/?#", after_scheme);
  const std::string_view authority = url.substr(
      after_scheme, authority_end == std::string_view::npos ? std::string_view::npos
                                                            : authority_end - after_scheme);
  // The user part ends at the last '@': an unencoded '@' in a password is the client's mistake,
  // but it must not leak the password's tail.
  const std::size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    const std::string_view user_info = authority.substr(0, at);
    const std::size_t colon = user_info.find(':');
    out += colon == std::string_view::npos
               ? user_info
               : std::string(user_info.substr(0, colon + 1)) + std::string(hidden);
    out += authority.substr(at);
  } else {
    out += authority;
  }
  if (authority_end == std::string_view::npos) return out;
  const std::string_view rest = url.substr(authority_end);
  const std::size_t query = rest.find('?');
  if (query == std::string_view::npos) return out + std::string(rest);
  out += rest.substr(0, query + 1);
  std::string_view params = rest.substr(query + 1);
  for (bool first = true; !params.empty() || first; first = false) {
    const std::size_t amp = params.find('&');
    const std::string_view param = params.substr(0, amp);
    if (!first) out += '&';
    if (starts_with_ignoring_case(param, "password=")) {
      out += "password=";
      out += hidden;
    } else {
      out += param;
    }
    if (amp == std::string_view::npos) break;
    params = params.substr(amp + 1);
  }
  return out;
}

// libpq's key=value form: keys and values separated by '=' with optional spaces; a value is a
// run of non-space characters or single-quoted with backslash escapes.
std::string redact_key_values(std::string_view text) {
  std::string out;
  std::size_t i = 0;
  const auto space = [&](std::size_t at) {
    return at < text.size() && std::isspace(static_cast<unsigned char>(text[at]));
  };
  while (i < text.size()) {
    const std::size_t key_start = i;
    while (i < text.size() && text[i] != '=' && !space(i)) ++i;
    const std::string_view key = text.substr(key_start, i - key_start);
    while (space(i)) ++i;
    if (i >= text.size() || text[i] != '=') {
      out += text.substr(key_start, i - key_start);
      continue;
    }
    ++i;  // '='
    while (space(i)) ++i;
    const std::size_t value_start = i;
    if (i < text.size() && text[i] == '\'') {
      for (++i; i < text.size() && text[i] != '\''; ++i) {
        if (text[i] == '\\') ++i;
      }
      if (i < text.size()) ++i;  // closing quote
    } else {
      while (i < text.size() && !space(i)) ++i;
    }
    out += text.substr(key_start, value_start - key_start);
    out += key == "password" ? hidden : text.substr(value_start, i - value_start);
    const std::size_t gap_start = i;
    while (space(i)) ++i;
    out += text.substr(gap_start, i - gap_start);
  }
  return out;
}

}  // namespace

std::string redact_url(std::string_view url) {
  for (const std::string_view scheme : {"postgresql://", "postgres://"}) {
    if (starts_with_ignoring_case(url, scheme)) return redact_uri(url, scheme.size());
  }
  if (starts_with_ignoring_case(url, "sqlite:")) return std::string(url);
  return redact_key_values(url);
}

}  // namespace prkl
