// SPDX-License-Identifier: MIT
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>

namespace prkl::detail {

/// Read-your-writes for Databases that write to a primary and read from its standby: the
/// newest write's place in the primary's log, kept until the standby is seen to have replayed
/// it. Shared by every Database of a process that reads through the same URL, so a write by one
/// thread is seen by the reads of all of them (a web app's POST, then its GET on another
/// connection).
class ReplicaFence {
 public:
  using Clock = std::chrono::steady_clock;

  /// What a read must wait for.
  struct Pending {
    /// The log position the standby must have replayed; nullopt when a write's position could
    /// not be read, and the primary must be asked for its current one.
    std::optional<std::uint64_t> position;
    /// Until when a read may wait for the standby before it reads from the primary.
    Clock::time_point deadline;
  };

  /// A write committed on the primary whose log then ended at `position` (nullopt: unknown).
  void wrote(std::optional<std::uint64_t> position, std::chrono::milliseconds wait) {
    const std::lock_guard lock(mutex_);
    if (position) {
      position_ = std::max(position_, *position);
    } else {
      unknown_ = true;
    }
    deadline_ = Clock::now() + wait;
  }

  /// The primary's position read after a write whose own position was unknown: it is past it.
  void resolve(std::uint64_t position) {
    const std::lock_guard lock(mutex_);
    position_ = std::max(position_, position);
    unknown_ = false;
  }

  /// The standby has replayed up to `position`: writes up to there need no more waiting.
  void replayed(std::uint64_t position) {
    const std::lock_guard lock(mutex_);
    if (!unknown_ && position_ <= position) position_ = 0;
  }

  std::optional<Pending> pending() const {
    const std::lock_guard lock(mutex_);
    if (unknown_) return Pending{std::nullopt, deadline_};
    if (position_ == 0) return std::nullopt;
    return Pending{position_, deadline_};
  }

 private:
  mutable std::mutex mutex_;
  std::uint64_t position_ = 0;  // 0: nothing to wait for
  bool unknown_ = false;
  Clock::time_point deadline_;
};

}  // namespace prkl::detail
