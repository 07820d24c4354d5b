// SPDX-License-Identifier: MIT
// Opening a standby as a read store, waiting briefly for what the primary just created.
#include "core/standby.hpp"

#include <thread>

#include "prkl/error.hpp"

namespace prkl::detail {

std::unique_ptr<Store> open_standby(std::string_view read_url, const StoreOptions& store_options,
                                    std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    try {
      return open_store(read_url, OpenMode::existing, store_options);
    } catch (const StorageError&) {  // not set up for prkl yet, or not up
      if (std::chrono::steady_clock::now() >= deadline) throw;
    } catch (const NotFound&) {  // the database itself not there yet
      if (std::chrono::steady_clock::now() >= deadline) throw;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
}

}  // namespace prkl::detail
