// SPDX-License-Identifier: MIT
#pragma once

/// What the backends share beyond the Store interface.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

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

/// A price read back from a store as the core holds it (32 bits); StorageError for a value a
/// foreign writer stored beyond that.
std::int32_t checked_price(std::int64_t value);

/// How many data versions of day changes (prkl_day_changes) a store keeps. Each write of prkl's
/// deletes older ones and raises prkl_meta's day_changes_horizon to the newest version deleted;
/// a reader whose copy is older than that reads every lane-day again instead of the changes.
/// So the log stays bounded (a day a version at most, per version kept) whoever writes.
inline constexpr std::int64_t kept_change_versions = 1000;

/// The first and last day (counted from 1970-01-01; none when first > last) of [first, last]
/// on which a contract valid from `valid_from` to `valid_to` counts: every day of its validity
/// while day - received <= max_age. One rule for the store's reads and the copy's.
inline std::pair<std::int64_t, std::int64_t> contract_days(std::int64_t valid_from,
                                                           std::int64_t valid_to,
                                                           std::int64_t received,
                                                           std::int64_t first, std::int64_t last,
                                                           std::optional<std::int64_t> max_age) {
  std::int64_t to = std::min(valid_to, last);
  if (max_age) to = std::min(to, received + *max_age);
  return {std::max(valid_from, first), to};
}

}  // namespace prkl::detail
