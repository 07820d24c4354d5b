// SPDX-License-Identifier: MIT
// The ranges Options must lie in, checked before a store is opened.
#include "core/options.hpp"

#include <fmt/format.h>

#include <limits>

#include "prkl/error.hpp"

namespace prkl::detail {

void check_options(const Options& options) {
  struct Limit {
    std::int64_t value;
    const char* name;
    std::int64_t least, most;
  };
  constexpr std::int64_t any = std::numeric_limits<std::int64_t>::max();
  for (const auto& [value, name, least, most] :
       {Limit{options.max_range_days, "max_range_days", 1, 100'000},
        Limit{options.max_price, "max_price", 1, any},
        Limit{options.max_batch_prices, "max_batch_prices", 1, any},
        Limit{options.max_rate_age_days, "max_rate_age_days", 0, 3660},
        Limit{options.max_matrix_lanes, "max_matrix_lanes", 1, 1'000'000},
        Limit{options.max_answer_values, "max_answer_values", 1, any},
        Limit{options.max_percentile_prices, "max_percentile_prices", 1, any},
        Limit{options.max_copied_prices, "max_copied_prices", 0, any},
        Limit{options.max_region_depth, "max_region_depth", 1, 256}}) {
    if (value < least || value > most) {
      throw InvalidArgument(
          fmt::format("Options::{} is {}, outside {}..{}", name, value, least, most));
    }
  }
  if (options.replica_wait.count() < 0 || options.replica_wait > std::chrono::hours{1}) {
    throw InvalidArgument(fmt::format("Options::replica_wait is {} ms, outside 0..3600000 ms",
                                      options.replica_wait.count()));
  }
  // SQLite takes the timeout as an int of milliseconds.
  const std::int64_t busy = options.busy_timeout.count();
  if (busy < 0 || busy > std::numeric_limits<int>::max()) {
    throw InvalidArgument(fmt::format("Options::busy_timeout is {} ms, outside 0..{} ms", busy,
                                      std::numeric_limits<int>::max()));
  }
}

}  // namespace prkl::detail
