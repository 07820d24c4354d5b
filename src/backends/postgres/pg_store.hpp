// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "prkl/store.hpp"

namespace prkl::postgres {

/// Opens a PostgreSQL store from a libpq connection URI or key/value string; libpq's
/// environment variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, ...) fill in what it leaves out.
/// `connect_timeout` bounds each attempt to connect unless `conninfo` sets its own.
std::unique_ptr<Store> open(const std::string& conninfo, OpenMode mode,
                            std::chrono::seconds connect_timeout);

}  // namespace prkl::postgres
