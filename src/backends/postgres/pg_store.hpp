#pragma once

#include <memory>
#include <string>

#include "prkl/store.hpp"

namespace prkl::postgres {

/// Opens a PostgreSQL store from a libpq connection URI or key/value string; libpq's
/// environment variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, ...) fill in what it leaves out.
std::unique_ptr<Store> open(const std::string& conninfo, OpenMode mode);

}  // namespace prkl::postgres
