// SPDX-License-Identifier: MIT
// Read-your-writes across a primary and its standbys: where each read goes, and what a write
// leaves for the reads after it.
#include "core/replica.hpp"

#include <thread>

#include "prkl/error.hpp"
#include "prkl/store.hpp"
#include "util/metrics.hpp"

namespace prkl::detail {

Store& route_read(Store& primary, Store& standby, ReplicaFence& fence, std::uint64_t& replayed,
                  std::uint64_t& generation) {
  auto pending = fence.pending();
  if (!pending.position) {
    // A write whose position was not read: the primary's position now is past it.
    try {
      fence.resolve(primary.log_position(), pending.unknown_writes);
    } catch (const StorageError&) {
      return primary;
    }
    pending = fence.pending();
    if (!pending.position) return primary;  // another one since: asked again on the next read
  }
  const std::uint64_t wanted = *pending.position;
  // Read before the check, so a reconnect during it makes the next read check again.
  const std::uint64_t now_generation = standby.connection_generation();
  if (wanted <= replayed && now_generation == generation) return standby;
  // Replay usually trails by a millisecond or two: poll briefly at first.
  for (auto pause = std::chrono::milliseconds{1};;
       pause = std::min(pause * 2, std::chrono::milliseconds{64})) {
    if (standby.has_replayed(wanted)) {
      replayed = wanted;
      generation = now_generation;
      record_replica_check(true);
      return standby;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= pending.deadline) {
      record_replica_check(false);
      return primary;
    }
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(pause, pending.deadline - now));
  }
}

void note_write(Store& primary, ReplicaFence& fence, std::chrono::milliseconds wait) {
  std::optional<std::uint64_t> position;
  try {
    position = primary.log_position();
  } catch (const StorageError&) {
    // The write committed; the next read asks the primary again.
  }
  fence.wrote(position, wait);
}

}  // namespace prkl::detail
