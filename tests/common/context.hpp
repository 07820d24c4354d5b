// SPDX-License-Identifier: MIT
#pragma once

// What the shared conformance suite needs from a backend: fresh stores. Each backend's test
// program defines these (tests/<backend>/context.cpp); the suite itself never names a backend.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace prkl::test {

/// "sqlite", "postgresql": used in messages only.
std::string backend_name();

/// The URL of a new, empty store that no other test uses.
std::string new_store_url();

/// Runs `sql` (one or more statements) on the store at `url` with the backend's own client, as
/// another application writing SQL directly would, and returns the rows of the last statement,
/// each column as text (nullopt for NULL).
std::vector<std::vector<std::optional<std::string>>> run_sql(const std::string& url,
                                                             const std::string& sql);

/// Where the real Xeneta dumps are; the tests fail (never skip) when they are missing.
std::filesystem::path xeneta_dir();

/// The value of one series of prkl::metrics_text(), as a scrape reads it
/// (`prkl_batches_total{outcome="applied"}`); 0 when the series is not there yet.
double metric(std::string_view series);

}  // namespace prkl::test
