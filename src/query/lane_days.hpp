// SPDX-License-Identifier: MIT
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/replica.hpp"
#include "prkl/model.hpp"
#include "prkl/store.hpp"
#include "query/copied_prices.hpp"

namespace prkl::detail {

/// One lane's statistics for one day; `day` counts days since 1970-01-01. 24 bytes.
struct DayStats {
  std::int32_t day = 0;
  std::int32_t min = 0;
  std::int64_t sum = 0;
  std::int32_t max = 0;
  std::int32_t count = 0;
};

/// An in-memory, columnar copy of a store's lane-day aggregates: per lane, its days in order.
/// A rates question reads only the days of the lanes it covers, so its cost follows the size
/// of the answer, not of the prices table. The copy is tagged with the StoreVersion it
/// reflects and brought forward from the store's change records, so it stays exact when other
/// processes write.
///
/// Each port also has its lanes' days summed, once as origin and once as destination. A
/// question that takes every lane out of a port (or into one), as any question to or from the
/// whole world does, reads that one series instead of each lane's.
class LaneDays {
 public:
  /// The version this copy reflects; nullopt before the first load.
  const std::optional<StoreVersion>& version() const noexcept { return version_; }

  /// Reads what changed in the store since this copy's version (everything on the first call,
  /// or when the store's epoch moved) and applies it.
  void refresh(Store& store);

  /// Adds the days in [from, to] of every lane from one of `origins` to one of `destinations`
  /// into `slots` (one per day of the range, slot 0 being `from`). Port ids come from
  /// port_id() and are distinct.
  void aggregate(std::span<const std::int32_t> origins, std::span<const std::int32_t> destinations,
                 Date from, Date to, std::span<DailyAggregate> slots) const;

  /// Every origin row with every destination column: cell i * columns + j gets the days of
  /// the lanes from origins[i] to destinations[j], like aggregate() would, walking each
  /// origin port's lanes once for all the columns instead of once per column.
  void aggregate_matrix(std::span<const std::vector<std::int32_t>> origins,
                        std::span<const std::vector<std::int32_t>> destinations, Date from, Date to,
                        std::span<std::vector<DailyAggregate>> cells) const;

  /// A lane with prices in a range, and how many.
  struct LaneInRange {
    std::uint32_t id = 0;
    std::string origin;
    std::string destination;
    std::int64_t prices = 0;
  };
  /// The lanes from one of `origins` to one of `destinations` with days in [from, to].
  std::vector<LaneInRange> lanes_between(std::span<const std::int32_t> origins,
                                         std::span<const std::int32_t> destinations, Date from,
                                         Date to) const;

  /// The id of a port that has (or had) lanes; nullopt for any other code.
  std::optional<std::int32_t> port_id(std::string_view code) const;
  std::size_t port_count() const noexcept { return port_codes_.size(); }

  std::size_t lane_count() const noexcept { return lanes_.size(); }
  /// Moves whenever the copy is loaded from scratch, which numbers its lanes anew.
  std::uint64_t generation() const noexcept { return generation_; }
  /// The data version of the refresh that last saw lane `id` change (or that loaded it): a
  /// read of the lane at that version or later is the lane as this copy's version has it.
  std::int64_t changed_at(std::uint32_t id) const { return lanes_.at(id).changed_at; }
  /// The sum of lane `id`'s counts over all its days.
  std::int64_t lane_prices(std::uint32_t id) const;
  /// The lanes the last refresh saw change.
  const std::vector<std::uint32_t>& changed() const noexcept { return changed_; }
  std::size_t lane_day_count() const noexcept { return lane_days_; }
  /// Memory held, in bytes (allocated capacity included).
  std::size_t bytes() const noexcept;

  /// Applies one lane-day; a count of 0 removes it. Call update_totals() after a run of these.
  void put(std::string_view origin, std::string_view destination, const DayStats& stats);
  /// Adds a lane-day during a complete load, in any order; finish_load() orders them after.
  void append(std::string_view origin, std::string_view destination, const DayStats& stats);
  /// Orders every lane's days and sums the ports' totals after a complete load.
  void finish_load();
  /// Sums again the port totals of the days put() changed.
  void update_totals();
  void clear();

 private:
  /// Days in order, with the first and last kept beside them so a question can skip a series,
  /// and find where its range starts, without touching the series' own memory.
  struct Series {
    std::int32_t first_day = 0;
    std::int32_t last_day = -1;
    std::vector<DayStats> days;  // ascending by day

