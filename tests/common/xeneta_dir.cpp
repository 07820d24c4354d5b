// SPDX-License-Identifier: MIT
#include <cstdlib>
#include <stdexcept>

#include "context.hpp"

namespace prkl::test {

std::filesystem::path xeneta_dir() {
  // PRKL_XENETA_DIR overrides the directory found when the tests were configured.
  const char* from_env = std::getenv("PRKL_XENETA_DIR");
  const std::filesystem::path dir = from_env && *from_env ? from_env : PRKL_XENETA_DIR;
  if (!std::filesystem::exists(dir / "ratestask-2016.sql")) {
    throw std::runtime_error("the Xeneta dumps are not in '" + dir.string() +
                             "'; set PRKL_XENETA_DIR to the folder that holds ratestask-2016.sql");
  }
  return dir;
}

}  // namespace prkl::test
