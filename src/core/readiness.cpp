// SPDX-License-Identifier: MIT
// What a /ready health check answers: whether a store can serve, and if not, why.
#include "core/readiness.hpp"

#include <fmt/format.h>

namespace prkl::detail {

Readiness readiness_of(Store& store, std::chrono::duration<double> max_replay_lag) {
  Readiness r;
  try {
    r.store = store.health();
  } catch (const StorageError& e) {
    r.reason = fmt::format("the store does not answer: {}", e.what());
    return r;
  }
  if (r.store.schema_version < schema_version) {
    r.reason = fmt::format(
        "the store's schema is version {}, older than the {} this prkl needs: run 'prkl init'",
        r.store.schema_version, schema_version);
  } else if (r.store.readable_from > schema_version) {
    r.reason = fmt::format(
        "the store's schema was migrated to version {} by a newer prkl, which only versions "
        "from {} can serve; this prkl has {}",
        r.store.schema_version, r.store.readable_from, schema_version);
  } else if (r.store.standby && r.store.replay_lag_seconds &&
             *r.store.replay_lag_seconds > max_replay_lag.count()) {
    r.reason = fmt::format("the standby is {:.1f} s behind its primary, more than {:.1f} s",
                           *r.store.replay_lag_seconds, max_replay_lag.count());
  } else {
    r.ready = true;
  }
  return r;
}

}  // namespace prkl::detail