    void update_bounds() {
      first_day = days.empty() ? 0 : days.front().day;
      last_day = days.empty() ? -1 : days.back().day;
    }
    /// Sets one day (a count of 0 removes it); returns the change in the number of days.
    int set(const DayStats& stats);
    const DayStats* find(std::int32_t day) const;
  };
  struct Lane : Series {
    std::int32_t origin = 0;
    std::int32_t destination = 0;
    std::int64_t changed_at = 0;
  };
  /// Every lane of one port (as origin, or as destination), summed per day.
  struct PortSide {
    std::vector<std::uint32_t> lanes;  // ordered by the other port's code
    Series totals;
    // Kept only where the sums hold at most half the days of the lanes they sum (decided at
    // each complete load), so they never cost more memory than they save reading.
    bool has_totals = false;
  };

  std::int32_t intern(std::string_view code);
  Lane& lane_of(std::string_view origin, std::string_view destination);
  /// lane_of() for a complete load, which mostly arrives lane by lane (PostgreSQL) or day by
  /// day with each day's lanes in code order (SQLite): it finds the lane from the one before
  /// instead of through two hash lookups.
  Lane& next_lane_of(std::string_view origin, std::string_view destination);
  void sum_totals(PortSide& side, std::int32_t day);
  void sum_all_totals(PortSide& side);
  static void add_days(const Series& series, std::int32_t first, std::int32_t last,
                       std::span<DailyAggregate> slots);
  void add_series(const Series& series, std::int32_t first, std::int32_t last,
                  std::vector<const Series*>& out) const;

  std::optional<StoreVersion> version_;
  std::unordered_map<std::string, std::int32_t> port_ids_;
  std::vector<std::string> port_codes_;
  std::unordered_map<std::uint64_t, std::uint32_t> lane_ids_;  // origin << 32 | destination
  std::vector<Lane> lanes_;
  std::vector<PortSide> as_origin_, as_destination_;  // by port id
  // (port, day) pairs whose totals put() made stale.
  std::vector<std::pair<std::int32_t, std::int32_t>> stale_origins_, stale_destinations_;
  std::size_t lane_days_ = 0;
  std::uint64_t generation_ = 0;
  std::vector<std::uint32_t> changed_;
  // Where next_lane_of() is: the last lane found, and its place in its origin's lanes.
  const Lane* last_lane_ = nullptr;
  std::size_t last_place_ = 0;
};

/// A LaneDays shared by every Database of one process that opened the same store URL (the
/// Python binding's pool, say), so the copy is held and loaded once. Readers share it; a
/// refresh takes it alone.
struct SharedLaneDays {
  std::shared_mutex mutex;
  LaneDays lane_days;
  /// The prices of the lanes questions needing them asked about, kept in step with lane_days.
  CopiedPrices prices;
  /// Writes the read store (a standby) may not have replayed yet.
  ReplicaFence fence;

  /// The store's version, read by a check that started after this call did, so the answer is
  /// as fresh as reading it ourselves; callers that arrive together share one check (one round
  /// trip to a PostgreSQL server instead of one per thread).
  StoreVersion current_version(Store& store);

  /// The copy, brought up to `now` or later (from `from`), locked for reading. Throws Busy when
  /// reads from other servers took it back to another state five times in a row.
  std::shared_lock<std::shared_mutex> current(const StoreVersion& now, Store& from);

  /// Keeps `lanes` (ids of lane_days at `generation`, read together at `read`) in `prices`
  /// when each is as the copy has it, bringing the copy up to `read` from `from` if it is
  /// behind; at most `limit` prices and contracts in all.
  struct Kept {
    /// False when the copy had no room for one of them: ask the store.
    bool room = true;
    /// Lanes that changed after `read` (a standby behind the copy) and were not kept.
    std::size_t stale = 0;
  };
  Kept keep(std::span<const std::uint32_t> lanes, std::vector<CopiedLane>& read_lanes,
            std::span<const std::string> codes, std::uint64_t generation, const StoreVersion& read,
            Store& from, std::int64_t limit);

  /// The copy for `url`, shared with the process's other Databases on it; a private one when
  /// `url` is empty or names a store private to its connection (an in-memory SQLite database).
  static std::shared_ptr<SharedLaneDays> for_url(std::string_view url);

 private:
  /// Refreshes lane_days and forgets the prices of every lane it saw change. Call locked alone.
  void refresh(Store& from);

  std::mutex version_mutex_;
  std::condition_variable version_read_;
  std::uint64_t checks_started_ = 0;
  std::uint64_t checks_done_ = 0;
  bool checking_ = false;
  StoreVersion latest_;
};

}  // namespace prkl::detail
