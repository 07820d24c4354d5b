// SPDX-License-Identifier: MIT
#include "prkl/error.hpp"

namespace prkl {

Error::Error(const std::string& what) : std::runtime_error(printable_message(what)) {}

Error::Error(const char* what) : std::runtime_error(printable_message(what)) {}

ValidationFailed::ValidationFailed(std::string what, std::vector<RowError> errors)
    : Error(what), errors_(std::move(errors)) {}

}  // namespace prkl
