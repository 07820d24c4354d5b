#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>

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
