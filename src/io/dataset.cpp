// SPDX-License-Identifier: MIT
// Checking a data set (a dump's, the generator's) before any of it is loaded.
#include "io/dataset.hpp"

#include <fmt/format.h>

#include <string_view>
#include <unordered_set>

#include "batch/batch.hpp"
#include "geography/geography.hpp"
#include "prkl/error.hpp"
#include "util/text.hpp"

namespace prkl::detail {

void check_dataset(const Dataset& data, const Options& options) {
  std::vector<RowError> errors = Geography::check(
      data.regions, data.ports, options.max_region_depth, data.region_lines, data.port_lines);
  std::unordered_set<std::string_view> codes;
  for (const Port& port : data.ports) codes.insert(port.code);
  for (std::size_t i = 0; i < data.prices.size(); ++i) {
    const Price& p = data.prices[i];
    const std::int64_t line =
        i < data.price_lines.size() ? data.price_lines[i] : std::int64_t(i) + 1;
    for (const auto& [code, field] :
         {std::pair{&p.origin, "orig_code"}, std::pair{&p.destination, "dest_code"}}) {
      // A known code's text is check()'s to report, on its port's row.
      if (codes.contains(*code)) continue;
      auto error = text_error("price port code", *code);
      errors.push_back({line, field,
                        error ? std::move(*error)
                              : fmt::format("price on unknown port {}", quoted_value(*code))});
    }
    if (auto problem = price_problem(p.price, options)) {
      errors.push_back({line, "price", std::move(*problem)});
    }
    if (errors.size() >= 1000) break;  // enough to act on; the rest is more of the same
  }
  for (std::size_t i = 0; i < data.contracts.size() && errors.size() < 1000; ++i) {
    const Contract& c = data.contracts[i];
    const auto row = std::int64_t(i) + 1;
    for (const auto* code : {&c.origin, &c.destination}) {
      if (!codes.contains(*code)) {
        errors.push_back(
            {row, "contract", fmt::format("contract on unknown port {}", quoted_value(*code))});
      }
    }
    if (c.valid_to < c.valid_from || (c.valid_to - c.valid_from).count() >= max_contract_days) {
      errors.push_back(
          {row, "contract",
           fmt::format("contract validity {}..{} is reversed or longer than {} days",
                       format_date(c.valid_from), format_date(c.valid_to), max_contract_days)});
    }
    if (auto problem = price_problem(c.price, options)) {
      errors.push_back({row, "contract", std::move(*problem)});
    }
  }
  if (!errors.empty()) {
    const auto count = errors.size();
    throw ValidationFailed(fmt::format("the data has {}{} bad row{}; nothing was loaded", count,
                                       count >= 1000 ? " or more" : "", count == 1 ? "" : "s"),
                           std::move(errors));
  }
}

}  // namespace prkl::detail
