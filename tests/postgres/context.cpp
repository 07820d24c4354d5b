// SPDX-License-Identifier: MIT
#include "context.hpp"
#include "postgres_server.hpp"

namespace prkl::test {

std::string backend_name() {
  return "postgresql";
}

std::string new_store_url() {
  return new_postgres_url();
}

std::vector<std::vector<std::optional<std::string>>> run_sql(const std::string& url,
                                                             const std::string& sql) {
  return postgres_sql(url, sql);
}

}  // namespace prkl::test
