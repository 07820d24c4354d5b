#pragma once

namespace prkl {
/// The library version, "MAJOR.MINOR.PATCH".
inline constexpr const char* version = "0.1.0";
}  // namespace prkl
