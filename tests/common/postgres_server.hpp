// SPDX-License-Identifier: MIT
#pragma once

// The PostgreSQL test server the CTest fixture starts: the PostgreSQL backend's stores, and the
// reference engine every backend's answers are checked against.

#include <optional>
#include <string>
#include <vector>

namespace prkl::test {

/// A new, empty database on the test server; throws when there is no server.
std::string new_postgres_url();

/// Runs `sql` with libpq and returns the last statement's rows as text (nullopt for NULL).
std::vector<std::vector<std::optional<std::string>>> postgres_sql(const std::string& url,
                                                                  const std::string& sql);

}  // namespace prkl::test
