// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Store URLs as they may be shown: in logs, messages and `repr()`.

#include <string>
#include <string_view>

#include "prkl/export.hpp"

namespace prkl {

/// `url` with any password replaced by `***`: the password of a `postgresql://user:pw@host/db`
/// URL, a `password=` parameter of its query string, and a `password=` key of a libpq key=value
/// string (quoted or not). Everything else is kept, so the result still says which store it is.
PRKL_EXPORT std::string redact_url(std::string_view url);

}  // namespace prkl
