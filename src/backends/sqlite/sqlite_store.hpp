// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "prkl/store.hpp"

namespace prkl::sqlite {

/// Opens the SQLite store at `path` (":memory:" for a private in-memory one). Writers wait up to
/// `busy_timeout` for another connection's write lock.
std::unique_ptr<Store> open(const std::string& path, OpenMode mode,
                            std::chrono::milliseconds busy_timeout);

}  // namespace prkl::sqlite
