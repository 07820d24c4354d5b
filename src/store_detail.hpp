#pragma once

/// What the backends share beyond the Store interface.

namespace prkl::detail {

/// Refuses a LoadMode::into_empty load into a store that holds data, with the same words on
/// every backend.
[[noreturn]] void refuse_load_over_data();

}  // namespace prkl::detail
