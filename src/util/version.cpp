// SPDX-License-Identifier: MIT
// The library's version, compiled in.
#include "prkl/version.hpp"

namespace prkl {

// Compiled into the library, so it reports the library's version whatever headers the caller saw.
const char* version() noexcept {
  return PRKL_VERSION_STRING;
}

}  // namespace prkl
