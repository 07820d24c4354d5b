#pragma once

// What the shared conformance suite needs from a backend: fresh stores. Each backend's test
// program defines these (tests/<backend>/context.cpp); the suite itself never names a backend.

#include <filesystem>
#include <string>

namespace prkl::test {

/// "sqlite", "postgresql": used in messages only.
std::string backend_name();

/// The URL of a new, empty store that no other test uses.
std::string new_store_url();

/// Where the real Xeneta dumps are; the tests fail (never skip) when they are missing.
std::filesystem::path xeneta_dir();

}  // namespace prkl::test
