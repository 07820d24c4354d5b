// SPDX-License-Identifier: MIT
#include <fmt/format.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <stdexcept>

#include "context.hpp"

namespace prkl::test {

namespace {

// One temporary directory per test process, removed when the process ends normally.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "prkl-test-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

}  // namespace

std::string backend_name() {
  return "sqlite";
}

std::string new_store_url() {
  static TempDir dir;
  static int counter = 0;
  return fmt::format("sqlite:{}", (dir.path / fmt::format("store-{}.db", ++counter)).string());
}

}  // namespace prkl::test

namespace prkl::test {

std::vector<std::vector<std::optional<std::string>>> run_sql(const std::string& url,
                                                             const std::string& sql) {
  sqlite3* raw = nullptr;
  const int opened =
      sqlite3_open_v2(url.substr(url.find(':') + 1).c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr);
  const std::unique_ptr<sqlite3, int (*)(sqlite3*)> db(raw, sqlite3_close);
  if (opened != SQLITE_OK) throw std::runtime_error(sqlite3_errmsg(raw));
  sqlite3_busy_timeout(db.get(), 10'000);
  std::vector<std::vector<std::optional<std::string>>> rows;
  const char* next = sql.c_str();
  while (*next) {
    sqlite3_stmt* raw_stmt = nullptr;
    if (sqlite3_prepare_v2(db.get(), next, -1, &raw_stmt, &next) != SQLITE_OK) {
      throw std::runtime_error(fmt::format("{}: {}", sql, sqlite3_errmsg(db.get())));
    }
    if (!raw_stmt) continue;  // whitespace or a comment
    const std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(raw_stmt, sqlite3_finalize);
    rows.clear();
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
      auto& row = rows.emplace_back();
      for (int i = 0; i < sqlite3_column_count(stmt.get()); ++i) {
        const auto* text = sqlite3_column_text(stmt.get(), i);
        row.push_back(text ? std::optional<std::string>(reinterpret_cast<const char*>(text))
                           : std::nullopt);
      }
    }
    if (rc != SQLITE_DONE) {
      throw std::runtime_error(fmt::format("{}: {}", sql, sqlite3_errmsg(db.get())));
    }
  }
  return rows;
}

}  // namespace prkl::test
