// SPDX-License-Identifier: MIT
#include <prkl/metrics.hpp>
#include <sstream>
#include <string>

#include "context.hpp"

namespace prkl::test {

double metric(std::string_view series) {
  std::istringstream lines(metrics_text());
  for (std::string line; std::getline(lines, line);) {
    if (line.size() > series.size() && line.starts_with(series) && line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return 0;
}

}  // namespace prkl::test
