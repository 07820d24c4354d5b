// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "prkl/error.hpp"

namespace prkl::detail {

/// Lower-cases UTF-8 text for case-insensitive matching: ASCII, Latin-1, Latin Extended-A, Greek
/// and Cyrillic capitals map to their small letters; everything else (and any invalid byte)
/// passes through unchanged. The same rule serves every backend, so searches agree everywhere.
std::string fold_case(std::string_view utf8);

/// The one check of text that comes from outside (ids, codes, slugs, names, locations, batch
/// fields): nullopt when `text` is valid UTF-8 without control characters (C0 ones, tab and
/// newline among them, DEL and C1), otherwise the message for it, naming `what` and the value
/// (through quoted_value()): "origin 'CN\x1bSH' holds the control character \x1b at byte 2".
/// Such text would break every JSON answer and terminal it later reaches, so it is refused on
/// the way in.
std::optional<std::string> text_error(std::string_view what, std::string_view text);

/// Throws InvalidArgument with text_error()'s message, if any.
void require_text(std::string_view what, std::string_view text);

/// One UTF-8 sequence at the start of `text`: its length and code point, or length 0 when the
/// first byte does not begin a valid sequence (a stray continuation byte, an overlong form, a
/// surrogate, beyond U+10FFFF, or cut short).
struct Sequence {
  std::size_t length = 0;
  char32_t code_point = 0;
};
Sequence next_sequence(std::string_view text);

/// C0 and C1 controls and DEL.
bool is_control(char32_t c);

/// Appends `bytes` as \t, \n, \r or \xHH escapes.
void append_escaped(std::string& out, std::string_view bytes);

}  // namespace prkl::detail
