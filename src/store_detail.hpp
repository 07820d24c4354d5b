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

}  // namespace prkl::detail
