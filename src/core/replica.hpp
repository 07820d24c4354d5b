// SPDX-License-Identifier: MIT
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>

namespace prkl {
class Store;
}

namespace prkl::detail {

/// Read-your-writes for Databases that write to a primary and read from its standbys: the place
/// in the primary's log of the newest write made through any Database of the process that reads
/// through the same URL, so a write by one thread is seen by the reads of all of them (a web
/// app's POST, then its GET on another connection). It only grows: each Database remembers how
/// far its own read connection was seen to have replayed, since the connections of a
/// multi-host read URL may be on different servers.
class ReplicaFence {
 public:
  using Clock = std::chrono::steady_clock;

  struct Pending {
    /// The log position a read store must have replayed (0: no write yet); nullopt while a
    /// write's position is unknown, and the primary must be asked for its current one.
    std::optional<std::uint64_t> position;
    /// How many writes had an unknown position so far (for resolve()).
    std::uint64_t unknown_writes = 0;
    /// Until when a read may wait for a standby before it reads from the primary.
    Clock::time_point deadline;
  };

  /// A write committed on the primary whose log then ended at `position` (nullopt: unknown).
  void wrote(std::optional<std::uint64_t> position, std::chrono::milliseconds wait) {
    const std::lock_guard lock(mutex_);
    if (position) {
      position_ = std::max(position_, *position);
    } else {
      ++unknown_writes_;
    }
    deadline_ = Clock::now() + wait;
  }

  /// The primary's position, read after pending() said `unknown_writes`: it is past every write
  /// counted there, but not past an unknown one noted since.
  void resolve(std::uint64_t position, std::uint64_t unknown_writes) {
    const std::lock_guard lock(mutex_);
    position_ = std::max(position_, position);
    resolved_writes_ = std::max(resolved_writes_, unknown_writes);
  }

  Pending pending() const {
    const std::lock_guard lock(mutex_);
    return {unknown_writes_ > resolved_writes_ ? std::nullopt : std::optional(position_),
            unknown_writes_, deadline_};
  }

 private:
  mutable std::mutex mutex_;
  std::uint64_t position_ = 0;
  std::uint64_t unknown_writes_ = 0;
  std::uint64_t resolved_writes_ = 0;
  Clock::time_point deadline_;
};

/// Where a read goes: `standby` once it has replayed every write `fence` knows of (waiting
/// for that until the fence's deadline), else `primary`. `replayed` and `generation` say how
/// far `standby`'s connection of that generation was seen to have replayed, and move on here.
Store& route_read(Store& primary, Store& standby, ReplicaFence& fence, std::uint64_t& replayed,
                  std::uint64_t& generation);

/// After a write to `primary`: notes where its log ended so that reads wait for it.
void note_write(Store& primary, ReplicaFence& fence, std::chrono::milliseconds wait);

}  // namespace prkl::detail
