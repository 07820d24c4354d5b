// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>

#include "prkl/database.hpp"

namespace prkl::detail {

/// Whether `store` can serve: it answers, its schema is one this prkl reads, and a standby's
/// replay is at most `max_replay_lag` behind. Never throws for the store's sake.
Readiness readiness_of(Store& store, std::chrono::duration<double> max_replay_lag);

}  // namespace prkl::detail
