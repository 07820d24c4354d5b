// SPDX-License-Identifier: MIT
#pragma once

/// What the backends share beyond the Store interface.

#include <string>
#include <string_view>

namespace prkl::detail {

/// Which backend a store URL names, and what that backend opens: a SQLite path, or the URL
/// itself for libpq. Touches nothing; throws InvalidArgument for a URL that names no backend.
struct StoreTarget {
  enum Backend { sqlite, postgres } backend;
  std::string location;
};
StoreTarget store_target(std::string_view url);

/// Refuses a LoadMode::into_empty load into a store that holds data, with the same words on
/// every backend.
[[noreturn]] void refuse_load_over_data();

/// The statement that fills a new prkl_equipment table with default_equipment.
std::string seed_equipment_sql();

/// How many data versions of day changes (prkl_day_changes) a store keeps. Each write of prkl's
/// deletes older ones and raises prkl_meta's day_changes_horizon to the newest version deleted;
/// a reader whose copy is older than that reads every lane-day again instead of the changes.
/// So the log stays bounded (a day a version at most, per version kept) whoever writes.
inline constexpr std::int64_t kept_change_versions = 1000;

}  // namespace prkl::detail
