// SPDX-License-Identifier: MIT
// Opening a store by URL: the one place that knows every backend.
#include <fmt/format.h>

#include <limits>

#include "backends/sqlite/sqlite_store.hpp"
#include "prkl/error.hpp"
#include "prkl/store.hpp"
#include "storage/store_detail.hpp"
#ifdef PRKL_WITH_POSTGRES
#include "backends/postgres/pg_store.hpp"
#endif

namespace prkl {

std::unique_ptr<Store> open_store(std::string_view url, OpenMode mode,
                                  const StoreOptions& options) {
  // libpq reads the timeout as an int.
  const auto connect_timeout = options.connect_timeout;
  if (connect_timeout.count() < 0 || connect_timeout.count() > std::numeric_limits<int>::max()) {
    throw InvalidArgument(fmt::format("connect_timeout of {} seconds is outside 0..{}",
                                      connect_timeout.count(), std::numeric_limits<int>::max()));
  }
  const auto busy_timeout = options.busy_timeout;
  const detail::StoreTarget target = detail::store_target(url);
  if (target.backend == detail::StoreTarget::sqlite) {
    return sqlite::open(target.location, mode, busy_timeout);
  }
#ifdef PRKL_WITH_POSTGRES
  return postgres::open(target.location, mode, connect_timeout);
#else
  throw InvalidArgument(fmt::format("database URL {}: this build of prkl has no PostgreSQL backend",
                                    quoted_value(url)));
#endif
}

}  // namespace prkl

namespace prkl::detail {

StoreTarget store_target(std::string_view url) {
  if (url.starts_with("sqlite:")) {
    std::string_view path = url.substr(7);
    if (path.starts_with("//")) path.remove_prefix(2);  // sqlite:///abs/path, sqlite://rel/path
    if (path.empty()) {
      throw InvalidArgument(fmt::format("database URL {} has no path", quoted_value(url)));
    }
    return {StoreTarget::sqlite, std::string(path)};
  }
  // libpq takes URIs and key/value strings ("host=db dbname=rates") alike.
  const bool postgres =
      url.starts_with("postgres://") || url.starts_with("postgresql://") ||
      (url.find("://") == std::string_view::npos && url.find('=') != std::string_view::npos);
  if (postgres) return {StoreTarget::postgres, std::string(url)};
  throw InvalidArgument(
      fmt::format("database URL {} has an unknown scheme (expected sqlite:PATH, sqlite::memory:, "
                  "postgresql://... or a libpq key=value string)",
                  quoted_value(url)));
}

}  // namespace prkl::detail
