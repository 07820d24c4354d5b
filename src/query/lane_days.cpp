// SPDX-License-Identifier: MIT
// The in-memory copy of the lane-day aggregates: loading, refreshing from the change log, summing.
#include "query/lane_days.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <utility>

#include "prkl/error.hpp"
#include "util/metrics.hpp"

namespace prkl::detail {

namespace {

std::int32_t day_number(Date day) {
  return std::int32_t(day.time_since_epoch().count());
}

class Loader final : public LaneDayReceiver {
 public:
  explicit Loader(LaneDays& target) : target_(target) {}

  void start(bool complete) override {
    complete_ = complete;
    if (complete) target_.clear();
  }

  bool complete() const noexcept { return complete_; }

  void row(const LaneDay& d) override {
    if (d.count < 0 || d.count > std::numeric_limits<std::int32_t>::max()) {
      throw StorageError(fmt::format("lane {} -> {} on {} has a count of {} prices", d.origin,
                                     d.destination, format_date(d.day), d.count));
    }
    const DayStats stats{day_number(d.day), d.min, d.sum, d.max, std::int32_t(d.count)};
    if (complete_) {
      target_.append(d.origin, d.destination, stats);
    } else {
      target_.put(d.origin, d.destination, stats);
    }
  }

 private:
  LaneDays& target_;
  bool complete_ = false;
};

// Where a lane's days from `first` on begin, given the lane's first day. A lane's days are
// distinct and ascending, so day `first` sits no further in than `first - first_day`: the search
// starts there and gallops back, touching a cache line or two next to the ones the scan reads
// anyway. (A binary search over each lane cost a cache miss per step and dominated wide
// questions.)
std::size_t first_at_or_after(const std::vector<DayStats>& days, std::int32_t first_day,
                              std::int32_t first) {
  if (first <= first_day) return 0;
  std::size_t high = std::min(std::size_t(first - first_day), days.size());
  std::size_t low = 0;  // days[low].day < first <= days[high].day (past the end counts as after)
  for (std::size_t step = 1;; step *= 2) {
    const std::size_t probe = high > step ? high - step : 0;
    if (days[probe].day < first) {
      low = probe;
      break;
    }
    high = probe;
  }
  return std::size_t(
      std::lower_bound(days.begin() + std::ptrdiff_t(low) + 1, days.begin() + std::ptrdiff_t(high),
                       first, [](const DayStats& d, std::int32_t day) { return d.day < day; }) -
      days.begin());
}

}  // namespace

void LaneDays::refresh(Store& store) {
  const std::optional<StoreVersion> since = std::exchange(version_, std::nullopt);
  // Until the read completes the copy is marked unknown, so a failure part-way makes the next
  // refresh start over. Rows are absolute values, so applying some twice is harmless.
  changed_.clear();
  Loader loader(*this);
  const StoreVersion now = store.read_lane_days(since, loader);
  if (loader.complete()) {
    finish_load();
    for (Lane& lane : lanes_) lane.changed_at = now.data;
  } else {
    update_totals();
    std::sort(changed_.begin(), changed_.end());
    changed_.erase(std::unique(changed_.begin(), changed_.end()), changed_.end());
    for (const std::uint32_t id : changed_) lanes_[id].changed_at = now.data;
  }
  version_ = now;
}

std::int32_t LaneDays::intern(std::string_view code) {
  if (const auto found = port_ids_.find(std::string(code)); found != port_ids_.end()) {
    return found->second;
  }
  const auto id = std::int32_t(port_codes_.size());
  port_codes_.emplace_back(code);
  port_ids_.emplace(code, id);
  as_origin_.emplace_back();
  as_destination_.emplace_back();
  return id;
}

std::optional<std::int32_t> LaneDays::port_id(std::string_view code) const {
  const auto found = port_ids_.find(std::string(code));
  if (found == port_ids_.end()) return std::nullopt;
  return found->second;
}

LaneDays::Lane& LaneDays::lane_of(std::string_view origin, std::string_view destination) {
  const std::int32_t from = intern(origin);
  const std::int32_t to = intern(destination);
  const std::uint64_t key = (std::uint64_t(std::uint32_t(from)) << 32) | std::uint32_t(to);
  auto [found, added] = lane_ids_.try_emplace(key, std::uint32_t(lanes_.size()));
  if (added) {
    Lane& lane = lanes_.emplace_back();
    lane.origin = from;
    lane.destination = to;
    last_lane_ = nullptr;                    // lanes_ may have moved
    const std::uint32_t id = found->second;  // clang 14 cannot capture a structured binding
    // Each port's lanes stay ordered by the other port's code, the order a store sends them in.
    const auto insert_ordered = [&](std::vector<std::uint32_t>& ids, bool by_destination) {
      const std::string& code = port_codes_[std::size_t(by_destination ? to : from)];
      const auto at = std::lower_bound(
          ids.begin(), ids.end(), code, [&](std::uint32_t id, const std::string& c) {
            const Lane& l = lanes_[id];
            return port_codes_[std::size_t(by_destination ? l.destination : l.origin)] < c;
          });
      ids.insert(at, id);
    };
    insert_ordered(as_origin_[std::size_t(from)].lanes, true);
    insert_ordered(as_destination_[std::size_t(to)].lanes, false);
  }
  return lanes_[found->second];
}

LaneDays::Lane& LaneDays::next_lane_of(std::string_view origin, std::string_view destination) {
  // Walks an origin's lanes (ordered by destination code) from `place` to `destination`,
  // skipping those without prices that day; nullptr once past where it would be.
  const auto walk = [&](std::int32_t from, std::size_t place) -> Lane* {
    const std::vector<std::uint32_t>& ids = as_origin_[std::size_t(from)].lanes;
    for (; place < ids.size(); ++place) {
      Lane& lane = lanes_[ids[place]];
      const std::string& code = port_codes_[std::size_t(lane.destination)];
      if (code == destination) {
        last_lane_ = &lane;
        last_place_ = place;
        return &lane;
      }
      if (code > destination) break;
    }
    return nullptr;
  };
  if (last_lane_) {
    const std::int32_t from = last_lane_->origin;
    if (port_codes_[std::size_t(from)] == origin) {
      if (port_codes_[std::size_t(last_lane_->destination)] == destination) {
        return lanes_[std::size_t(last_lane_ - lanes_.data())];
      }
      if (Lane* lane = walk(from, last_place_ + 1)) return *lane;
    } else if (const auto id = port_id(origin)) {
      if (Lane* lane = walk(*id, 0)) return *lane;
    }
  }
  Lane& lane = lane_of(origin, destination);
  const std::vector<std::uint32_t>& ids = as_origin_[std::size_t(lane.origin)].lanes;
  last_place_ = std::size_t(
      std::find(ids.begin(), ids.end(), std::uint32_t(&lane - lanes_.data())) - ids.begin());
  last_lane_ = &lane;
  return lane;
}

int LaneDays::Series::set(const DayStats& stats) {
  int change = 0;
  // A new day after the last is the common case.
  if (days.empty() || days.back().day < stats.day) {
    if (stats.count > 0) {
      days.push_back(stats);
      change = 1;
    }
  } else if (const auto at =
                 std::lower_bound(days.begin(), days.end(), stats.day,
                                  [](const DayStats& d, std::int32_t day) { return d.day < day; });
             at != days.end() && at->day == stats.day) {
    if (stats.count > 0) {
      *at = stats;
    } else {
      days.erase(at);
      change = -1;
    }
  } else if (stats.count > 0) {
    days.insert(at, stats);
    change = 1;
  }
  update_bounds();
  return change;
}

const DayStats* LaneDays::Series::find(std::int32_t day) const {
  if (day < first_day || day > last_day) return nullptr;
  const auto at = std::lower_bound(days.begin(), days.end(), day,
                                   [](const DayStats& d, std::int32_t x) { return d.day < x; });
  return at != days.end() && at->day == day ? &*at : nullptr;
}

void LaneDays::append(std::string_view origin, std::string_view destination,
                      const DayStats& stats) {
  if (stats.count == 0) return;
  next_lane_of(origin, destination).days.push_back(stats);
  ++lane_days_;
}

void LaneDays::put(std::string_view origin, std::string_view destination, const DayStats& stats) {
  Lane& lane = lane_of(origin, destination);
  lane_days_ = std::size_t(std::int64_t(lane_days_) + lane.set(stats));
  changed_.push_back(std::uint32_t(&lane - lanes_.data()));
  stale_origins_.emplace_back(lane.origin, stats.day);
  stale_destinations_.emplace_back(lane.destination, stats.day);
}

namespace {

void add_into(DayStats& total, const DayStats& d) {
  if (total.count == 0) {
    total.min = d.min;
    total.max = d.max;
  } else {
    total.min = std::min(total.min, d.min);
    total.max = std::max(total.max, d.max);
  }
  total.count += d.count;
  total.sum += d.sum;
}

}  // namespace

void LaneDays::sum_totals(PortSide& side, std::int32_t day) {
  if (!side.has_totals) return;
  DayStats total{day, 0, 0, 0, 0};
  for (const std::uint32_t id : side.lanes) {
    if (const DayStats* d = lanes_[id].find(day)) add_into(total, *d);
  }
  side.totals.set(total);
}

void LaneDays::sum_all_totals(PortSide& side) {
  std::int32_t first = std::numeric_limits<std::int32_t>::max(), last = 0;
  for (const std::uint32_t id : side.lanes) {
    if (lanes_[id].days.empty()) continue;
    first = std::min(first, lanes_[id].first_day);
    last = std::max(last, lanes_[id].last_day);
  }
  side.totals = {};
  side.has_totals = false;
  if (first > last) return;
  std::vector<DayStats> dense(std::size_t(last - first + 1));
  std::size_t lane_days = 0;
  for (const std::uint32_t id : side.lanes) {
    for (const DayStats& d : lanes_[id].days) add_into(dense[std::size_t(d.day - first)], d);
    lane_days += lanes_[id].days.size();
  }
  const auto days = std::size_t(
      std::count_if(dense.begin(), dense.end(), [](const DayStats& d) { return d.count > 0; }));
  if (2 * days > lane_days) return;
  side.has_totals = true;
  side.totals.days.reserve(days);
  for (std::size_t i = 0; i < dense.size(); ++i) {
    if (dense[i].count == 0) continue;
    dense[i].day = first + std::int32_t(i);
    side.totals.days.push_back(dense[i]);
  }
  side.totals.update_bounds();
}

void LaneDays::finish_load() {
  const auto by_day = [](const DayStats& a, const DayStats& b) { return a.day < b.day; };
  for (Lane& lane : lanes_) {
    if (!std::is_sorted(lane.days.begin(), lane.days.end(), by_day)) {
      std::sort(lane.days.begin(), lane.days.end(), by_day);
    }
    lane.days.shrink_to_fit();
    lane.update_bounds();
  }
  for (PortSide& side : as_origin_) sum_all_totals(side);
  for (PortSide& side : as_destination_) sum_all_totals(side);
  stale_origins_.clear();
  stale_destinations_.clear();
}

void LaneDays::update_totals() {
  for (auto [stale, sides] : {std::pair{&stale_origins_, &as_origin_},
                              std::pair{&stale_destinations_, &as_destination_}}) {
    std::sort(stale->begin(), stale->end());
    stale->erase(std::unique(stale->begin(), stale->end()), stale->end());
    for (const auto& [port, day] : *stale) sum_totals((*sides)[std::size_t(port)], day);
    stale->clear();
  }
}

void LaneDays::clear() {
  version_.reset();
  ++generation_;
  changed_.clear();
  port_ids_.clear();
  port_codes_.clear();
  lane_ids_.clear();
  lanes_.clear();
  as_origin_.clear();
  as_destination_.clear();
  stale_origins_.clear();
  stale_destinations_.clear();
  lane_days_ = 0;
  last_lane_ = nullptr;
}

void LaneDays::add_series(const Series& series, std::int32_t first, std::int32_t last,
                          std::vector<const Series*>& out) const {
  if (series.last_day >= first && series.first_day <= last) out.push_back(&series);
}

void LaneDays::aggregate(std::span<const std::int32_t> origins,
                         std::span<const std::int32_t> destinations, Date from, Date to,
                         std::span<DailyAggregate> slots) const {
  const std::int32_t first = day_number(from);
  const std::int32_t last = day_number(to);
  std::vector<bool> is_origin(port_codes_.size()), is_destination(port_codes_.size());
  for (const std::int32_t p : origins) is_origin[std::size_t(p)] = true;
  for (const std::int32_t p : destinations) is_destination[std::size_t(p)] = true;

  // Two ways to cover the same lanes: by origin (a port's total where all its lanes go to the
  // destinations, its lanes one by one otherwise) or by destination. The one with fewer series
  // to read wins; either way each lane asked about counts exactly once.
  const auto plan = [&](std::span<const std::int32_t> ports, const std::vector<PortSide>& sides,
                        const std::vector<bool>& other_side, bool by_origin) {
    std::vector<const Series*> series;
    for (const std::int32_t port : ports) {
      const PortSide& side = sides[std::size_t(port)];
      std::size_t inside = 0;
      for (const std::uint32_t id : side.lanes) {
        const Lane& lane = lanes_[id];
        inside += other_side[std::size_t(by_origin ? lane.destination : lane.origin)];
      }
      if (inside == 0) continue;
      if (inside == side.lanes.size() && side.has_totals) {
        add_series(side.totals, first, last, series);
        continue;
      }
      for (const std::uint32_t id : side.lanes) {
        const Lane& lane = lanes_[id];
        if (other_side[std::size_t(by_origin ? lane.destination : lane.origin)]) {
          add_series(lane, first, last, series);
        }
      }
    }
    return series;
  };
  std::vector<const Series*> chosen = plan(origins, as_origin_, is_destination, true);
  if (chosen.size() > 1) {
    std::vector<const Series*> by_destination =
        plan(destinations, as_destination_, is_origin, false);
    if (by_destination.size() < chosen.size()) chosen.swap(by_destination);
  }

  // Each series' days live in memory of their own, so reaching its first day in the range is a
  // cache miss; fetching a few series ahead lets those misses overlap instead of queueing.
  constexpr std::size_t ahead = 8;
  const auto likely_start = [first](const Series& s) {
    const auto guess = std::size_t(std::max(first - s.first_day, 0));
    return s.days.data() + std::min(guess, s.days.size() - 1);
  };
  for (std::size_t i = 0; i < chosen.size(); ++i) {
    if (i + ahead < chosen.size()) __builtin_prefetch(likely_start(*chosen[i + ahead]));
    add_days(*chosen[i], first, last, slots);
  }
}

void LaneDays::add_days(const Series& s, std::int32_t first, std::int32_t last,
                        std::span<DailyAggregate> slots) {
  auto at = s.days.begin() + std::ptrdiff_t(first_at_or_after(s.days, s.first_day, first));
  for (; at != s.days.end() && at->day <= last; ++at) {
    DailyAggregate& slot = slots[std::size_t(at->day - first)];
    if (slot.count == 0) {
      slot.min = at->min;
      slot.max = at->max;
    } else {
      slot.min = std::min(slot.min, at->min);
      slot.max = std::max(slot.max, at->max);
    }
    slot.count += at->count;
    slot.sum += at->sum;
  }
}

void LaneDays::aggregate_matrix(std::span<const std::vector<std::int32_t>> origins,
                                std::span<const std::vector<std::int32_t>> destinations, Date from,
                                Date to, std::span<std::vector<DailyAggregate>> cells) const {
  const std::int32_t first = day_number(from);
  const std::int32_t last = day_number(to);
  // The columns each port belongs to, as one flat list per port (a port may be in several).
  std::vector<std::uint32_t> starts(port_codes_.size() + 1, 0);
  for (const auto& column : destinations) {
    for (const std::int32_t port : column) ++starts[std::size_t(port) + 1];
  }
  for (std::size_t i = 1; i < starts.size(); ++i) starts[i] += starts[i - 1];
  std::vector<std::uint32_t> columns(starts.back());
  std::vector<std::uint32_t> filled(starts.begin(), starts.end() - 1);
  for (std::size_t j = 0; j < destinations.size(); ++j) {
    for (const std::int32_t port : destinations[j]) {
      columns[filled[std::size_t(port)]++] = std::uint32_t(j);
    }
  }
  // First the (lane, cell) pairs, then the days: reading a lane's days is a cache miss, and
  // knowing the next lanes ahead lets those misses overlap, as in aggregate().
  std::vector<std::pair<const Lane*, std::size_t>> work;
  for (std::size_t i = 0; i < origins.size(); ++i) {
    for (const std::int32_t port : origins[i]) {
      for (const std::uint32_t id : as_origin_[std::size_t(port)].lanes) {
        const Lane& lane = lanes_[id];
        const auto to_port = std::size_t(lane.destination);
        if (starts[to_port] == starts[to_port + 1]) continue;
        if (lane.last_day < first || lane.first_day > last) continue;
        for (std::uint32_t c = starts[to_port]; c < starts[to_port + 1]; ++c) {
          work.emplace_back(&lane, i * destinations.size() + columns[c]);
        }
      }
    }
  }
  constexpr std::size_t ahead = 8;
  for (std::size_t k = 0; k < work.size(); ++k) {
    if (k + ahead < work.size()) {
      const Lane& next = *work[k + ahead].first;
      const auto guess = std::size_t(std::max(first - next.first_day, 0));
      __builtin_prefetch(next.days.data() + std::min(guess, next.days.size() - 1));
    }
    add_days(*work[k].first, first, last, cells[work[k].second]);
  }
}

std::vector<LaneDays::LaneInRange> LaneDays::lanes_between(
    std::span<const std::int32_t> origins, std::span<const std::int32_t> destinations, Date from,
    Date to) const {
  const std::int32_t first = day_number(from);
  const std::int32_t last = day_number(to);
  std::vector<bool> is_destination(port_codes_.size());
  for (const std::int32_t p : destinations) is_destination[std::size_t(p)] = true;
  std::vector<LaneInRange> out;
  for (const std::int32_t port : origins) {
    for (const std::uint32_t id : as_origin_[std::size_t(port)].lanes) {
      const Lane& lane = lanes_[id];
      if (!is_destination[std::size_t(lane.destination)]) continue;
      if (lane.last_day < first || lane.first_day > last) continue;
      const auto begin =
          lane.days.begin() + std::ptrdiff_t(first_at_or_after(lane.days, lane.first_day, first));
      if (begin == lane.days.end() || begin->day > last) continue;
      std::int64_t prices = 0;
      for (auto at = begin; at != lane.days.end() && at->day <= last; ++at) prices += at->count;
      out.push_back({id, port_codes_[std::size_t(lane.origin)],
                     port_codes_[std::size_t(lane.destination)], prices});
    }
  }
  return out;
}

std::int64_t LaneDays::lane_prices(std::uint32_t id) const {
  std::int64_t total = 0;
  for (const DayStats& d : lanes_.at(id).days) total += d.count;
  return total;
}

std::size_t LaneDays::bytes() const noexcept {
  const auto series_bytes = [](const Series& s) { return s.days.capacity() * sizeof(DayStats); };
  std::size_t total = sizeof(*this) + lanes_.capacity() * sizeof(Lane);
  for (const Lane& lane : lanes_) total += series_bytes(lane);
  for (const auto* sides : {&as_origin_, &as_destination_}) {
    total += sides->capacity() * sizeof(PortSide);
    for (const PortSide& side : *sides) {
      total += side.lanes.capacity() * sizeof(std::uint32_t) + series_bytes(side.totals);
    }
  }
  // Hash nodes: key, value, next pointer and the bucket slot, roughly.
  total += lane_ids_.size() * (sizeof(std::uint64_t) + sizeof(std::uint32_t) + 2 * sizeof(void*));
  for (const std::string& code : port_codes_) total += 2 * (sizeof(std::string) + code.capacity());
  total += port_ids_.size() * (sizeof(std::int32_t) + 2 * sizeof(void*));
  return total;
}

StoreVersion SharedLaneDays::current_version(Store& store) {
  std::unique_lock lock(version_mutex_);
  // A check already under way may have read the version before this call began: only one that
  // starts from now on will do.
  const std::uint64_t needed = checks_started_ + 1;
  while (checks_done_ < needed) {
    if (checking_) {
      version_read_.wait(lock);
      continue;
    }
    checking_ = true;
    const std::uint64_t mine = ++checks_started_;
    lock.unlock();
    StoreVersion now;
    try {
      now = store.version();
    } catch (...) {
      lock.lock();
      checking_ = false;
      version_read_.notify_all();  // a waiter starts the next check
      throw;
    }
    lock.lock();
    checking_ = false;
    latest_ = now;
    checks_done_ = mine;
    version_read_.notify_all();
  }
  return latest_;
}

std::shared_lock<std::shared_mutex> SharedLaneDays::current(const StoreVersion& now, Store& from) {
  // Another thread may have brought the shared copy further than `now`: that is a newer
  // committed state, as good an answer as the one asked for.
  std::shared_lock read(mutex);
  const auto is_current = [&] {
    const auto& have = lane_days.version();
    return have && have->epoch == now.epoch && have->data >= now.data;
  };
  bool hit = is_current();
  record_cache(hit);
  for (int attempt = 1; !hit; ++attempt) {
    read.unlock();
    std::optional<StoreVersion> refreshed;
    {
      const std::unique_lock write(mutex);
      if (!is_current()) refresh(from);
      refreshed = lane_days.version();
    }
    read.lock();
    // Meanwhile another Database may have refreshed the copy from a server at another state (a
    // standby behind, after a bulk replace): only a copy at least as new as this one's will do.
    const auto& have = lane_days.version();
    hit = have && refreshed && have->epoch == refreshed->epoch && have->data >= refreshed->data;
    if (!hit && attempt == 5) {
      throw Busy(
          "the in-memory copy was taken back to another state five times in a row by reads "
          "from other servers; nothing was answered (ask again)");
    }
  }
  return read;
}

void SharedLaneDays::refresh(Store& from) {
  const std::uint64_t generation = lane_days.generation();
  try {
    lane_days.refresh(from);
  } catch (...) {
    // Part of a change may have been applied to the aggregates: whatever it touched, or all
    // after a reload begun, is no longer known to be the store's.
    if (lane_days.generation() != generation) prices.clear();
    for (const std::uint32_t id : lane_days.changed()) prices.forget(id);
    throw;
  }
  if (lane_days.generation() != generation) prices.clear();
  for (const std::uint32_t id : lane_days.changed()) prices.forget(id);
}

SharedLaneDays::Kept SharedLaneDays::keep(std::span<const std::uint32_t> lanes,
                                          std::vector<CopiedLane>& read_lanes,
                                          std::span<const std::string> codes,
                                          std::uint64_t generation, const StoreVersion& read,
                                          Store& from, std::int64_t limit) {
  const std::unique_lock write(mutex);
  const auto behind = [&] {
    const auto& have = lane_days.version();
    return have && have->epoch == read.epoch && have->data < read.data;
  };
  if (behind()) refresh(from);
  const auto& have = lane_days.version();
  Kept kept;
  // Reloaded since (the ids are another numbering), or at another epoch: keep nothing.
  if (!have || have->epoch != read.epoch || have->data < read.data ||
      lane_days.generation() != generation) {
    kept.stale = lanes.size();
    return kept;
  }
  for (std::size_t i = 0; i < lanes.size(); ++i) {
    if (lane_days.changed_at(lanes[i]) > read.data) {
      ++kept.stale;
    } else if (!prices.keep(lanes[i], std::move(read_lanes[i]), codes, limit)) {
      kept.room = false;
      break;
    }
  }
  return kept;
}

std::shared_ptr<SharedLaneDays> SharedLaneDays::for_url(std::string_view url) {
  std::string key(url);
  if (url.starts_with("sqlite:")) {
    std::string_view path = url.substr(7);
    if (path.starts_with("//")) path.remove_prefix(2);
    // An in-memory database belongs to its one connection: nothing to share.
    if (path.empty() || path.find(":memory:") != std::string_view::npos) key.clear();
    std::error_code error;
    if (!key.empty()) {
      const auto canonical = std::filesystem::weakly_canonical(std::filesystem::path(path), error);
      if (!error) key = "sqlite:" + canonical.string();
    }
  }
  if (key.empty()) return std::make_shared<SharedLaneDays>();
  static std::mutex registry_mutex;
  static std::unordered_map<std::string, std::weak_ptr<SharedLaneDays>> registry;
  const std::lock_guard lock(registry_mutex);
  std::erase_if(registry, [](const auto& entry) { return entry.second.expired(); });
  std::weak_ptr<SharedLaneDays>& slot = registry[key];
  if (auto shared = slot.lock()) return shared;
  auto made = std::make_shared<SharedLaneDays>();
  slot = made;
  return made;
}

}  // namespace prkl::detail
