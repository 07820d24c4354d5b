// SPDX-License-Identifier: MIT
#include "prkl/error.hpp"

namespace prkl {

ValidationFailed::ValidationFailed(std::string what, std::vector<RowError> errors)
    : Error(what), errors_(std::move(errors)) {}

}  // namespace prkl
