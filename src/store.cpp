#include "prkl/store.hpp"

#include <fmt/format.h>

#include "backends/sqlite/sqlite_store.hpp"
#include "prkl/error.hpp"

namespace prkl {

std::unique_ptr<Store> open_store(std::string_view url, OpenMode mode) {
  if (url.starts_with("sqlite:")) {
    std::string_view path = url.substr(7);
    if (path.starts_with("//")) path.remove_prefix(2);  // sqlite:///abs/path, sqlite://rel/path
    if (path.empty()) throw InvalidArgument(fmt::format("database URL '{}' has no path", url));
    return sqlite::open(std::string(path), mode);
  }
  if (url.starts_with("postgres://") || url.starts_with("postgresql://")) {
    throw InvalidArgument(
        fmt::format("database URL '{}': this build of prkl has no PostgreSQL backend", url));
  }
  throw InvalidArgument(fmt::format(
      "database URL '{}' has an unknown scheme (expected sqlite:PATH or sqlite::memory:)", url));
}

}  // namespace prkl
