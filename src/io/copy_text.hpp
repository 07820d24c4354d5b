// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <string_view>

#include "prkl/model.hpp"

namespace prkl::detail {

/// Appends one row in PostgreSQL's COPY text format: fields separated by tabs, backslash
/// escapes for backslash, tab, newline and carriage return, \N for null, '\n' at the end. The
/// dump writer and the PostgreSQL backend's COPY both use it.
void append_copy_row(std::string& out, const Region& region);
void append_copy_row(std::string& out, const Port& port);
void append_copy_row(std::string& out, const Price& price);
/// A price with prkl's dimension columns after the ratestask ones (see
/// ratestask::dimensioned_prices), \N where it has none.
void append_dimensioned_copy_row(std::string& out, const Price& price);
/// A contract as the columns of ratestask::contracts, in their order.
void append_copy_row(std::string& out, const Contract& contract);

/// Decodes one field of COPY text (backslash escapes, octal and hex included); the caller has
/// dealt with \N.
std::string copy_unescape(std::string_view field);

}  // namespace prkl::detail
