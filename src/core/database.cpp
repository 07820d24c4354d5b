// SPDX-License-Identifier: MIT
#include "prkl/database.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <set>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "batch/batch.hpp"
#include "fx/rate_table.hpp"
#include "geography/geography.hpp"
#include "prkl/dump.hpp"
#include "prkl/error.hpp"
#include "prkl/exchange.hpp"
#include "query/lane_days.hpp"
#include "query/rates.hpp"
#include "util/exact.hpp"
#include "util/metrics.hpp"
#include "util/text.hpp"

namespace prkl {

namespace {

std::string utc_now_iso() {
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  const auto day = std::chrono::floor<std::chrono::days>(now);
  const std::chrono::hh_mm_ss time{now - day};
  return fmt::format("{}T{:02}:{:02}:{:02}Z", format_date(day), time.hours().count(),
                     time.minutes().count(), time.seconds().count());
}

BatchResult result_of(const BatchRecord& record, bool replayed) {
  return {record.id, record.rows, record.prices, record.applied_at, replayed, record.rates_used};
}

}  // namespace

namespace {

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

}  // namespace

Database Database::open(std::string_view url, OpenMode mode, Options options) {
  return open(url, {}, mode, options);
}

Database Database::open(std::string_view url, std::string_view read_url, OpenMode mode,
                        Options options) {
  // Checked before the store is opened, which may create it.
  check_options(options);
  const StoreOptions store_options{options.connect_timeout, options.busy_timeout};
  std::unique_ptr<Store> store = open_store(url, mode, store_options);
  if (read_url.empty()) {
    return Database(std::move(store), nullptr, options, detail::SharedLaneDays::for_url(url));
  }
  // A schema just created on the primary reaches the standby a moment later.
  const auto deadline =
      std::chrono::steady_clock::now() +
      (mode == OpenMode::create ? options.replica_wait : std::chrono::milliseconds{0});
  std::unique_ptr<Store> read_store;
  for (;;) {
    try {
      read_store = open_store(read_url, OpenMode::existing, store_options);
      break;
    } catch (const StorageError&) {  // not set up for prkl yet, or not up
      if (std::chrono::steady_clock::now() >= deadline) throw;
    } catch (const NotFound&) {  // the database itself not there yet
      if (std::chrono::steady_clock::now() >= deadline) throw;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  // Shared by the Databases that read where this one does.
  Database db(std::move(store), std::move(read_store), options,
              detail::SharedLaneDays::for_url(read_url));
  if (mode == OpenMode::create) db.note_write();
  return db;
}

Database::Database(std::unique_ptr<Store> store, Options options)
    : Database(std::move(store), nullptr, options, detail::SharedLaneDays::for_url({})) {}

Database::Database(std::unique_ptr<Store> store, std::unique_ptr<Store> read_store, Options options)
    : Database(std::move(store), std::move(read_store), options,
               detail::SharedLaneDays::for_url({})) {}

Database::Database(std::unique_ptr<Store> store, std::unique_ptr<Store> read_store, Options options,
                   std::shared_ptr<detail::SharedLaneDays> lane_days)
    : store_(std::move(store)),
      read_store_(std::move(read_store)),
      options_(options),
      lane_days_(std::move(lane_days)) {
  if (!store_) throw InvalidArgument("Database needs a store");
  check_options(options_);
}

Database::Database(Database&&) noexcept = default;
Database& Database::operator=(Database&&) noexcept = default;
Database::~Database() = default;

std::vector<std::string> Database::init() {
  return detail::measured(detail::Operation::init, [&]() -> std::vector<std::string> {
    std::vector<std::string> added = store_->init();
    note_write();
    return added;
  });
}

Store& Database::reader() {
  if (!read_store_) return *store_;
  detail::ReplicaFence& fence = lane_days_->fence;
  auto pending = fence.pending();
  if (!pending.position) {
    // A write whose position was not read: the primary's position now is past it.
    try {
      fence.resolve(store_->log_position(), pending.unknown_writes);
    } catch (const StorageError&) {
      return *store_;
    }
    pending = fence.pending();
    if (!pending.position) return *store_;  // another one since: asked again on the next read
  }
  const std::uint64_t wanted = *pending.position;
  // Read before the check, so a reconnect during it makes the next read check again.
  const std::uint64_t generation = read_store_->connection_generation();
  if (wanted <= replayed_ && generation == replayed_generation_) return *read_store_;
  // Replay usually trails by a millisecond or two: poll briefly at first.
  for (auto pause = std::chrono::milliseconds{1};;
       pause = std::min(pause * 2, std::chrono::milliseconds{64})) {
    if (read_store_->has_replayed(wanted)) {
      replayed_ = wanted;
      replayed_generation_ = generation;
      detail::record_replica_check(true);
      return *read_store_;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= pending.deadline) {
      detail::record_replica_check(false);
      return *store_;
    }
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(pause, pending.deadline - now));
  }
}

void Database::note_write() {
  if (!read_store_) return;
  std::optional<std::uint64_t> position;
  try {
    position = store_->log_position();
  } catch (const StorageError&) {
    // The write committed; the next read asks the primary again.
  }
  lane_days_->fence.wrote(position, options_.replica_wait);
}

StoreVersion Database::version_of(Store& from) {
  // With a read store, the other Databases' connections may be to other servers (a standby
  // further behind, the primary): each reads its own. A SQLite connection reads its own too: a
  // read of a local file costs less than waiting for another thread's, and readers never queue
  // behind one another. Sharing one read pays where it is a round trip to a server.
  detail::record_version_read();
  last_version_ = read_store_ || from.backend() == "sqlite" ? from.version()
                                                            : lane_days_->current_version(from);
  return last_version_;
}

StoreVersion Database::version() {
  return version_of(reader());
}

StoreVersion Database::refresh_geography(Store& from) {
  const StoreVersion now = version_of(from);
  // The cache takes the generation its own snapshot was read at, which may be newer than `now`.
  if (!geography_ || now.geography != geography_generation_) {
    GeographySnapshot snapshot = from.geography();
    // Regions written by other SQL never passed load()'s checks; a cycle or a tree too deep for
    // the tree's consumers is refused here, before anything is answered from it. In slug order,
    // so that the region named is the same on every backend.
    std::sort(snapshot.regions.begin(), snapshot.regions.end(),
              [](const Region& a, const Region& b) { return a.slug < b.slug; });
    const std::vector<RowError> broken =
        detail::Geography::check_tree(snapshot.regions, options_.max_region_depth);
    if (!broken.empty()) {
      throw StorageError(
          fmt::format("the store's regions table cannot be used: {}{}", broken.front().message,
                      broken.size() > 1 ? fmt::format(" (and {} more problems)", broken.size() - 1)
                                        : std::string()));
    }
    geography_ =
        std::make_unique<detail::Geography>(std::move(snapshot.regions), std::move(snapshot.ports));
    geography_generation_ = snapshot.generation;
  }
  return now;
}

const detail::Geography& Database::geography(Store& from) {
  refresh_geography(from);
  return *geography_;
}

std::vector<RateDay> Database::rates(const RatesQuery& query) {
  return detail::measured(detail::Operation::rates, [&]() -> std::vector<RateDay> {
    MatrixQuery matrix{
        query.date_from, query.date_to, {query.origin}, {query.destination}, query.options()};
    return std::move(rates_matrix(matrix).front().days);
  });
}

namespace {

void check_rates_question(const MatrixQuery& query, const Options& options) {
  if (query.date_from > query.date_to) {
    throw InvalidArgument(fmt::format("reversed range: date_from {} is after date_to {}",
                                      format_date(query.date_from), format_date(query.date_to)));
  }
  const std::int64_t days = (query.date_to - query.date_from).count() + 1;
  if (days > options.max_range_days) {
    throw InvalidArgument(fmt::format("range {}..{} is {} days, more than the maximum of {}",
                                      format_date(query.date_from), format_date(query.date_to),
                                      days, options.max_range_days));
  }
  const RatesOptions& o = query.options;
  if (o.min_count < 1) {
    throw InvalidArgument(fmt::format("min_count {} must be at least 1", o.min_count));
  }
  if (o.scale < 0 || o.scale > max_average_scale) {
    throw InvalidArgument(fmt::format("scale {} is outside 0..{}", o.scale, max_average_scale));
  }
  if (o.bucket != Bucket::day && o.bucket != Bucket::week && o.bucket != Bucket::month) {
    throw InvalidArgument(fmt::format("unknown bucket {}", int(o.bucket)));
  }
  for (std::size_t i = 0; i < o.percentiles.size(); ++i) {
    const int p = o.percentiles[i];
    if (p < 1 || p > 99) {
      throw InvalidArgument(fmt::format("percentile {} is outside 1..99", p));
    }
    if (std::find(o.percentiles.begin(), o.percentiles.begin() + std::ptrdiff_t(i), p) !=
        o.percentiles.begin() + std::ptrdiff_t(i)) {
      throw InvalidArgument(fmt::format("percentile {} is asked for twice", p));
    }
  }
  if (!is_currency_code(o.currency)) {
    throw InvalidArgument(fmt::format("currency {} is not an ISO 4217 code (three capital letters)",
                                      quoted_value(o.currency)));
  }
  if (query.origins.empty() || query.destinations.empty()) {
    throw InvalidArgument("a rates matrix needs at least one origin and one destination");
  }
  const auto pairs = std::int64_t(query.origins.size() * query.destinations.size());
  if (pairs > options.max_matrix_lanes) {
    throw InvalidArgument(fmt::format(
        "{} origins x {} destinations is {} lanes, more than the maximum of {} per call",
        query.origins.size(), query.destinations.size(), pairs, options.max_matrix_lanes));
  }
  // What the answer will hold is known before anything is read: too much is refused now, not
  // after it has taken the memory.
  const auto buckets =
      std::int64_t(detail::BucketPlan(o.bucket, query.date_from, query.date_to).size());
  const auto per_bucket = 5 + std::int64_t(o.percentiles.size());
  if (pairs * buckets * per_bucket > options.max_answer_values) {
    throw AnswerTooLarge(fmt::format(
        "the answer would hold {} values ({} lanes x {} buckets x {} values), more than the "
        "maximum of {} (Options::max_answer_values): ask fewer lanes, a shorter range, a "
        "coarser bucket or fewer percentiles",
        pairs * buckets * per_bucket, pairs, buckets, per_bucket, options.max_answer_values));
  }
  // Checked after the limit, which bounds this quadratic look.
  for (const auto& [locations, what] :
       {std::pair{&query.origins, "origin"}, std::pair{&query.destinations, "destination"}}) {
    for (std::size_t i = 0; i < locations->size(); ++i) {
      detail::require_text(what, (*locations)[i]);
      const auto earlier = locations->begin() + std::ptrdiff_t(i);
      if (std::find(locations->begin(), earlier, (*locations)[i]) != earlier) {
        throw InvalidArgument(
            fmt::format("{} {} is given twice", what, quoted_value((*locations)[i])));
      }
    }
  }
}

// True when every lane of `later` is one of `keys`: nothing the question covers appeared since
// `keys` were taken.
bool covers(std::span<const LaneKey> keys,
            const std::vector<detail::LaneDays::LaneInRange>& later) {
  std::vector<std::pair<std::string_view, std::string_view>> known;
  known.reserve(keys.size());
  for (const LaneKey& key : keys) known.emplace_back(key.origin, key.destination);
  std::sort(known.begin(), known.end());
  return std::all_of(later.begin(), later.end(), [&](const auto& lane) {
    return std::binary_search(
        known.begin(), known.end(),
        std::pair<std::string_view, std::string_view>(lane.origin, lane.destination));
  });
}

// Routes each price read from the store to every cell of the matrix its lane belongs to.
class PriceRouter final : public PriceReceiver {
 public:
  PriceRouter(const std::vector<std::vector<std::string>>& origins,
              const std::vector<std::vector<std::string>>& destinations, Date from)
      : columns_(destinations.size()), from_(from), cells_(origins.size() * destinations.size()) {
    for (std::size_t i = 0; i < origins.size(); ++i) {
      for (const std::string& code : origins[i]) rows_of_[code].push_back(i);
    }
    for (std::size_t j = 0; j < destinations.size(); ++j) {
      for (const std::string& code : destinations[j]) columns_of_[code].push_back(j);
    }
  }

  /// The cells each of `lanes` feeds; call before the store reads them.
  void route(std::span<const LaneKey> lanes) {
    for (auto& cell : cells_) cell.clear();
    lane_cells_.assign(lanes.size(), {});
    for (std::size_t k = 0; k < lanes.size(); ++k) {
      const auto rows = rows_of_.find(std::string(lanes[k].origin));
      const auto columns = columns_of_.find(std::string(lanes[k].destination));
      if (rows == rows_of_.end() || columns == columns_of_.end()) continue;
      for (const std::size_t i : rows->second) {
        for (const std::size_t j : columns->second) lane_cells_[k].push_back(i * columns_ + j);
      }
    }
  }

  std::size_t cells_of(std::size_t lane) const { return lane_cells_[lane].size(); }

  void price(std::size_t lane, Date day, std::int32_t price) override {
    const detail::SlotPrice value{std::int32_t((day - from_).count()), price};
    for (const std::size_t cell : lane_cells_.at(lane)) cells_[cell].push_back(value);
  }

  std::vector<detail::SlotPrice>& cell(std::size_t i, std::size_t j) {
    return cells_[i * columns_ + j];
  }

 private:
  using Index = std::unordered_map<std::string, std::vector<std::size_t>>;

  std::size_t columns_;
  Date from_;
  Index rows_of_, columns_of_;
  std::vector<std::vector<std::size_t>> lane_cells_;
  std::vector<std::vector<detail::SlotPrice>> cells_;
};

}  // namespace

std::shared_lock<std::shared_mutex> Database::current_lane_days(const StoreVersion& now,
                                                                Store& from) {
  // Another thread may have brought the shared copy further than `now`: that is a newer
  // committed state, as good an answer as the one asked for.
  std::shared_lock read(lane_days_->mutex);
  const auto is_current = [&] {
    const auto& have = lane_days_->lane_days.version();
    return have && have->epoch == now.epoch && have->data >= now.data;
  };
  bool hit = is_current();
  detail::record_cache(hit);
  for (int attempt = 1; !hit; ++attempt) {
    read.unlock();
    std::optional<StoreVersion> refreshed;
    {
      const std::unique_lock write(lane_days_->mutex);
      if (!is_current()) lane_days_->lane_days.refresh(from);
      refreshed = lane_days_->lane_days.version();
    }
    read.lock();
    // Meanwhile another Database may have refreshed the copy from a server at another state (a
    // standby behind, after a bulk replace): only a copy at least as new as this one's will do.
    const auto& have = lane_days_->lane_days.version();
    hit = have && refreshed && have->epoch == refreshed->epoch && have->data >= refreshed->data;
    if (!hit && attempt == 5) {
      throw Busy(
          "the in-memory copy was taken back to another state five times in a row by reads "
          "from other servers; nothing was answered (ask again)");
    }
  }
  return read;
}

std::vector<LaneRates> Database::rates_matrix(const MatrixQuery& query) {
  return detail::measured(detail::Operation::rates_matrix, [&]() -> std::vector<LaneRates> {
    check_rates_question(query, options_);
    const RatesOptions& options = query.options;
    Store& from = reader();
    const StoreVersion now = refresh_geography(from);
    std::vector<std::vector<std::string>> origins, destinations;
    for (const std::string& origin : query.origins) origins.push_back(geography_->resolve(origin));
    for (const std::string& destination : query.destinations) {
      destinations.push_back(geography_->resolve(destination));
    }
    const auto days = std::size_t((query.date_to - query.date_from).count() + 1);
    const detail::BucketPlan buckets(options.bucket, query.date_from, query.date_to);

    std::optional<detail::Conversion> conversion;
    if (options.currency != base_currency) {
      const Date earliest = query.date_from - std::chrono::days{options_.max_rate_age_days};
      const std::string currencies[] = {options.currency};
      std::vector<ExchangeRate> rates = from.exchange_rates(currencies, earliest, query.date_to);
      if (rates.empty()) {
        const std::vector<std::string> known = from.currencies();
        if (!std::binary_search(known.begin(), known.end(), options.currency)) {
          throw NotFound(fmt::format("unknown currency {}: no exchange rate was ever loaded for it",
                                     quoted_value(options.currency)));
        }
      }
      const detail::RateTable table(std::move(rates), options_.max_rate_age_days);
      conversion.emplace(detail::Conversion{options.currency, query.date_from, {}, 0});
      conversion->max_age_days = options_.max_rate_age_days;
      conversion->units_by_slot.reserve(days);
      for (Date day = query.date_from; day <= query.date_to; day += std::chrono::days{1}) {
        const ExchangeRate* rate = table.find(options.currency, day);
        conversion->units_by_slot.push_back(rate ? rate->units : 0);
      }
    }
    const detail::Conversion* convert = conversion ? &*conversion : nullptr;
    // Only an answer in another currency at a large scale can outgrow 64-bit units.
    const auto too_large = [&](const InvalidArgument& e) {
      return InvalidArgument(
          fmt::format("the answer in {} at scale {} does not fit ({}): ask a "
                      "smaller scale",
                      options.currency, options.scale, e.what()));
    };

    std::vector<LaneRates> out;
    out.reserve(origins.size() * destinations.size());
    for (const std::string& origin : query.origins) {
      for (const std::string& destination : query.destinations) {
        out.push_back({origin, destination, {}});
      }
    }

    const auto ids_of = [](const detail::LaneDays& lane_days,
                           const std::vector<std::string>& codes) {
      std::vector<std::int32_t> ids;
      ids.reserve(codes.size());
      for (const std::string& code : codes) {
        if (const auto id = lane_days.port_id(code)) ids.push_back(*id);
      }
      return ids;
    };

    if (!options.percentiles.empty()) {
      // Percentiles need the prices themselves: those of the lanes the copy says have days in the
      // range, read from one snapshot. If that snapshot is newer than the copy, a lane may have
      // appeared since; the copy catches up and the read is done again.
      PriceRouter router(origins, destinations, query.date_from);
      // The lanes with days in the range, from the copy brought up to `version` or later.
      const auto lanes_at = [&](const StoreVersion& version, Store& source, StoreVersion& copied) {
        const std::shared_lock read = current_lane_days(version, source);
        const detail::LaneDays& lane_days = lane_days_->lane_days;
        copied = *lane_days.version();
        std::vector<std::int32_t> all_origins, all_destinations;
        for (const auto& codes : origins) {
          for (const std::int32_t id : ids_of(lane_days, codes)) all_origins.push_back(id);
        }
        for (const auto& codes : destinations) {
          for (const std::int32_t id : ids_of(lane_days, codes)) all_destinations.push_back(id);
        }
        for (auto* ids : {&all_origins, &all_destinations}) {
          std::sort(ids->begin(), ids->end());
          ids->erase(std::unique(ids->begin(), ids->end()), ids->end());
        }
        return lane_days.lanes_between(all_origins, all_destinations, query.date_from,
                                       query.date_to);
      };
      StoreVersion version = now;
      Store* source = &from;
      for (int attempt = 1;; ++attempt) {
        StoreVersion copied;
        const std::vector<detail::LaneDays::LaneInRange> lanes = lanes_at(version, *source, copied);
        std::vector<LaneKey> keys;
        keys.reserve(lanes.size());
        for (const auto& lane : lanes) keys.push_back({lane.origin, lane.destination});
        router.route(keys);
        // Every price is held in memory (once per cell it counts in) until the answer is made:
        // the copy knows how many there are before any is read.
        std::int64_t held = 0;
        for (std::size_t k = 0; k < lanes.size(); ++k) {
          held += lanes[k].prices * std::int64_t(router.cells_of(k));
        }
        if (held > options_.max_percentile_prices) {
          throw InvalidArgument(
              fmt::format("percentiles over {} prices, more than the maximum of {} "
                          "(Options::max_percentile_prices): ask a shorter range or fewer lanes",
                          held, options_.max_percentile_prices));
        }
        version = source->read_prices(keys, query.date_from, query.date_to, router);
        if (version.epoch == copied.epoch && version.data == copied.data) break;
        if (version.epoch == copied.epoch && version.data > copied.data) {
          // Writers moved on between the copy and the prices' snapshot. The prices read are
          // those of every lane read, at one state; the answer is that state's if no lane of
          // the question gained days in the range meanwhile, which the copy, brought up to the
          // snapshot, tells. Writers to other lanes, or to lanes already there, cost one look.
          StoreVersion later;
          if (covers(keys, lanes_at(version, *source, later))) break;
        }
        if (version.epoch == copied.epoch && version.data < copied.data) {
          // A standby behind the shared copy, which a read from the primary brought further:
          // the primary's snapshot is at least as new as the copy.
          source = store_.get();
        }
        if (attempt == 5) {
          throw Busy(
              "the prices changed under five reads in a row, each time with lanes this question "
              "covers; the percentiles were not answered (ask again)");
        }
      }
      for (std::size_t i = 0; i < origins.size(); ++i) {
        for (std::size_t j = 0; j < destinations.size(); ++j) {
          out[i * destinations.size() + j].days =
              detail::answer_from_prices(router.cell(i, j), days, buckets, options, convert);
        }
      }
      return out;
    }

    std::shared_lock read = current_lane_days(now, from);
    const detail::LaneDays& lane_days = lane_days_->lane_days;
    std::vector<std::vector<std::int32_t>> origin_ids, destination_ids;
    for (const auto& codes : origins) origin_ids.push_back(ids_of(lane_days, codes));
    for (const auto& codes : destinations) destination_ids.push_back(ids_of(lane_days, codes));
    std::vector<std::vector<DailyAggregate>> cells(out.size(), std::vector<DailyAggregate>(days));
    if (out.size() == 1) {
      // One lane: the plan that may read a port's summed days instead of each of its lanes.
      lane_days.aggregate(origin_ids[0], destination_ids[0], query.date_from, query.date_to,
                          cells[0]);
    } else {
      lane_days.aggregate_matrix(origin_ids, destination_ids, query.date_from, query.date_to,
                                 cells);
    }
    read.unlock();
    try {
      for (std::size_t i = 0; i < out.size(); ++i) {
        out[i].days = detail::answer_from_days(cells[i], buckets, options, convert);
      }
    } catch (const InvalidArgument& e) {
      throw too_large(e);
    }
    return out;
  });
}

CacheStats Database::cache_stats() {
  const std::shared_lock read(lane_days_->mutex);
  const detail::LaneDays& lane_days = lane_days_->lane_days;
  return {std::int64_t(lane_days.lane_count()), std::int64_t(lane_days.lane_day_count()),
          std::int64_t(lane_days.bytes())};
}

Readiness Database::readiness(std::chrono::duration<double> max_replay_lag) {
  Readiness r;
  try {
    r.store = (read_store_ ? *read_store_ : *store_).health();
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

std::vector<std::string> Database::resolve(std::string_view location) {
  return detail::measured(detail::Operation::resolve, [&]() -> std::vector<std::string> {
    detail::require_text("location", location);
    return geography(reader()).resolve(location);
  });
}

Port Database::port(std::string_view code) {
  return detail::measured(detail::Operation::port, [&]() -> Port {
    detail::require_text("port code", code);
    if (const Port* found = geography(reader()).find_port(code)) return *found;
    throw NotFound(fmt::format("unknown port {}", quoted_value(code)));
  });
}

std::vector<Port> Database::ports_in_region(std::string_view slug) {
  return detail::measured(detail::Operation::ports, [&]() -> std::vector<Port> {
    detail::require_text("region", slug);
    return geography(reader()).ports_in_region(slug);
  });
}

std::vector<Port> Database::search_ports(std::string_view text, std::int64_t limit,
                                         std::int64_t offset, std::string_view region) {
  return detail::measured(detail::Operation::ports, [&]() -> std::vector<Port> {
    if (limit < 0) throw InvalidArgument(fmt::format("limit {} is negative", limit));
    if (offset < 0) throw InvalidArgument(fmt::format("offset {} is negative", offset));
    detail::require_text("search text", text);
    detail::require_text("region", region);
    return geography(reader()).search(text, region, limit, offset);
  });
}

std::vector<RegionNode> Database::region_tree() {
  return detail::measured(detail::Operation::region_tree,
                          [&]() -> std::vector<RegionNode> { return geography(reader()).tree(); });
}

namespace {

// The bad rows past the listed errors, as one more error that says how many there are.
void count_unlisted(const std::vector<bool>& unlisted, std::vector<RowError>& errors,
                    std::int64_t& unlisted_rows) {
  std::vector<std::int64_t> listed_rows;
  for (const RowError& e : errors) listed_rows.push_back(e.row);
  std::sort(listed_rows.begin(), listed_rows.end());
  unlisted_rows = 0;
  for (std::size_t i = 0; i < unlisted.size(); ++i) {
    unlisted_rows += unlisted[i] && !std::binary_search(listed_rows.begin(), listed_rows.end(),
                                                        std::int64_t(i) + 1);
  }
  if (unlisted_rows == 0) return;
  errors.push_back({0, "batch",
                    fmt::format("{} more bad row{} {} not listed: the list stops after {} errors",
                                unlisted_rows, unlisted_rows == 1 ? "" : "s",
                                unlisted_rows == 1 ? "is" : "are", detail::max_listed_row_errors)});
}

}  // namespace

std::vector<RowError> Database::check_batch(const Batch& batch, detail::RateTable& rates,
                                            std::int64_t& unlisted_rows) {
  unlisted_rows = 0;
  if (!batch.id.empty()) detail::check_batch_id(batch.id);
  if (batch.rows.empty()) return {{0, "batch", "the batch has no rows"}};
  // Against the write store, where the batch will be written: a lagging standby would refuse a
  // port just added, or pass one just removed.
  std::vector<bool> unlisted;
  std::vector<RowError> errors =
      detail::validate_rows(batch.rows, geography(*store_), options_, unlisted);
  // A batch refused as a whole (too many prices) is not converted day by day first.
  if (std::any_of(errors.begin(), errors.end(), [](const RowError& e) { return e.row == 0; })) {
    count_unlisted(unlisted, errors, unlisted_rows);
    return errors;
  }
  // Prices in other currencies: the rates of every currency named, over the batch's days and
  // the age limit before them, in one read.
  std::vector<std::string> currencies;
  std::optional<Date> first, last;
  for (const BatchRow& row : batch.rows) {
    if (row.currency.empty() || row.currency == base_currency || !is_currency_code(row.currency)) {
      continue;
    }
    currencies.push_back(row.currency);
    for (const std::string* text : {&row.day, &row.date_from, &row.date_to}) {
      if (text->empty()) continue;
      try {
        const Date day = parse_date(*text);
        first = first ? std::min(*first, day) : day;
        last = last ? std::max(*last, day) : day;
      } catch (const InvalidArgument&) {
        // reported by validate_rows
      }
    }
  }
  if (currencies.empty()) {
    count_unlisted(unlisted, errors, unlisted_rows);
    return errors;
  }
  std::sort(currencies.begin(), currencies.end());
  currencies.erase(std::unique(currencies.begin(), currencies.end()), currencies.end());
  if (first) {
    rates = detail::RateTable(
        store_->exchange_rates(currencies, *first - std::chrono::days{options_.max_rate_age_days},
                               *last),
        options_.max_rate_age_days);
  }
  const std::vector<std::string> known = store_->currencies();
  detail::check_currencies(batch.rows, rates, known, options_, errors, unlisted);
  std::stable_sort(errors.begin(), errors.end(),
                   [](const RowError& a, const RowError& b) { return a.row < b.row; });
  count_unlisted(unlisted, errors, unlisted_rows);
  return errors;
}

std::vector<RowError> Database::validate(const Batch& batch) {
  return detail::measured(detail::Operation::validate, [&]() -> std::vector<RowError> {
    detail::RateTable rates;
    std::int64_t unlisted_rows = 0;
    return check_batch(batch, rates, unlisted_rows);
  });
}

BatchResult Database::apply(const Batch& batch, const Progress& progress) {
  return detail::measured(detail::Operation::apply, [&]() -> BatchResult {
    const auto started = std::chrono::steady_clock::now();
    detail::RateTable rates;
    std::int64_t unlisted_rows = 0;
    if (auto errors = check_batch(batch, rates, unlisted_rows); !errors.empty()) {
      std::set<std::int64_t> listed_rows;
      for (const RowError& e : errors) {
        if (e.row > 0) listed_rows.insert(e.row);
      }
      const std::int64_t bad_rows = std::int64_t(listed_rows.size()) + unlisted_rows;
      detail::record_batch(detail::BatchOutcome::refused, 0, 0);
      detail::log_batch(batch.id, std::int64_t(batch.rows.size()), 0, bad_rows,
                        std::chrono::steady_clock::now() - started);
      const std::string name =
          batch.id.empty() ? std::string() : fmt::format(" {}", quoted_value(batch.id));
      // A batch refused as a whole (no rows, too many prices) says why in its message.
      std::string message = bad_rows == 0
                                ? fmt::format("batch{} is refused: {}; nothing was written", name,
                                              errors.front().message)
                                : fmt::format("batch{} has {} bad row{}; nothing was written", name,
                                              bad_rows, bad_rows == 1 ? "" : "s");
      throw ValidationFailed(std::move(message), std::move(errors));
    }
    detail::ExpandedBatch expanded = detail::expand_rows(batch.rows, rates);
    const std::vector<Price>& prices = expanded.prices;
    BatchRecord record{batch.id,
                       expanded.digest,
                       std::int64_t(batch.rows.size()),
                       std::int64_t(prices.size()),
                       utc_now_iso(),
                       std::move(expanded.rates_used)};
    if (record.id.empty()) record.id = "content-" + record.digest;

    const auto replay = [&](const BatchRecord& first) {
      if (first.digest != record.digest) {
        detail::record_batch(detail::BatchOutcome::conflict, 0, 0);
        throw BatchConflict(
            fmt::format("batch id {} was applied on {} with different rows; the first batch stands",
                        quoted_value(first.id), first.applied_at));
      }
      detail::record_batch(detail::BatchOutcome::replayed, 0, 0);
      return result_of(first, true);
    };
    if (auto first = store_->find_batch(record.id)) {
      note_write();  // the caller may have written it a moment ago, through another process
      return replay(*first);
    }
    const ApplyOutcome outcome = store_->apply_batch(record, prices, progress);
    note_write();
    if (outcome.already_applied) return replay(outcome.record);
    detail::record_batch(detail::BatchOutcome::applied, record.rows, record.prices);
    detail::log_batch(record.id, record.rows, record.prices, 0,
                      std::chrono::steady_clock::now() - started);
    return result_of(outcome.record, false);
  });
}

std::optional<BatchResult> Database::batch(std::string_view id) {
  return detail::measured(detail::Operation::batch, [&]() -> std::optional<BatchResult> {
    // An id apply() would refuse was never applied; saying so beats a lookup that echoes it.
    detail::check_batch_id(std::string(id));
    if (auto record = reader().find_batch(id)) return result_of(*record, true);
    return std::nullopt;
  });
}

std::int64_t Database::import_exchange_rates(const std::filesystem::path& path, bool replace) {
  return detail::measured(detail::Operation::exchange_rates, [&]() -> std::int64_t {
    const std::vector<ExchangeRate> rates = read_exchange_rates(path);
    return save_exchange_rates(rates, replace);
  });
}

std::int64_t Database::save_exchange_rates(std::span<const ExchangeRate> rates, bool replace) {
  return detail::measured(detail::Operation::exchange_rates, [&]() -> std::int64_t {
    for (const ExchangeRate& rate : rates) {
      if (!is_currency_code(rate.currency) || rate.currency == base_currency) {
        throw InvalidArgument(
            fmt::format("exchange rate for {} on {}: not a currency code other than USD",
                        quoted_value(rate.currency), format_date(rate.day)));
      }
      if (rate.units <= 0) {
        throw InvalidArgument(fmt::format("exchange rate for {} on {} is {}: not above 0",
                                          rate.currency, format_date(rate.day),
                                          Decimal{rate.units, exchange_rate_scale}.to_string()));
      }
    }
    // Each (currency, day) once: the same rate twice is one, two different rates are a mistake.
    std::vector<ExchangeRate> distinct(rates.begin(), rates.end());
    std::sort(distinct.begin(), distinct.end(), [](const ExchangeRate& a, const ExchangeRate& b) {
      return std::tie(a.currency, a.day, a.units) < std::tie(b.currency, b.day, b.units);
    });
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    for (std::size_t i = 1; i < distinct.size(); ++i) {
      if (distinct[i].currency == distinct[i - 1].currency &&
          distinct[i].day == distinct[i - 1].day) {
        throw InvalidArgument(fmt::format("two {} rates for {}: {} and {}; nothing was stored",
                                          distinct[i].currency, format_date(distinct[i].day),
                                          format_rate(distinct[i - 1].units),
                                          format_rate(distinct[i].units)));
      }
    }
    const std::int64_t changed = store_->put_exchange_rates(distinct, replace);
    note_write();
    return changed;
  });
}

ImportSummary Database::load(const Dataset& data, bool replace, const Progress& progress) {
  return detail::measured(detail::Operation::load, [&]() -> ImportSummary {
    std::vector<RowError> errors = detail::Geography::check(
        data.regions, data.ports, options_.max_region_depth, data.region_lines, data.port_lines);
    std::unordered_set<std::string_view> codes;
    for (const Port& port : data.ports) codes.insert(port.code);
    for (std::size_t i = 0; i < data.prices.size(); ++i) {
      const Price& p = data.prices[i];
      const std::int64_t line =
          i < data.price_lines.size() ? data.price_lines[i] : std::int64_t(i) + 1;
      for (const auto& [code, field] :
           {std::pair{&p.origin, "orig_code"}, std::pair{&p.destination, "dest_code"}}) {
        // A known code's text is check()'s to report, on its port's row.
        if (codes.contains(*code)) continue;
        auto error = detail::text_error("price port code", *code);
        errors.push_back({line, field,
                          error ? std::move(*error)
                                : fmt::format("price on unknown port {}", quoted_value(*code))});
      }
      if (auto problem = detail::price_problem(p.price, options_)) {
        errors.push_back({line, "price", std::move(*problem)});
      }
      if (errors.size() >= 1000) break;  // enough to act on; the rest is more of the same
    }
    if (!errors.empty()) {
      const auto count = errors.size();
      throw ValidationFailed(fmt::format("the data has {}{} bad row{}; nothing was loaded", count,
                                         count >= 1000 ? " or more" : "", count == 1 ? "" : "s"),
                             std::move(errors));
    }
    store_->load(data, replace ? LoadMode::replace : LoadMode::into_empty, progress);
    note_write();
    return {std::int64_t(data.regions.size()), std::int64_t(data.ports.size()),
            std::int64_t(data.prices.size())};
  });
}

ImportSummary Database::import_dump(const std::filesystem::path& path, bool replace,
                                    const Progress& progress) {
  return detail::measured(detail::Operation::load, [&]() -> ImportSummary {
    return load(read_dump(path, progress), replace, progress);
  });
}

}  // namespace prkl
