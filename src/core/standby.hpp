// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <memory>
#include <string_view>

#include "prkl/store.hpp"

namespace prkl::detail {

/// Opens the read store (a standby), retrying for up to `wait` while it is not up or not set up
/// for prkl yet: a schema just created on the primary reaches a standby a moment later.
std::unique_ptr<Store> open_standby(std::string_view read_url, const StoreOptions& store_options,
                                    std::chrono::milliseconds wait);

}  // namespace prkl::detail
