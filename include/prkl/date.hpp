// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Calendar days. prkl works in whole UTC days; a Date is a std::chrono::sys_days.

#include <chrono>
#include <string>
#include <string_view>
#include "prkl/export.hpp"

namespace prkl {

using Date = std::chrono::sys_days;

/// Parses a strict ISO 8601 calendar date, `YYYY-MM-DD`, years 0001..9999.
/// Throws InvalidArgument naming `text` when it is malformed or not a real day (2021-02-30).
/// `what` names the parameter in the message ("date_from").
PRKL_EXPORT Date parse_date(std::string_view text, std::string_view what = "date");

/// Formats as `YYYY-MM-DD`.
PRKL_EXPORT std::string format_date(Date day);

}  // namespace prkl
