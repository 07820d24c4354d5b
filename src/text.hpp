#pragma once

#include <string>
#include <string_view>

namespace prkl::detail {

/// Lower-cases UTF-8 text for case-insensitive matching: ASCII, Latin-1, Latin Extended-A, Greek
/// and Cyrillic capitals map to their small letters; everything else (and any invalid byte)
/// passes through unchanged. The same rule serves every backend, so searches agree everywhere.
std::string fold_case(std::string_view utf8);

}  // namespace prkl::detail
