#pragma once

#include <memory>
#include <string>

#include "prkl/store.hpp"

namespace prkl::sqlite {

/// Opens the SQLite store at `path` (":memory:" for a private in-memory one).
std::unique_ptr<Store> open(const std::string& path, OpenMode mode);

}  // namespace prkl::sqlite
