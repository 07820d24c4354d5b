// SPDX-License-Identifier: MIT
// Answering a rates matrix: resolving its locations, the currency it is asked in, and its cells
// from the in-memory copy's aggregates or, for percentiles and filters, from the prices.
#include "query/matrix.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "fx/rate_table.hpp"
#include "prkl/error.hpp"
#include "prkl/exchange.hpp"
#include "query/rates.hpp"
#include "util/scratch.hpp"

namespace prkl::detail {

namespace {

// True when every lane of `later` is one of `keys`: nothing the question covers appeared since
// `keys` were taken.
bool covers(std::span<const LaneKey> keys, const std::vector<LaneDays::LaneInRange>& later) {
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
    // One lane's (or one cell's) prices, the usual question: in the thread's reused buffer.
    if (cells_.size() == 1) cells_[0] = take_scratch<PriceRouter, SlotPrice>();
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
      const auto rows = rows_of_.find(lanes[k].origin);
      const auto columns = columns_of_.find(lanes[k].destination);
      if (rows == rows_of_.end() || columns == columns_of_.end()) continue;
      for (const std::size_t i : rows->second) {
        for (const std::size_t j : columns->second) lane_cells_[k].push_back(i * columns_ + j);
      }
    }
  }

  ~PriceRouter() override {
    if (cells_.size() == 1) keep_scratch<PriceRouter>(std::move(cells_[0]));
  }
  PriceRouter(const PriceRouter&) = delete;
  PriceRouter& operator=(const PriceRouter&) = delete;

  std::size_t cells_of(std::size_t lane) const { return lane_cells_[lane].size(); }

  /// Room in each cell for what the copy says its lanes hold in the range.
  void reserve(const std::vector<LaneDays::LaneInRange>& lanes) {
    std::vector<std::size_t> sizes(cells_.size());
    for (std::size_t k = 0; k < lanes.size(); ++k) {
      for (const std::size_t cell : lane_cells_.at(k)) sizes[cell] += std::size_t(lanes[k].prices);
    }
    for (std::size_t cell = 0; cell < cells_.size(); ++cell) cells_[cell].reserve(sizes[cell]);
  }

  /// Hands `lane`'s prices in the range, from the copy, to its cells.
  void add(std::size_t lane, const CopiedLane& prices, const CopiedPrices::Filter& filter,
           Date to) {
    const auto first = std::int32_t(from_.time_since_epoch().count());
    const auto last = std::int32_t(to.time_since_epoch().count());
    const std::vector<std::size_t>& cells = lane_cells_.at(lane);
    if (cells.size() == 1) {
      // The common case, a lane in one cell, without a call per price.
      std::vector<SlotPrice>& out = cells_[cells[0]];
      CopiedPrices::deliver(prices, first, last, filter, [&](std::int32_t day, std::int32_t price) {
        out.push_back({day - first, price});
      });
      return;
    }
    CopiedPrices::deliver(prices, first, last, filter, [&](std::int32_t day, std::int32_t price) {
      for (const std::size_t cell : cells) cells_[cell].push_back({day - first, price});
    });
  }

  void price(std::size_t lane, Date day, std::int32_t price) override {
    const SlotPrice value{std::int32_t((day - from_).count()), price};
    for (const std::size_t cell : lane_cells_.at(lane)) cells_[cell].push_back(value);
  }

  std::vector<SlotPrice>& cell(std::size_t i, std::size_t j) { return cells_[i * columns_ + j]; }

 private:
  // Keyed by the codes of the question's plan, which outlives the router.
  using Index = std::unordered_map<std::string_view, std::vector<std::size_t>>;

  std::size_t columns_;
  Date from_;
  Index rows_of_, columns_of_;
  std::vector<std::vector<std::size_t>> lane_cells_;
  std::vector<std::vector<SlotPrice>> cells_;
};

// What every cell of a question shares: the ports each location stands for, the buckets, the
// currency's rate on each day.
struct Plan {
  std::vector<std::vector<std::string>> origins, destinations;
  std::size_t days;
  BucketPlan buckets;
  std::optional<Conversion> conversion;
};

// The rate each day of the range converts at; nullopt for USD.
std::optional<Conversion> conversion_for(const MatrixQuery& query, const Options& options,
                                         Store& from) {
  const std::string& currency = query.options.currency;
  if (currency == base_currency) return std::nullopt;
  const Date earliest = query.date_from - std::chrono::days{options.max_rate_age_days};
  const std::string currencies[] = {currency};
  std::vector<ExchangeRate> rates = from.exchange_rates(currencies, earliest, query.date_to);
  if (rates.empty()) {
    const std::vector<std::string> known = from.currencies();
    if (!std::binary_search(known.begin(), known.end(), currency)) {
      throw NotFound(fmt::format("unknown currency {}: no exchange rate was ever loaded for it",
                                 quoted_value(currency)));
    }
  }
  const RateTable table(std::move(rates), options.max_rate_age_days);
  Conversion conversion{currency, query.date_from, {}, options.max_rate_age_days};
  for (Date day = query.date_from; day <= query.date_to; day += std::chrono::days{1}) {
    const ExchangeRate* rate = table.find(currency, day);
    conversion.units_by_slot.push_back(rate ? rate->units : 0);
  }
  return conversion;
}

Plan plan_of(const MatrixQuery& query, const Geography& geography, const Options& options,
             Store& from) {
  Plan plan{{},
            {},
            std::size_t((query.date_to - query.date_from).count() + 1),
            BucketPlan(query.options.bucket, query.date_from, query.date_to),
            std::nullopt};
  // Locations first: an unknown one is named before an unknown currency.
  for (const std::string& origin : query.origins) plan.origins.push_back(geography.resolve(origin));
  for (const std::string& destination : query.destinations) {
    plan.destinations.push_back(geography.resolve(destination));
  }
  plan.conversion = conversion_for(query, options, from);
  return plan;
}

std::vector<std::int32_t> ids_of(const LaneDays& lane_days, const std::vector<std::string>& codes) {
  std::vector<std::int32_t> ids;
  ids.reserve(codes.size());
  for (const std::string& code : codes) {
    if (const auto id = lane_days.port_id(code)) ids.push_back(*id);
  }
  return ids;
}

// The cells from the copy's per-day aggregates, read under one lock.
void answer_from_copy(const MatrixQuery& query, const Plan& plan, const MatrixSource& source,
                      std::vector<LaneRates>& out) {
  std::vector<std::vector<DailyAggregate>> cells(out.size(),
                                                 std::vector<DailyAggregate>(plan.days));
  {
    const std::shared_lock read = source.copy.current(source.now, source.from);
    const LaneDays& lane_days = source.copy.lane_days;
    std::vector<std::vector<std::int32_t>> origin_ids, destination_ids;
    for (const auto& codes : plan.origins) origin_ids.push_back(ids_of(lane_days, codes));
    for (const auto& codes : plan.destinations) destination_ids.push_back(ids_of(lane_days, codes));
    if (out.size() == 1) {
      // One lane: the plan that may read a port's summed days instead of each of its lanes.
      lane_days.aggregate(origin_ids[0], destination_ids[0], query.date_from, query.date_to,
                          cells[0]);
    } else {
      lane_days.aggregate_matrix(origin_ids, destination_ids, query.date_from, query.date_to,
                                 cells);
    }
  }
  const Conversion* convert = plan.conversion ? &*plan.conversion : nullptr;
  try {
    for (std::size_t i = 0; i < out.size(); ++i) {
      out[i].days = answer_from_days(cells[i], plan.buckets, query.options, convert);
    }
  } catch (const InvalidArgument& e) {
    // Only an answer in another currency at a large scale can outgrow 64-bit units.
    throw InvalidArgument(
        fmt::format("the answer in {} at scale {} does not fit ({}): ask a "
                    "smaller scale",
                    query.options.currency, query.options.scale, e.what()));
  }
}

// The lanes of the question with days in the range, as the copy (read-locked) has them.
std::vector<LaneDays::LaneInRange> lanes_in(const MatrixQuery& query, const Plan& plan,
                                            const LaneDays& lane_days) {
  std::vector<std::int32_t> all_origins, all_destinations;
  for (const auto& codes : plan.origins) {
    for (const std::int32_t id : ids_of(lane_days, codes)) all_origins.push_back(id);
  }
  for (const auto& codes : plan.destinations) {
    for (const std::int32_t id : ids_of(lane_days, codes)) all_destinations.push_back(id);
  }
  for (auto* ids : {&all_origins, &all_destinations}) {
    std::sort(ids->begin(), ids->end());
    ids->erase(std::unique(ids->begin(), ids->end()), ids->end());
  }
  return lane_days.lanes_between(all_origins, all_destinations, query.date_from, query.date_to);
}

// The lanes with days in the range, from the copy brought up to `version` or later (whose
// version goes to `copied`).
std::vector<LaneDays::LaneInRange> lanes_at(const MatrixQuery& query, const Plan& plan,
                                            SharedLaneDays& copy, const StoreVersion& version,
                                            Store& source, StoreVersion& copied) {
  const std::shared_lock read = copy.current(version, source);
  copied = *copy.lane_days.version();
  return lanes_in(query, plan, copy.lane_days);
}

// Every price is held in memory (once per cell it counts in) until the answer is made: the copy
// knows how many there are before any is read.
void check_held(const std::vector<LaneDays::LaneInRange>& lanes, const PriceRouter& router,
                const Options& options) {
  std::int64_t held = 0;
  for (std::size_t k = 0; k < lanes.size(); ++k) {
    held += lanes[k].prices * std::int64_t(router.cells_of(k));
  }
  if (held > options.max_percentile_prices) {
    throw InvalidArgument(
        fmt::format("percentiles over {} prices, more than the maximum of {} "
                    "(Options::max_percentile_prices): ask a shorter range or fewer lanes",
                    held, options.max_percentile_prices));
  }
}

// Lanes the copy lacks the prices of, read from the store a group at a time, so what is read
// before it is kept stays small whatever the lanes hold (a lane's size is the sum of its days'
// counts, where a contract counts once per day, so groups err small).
struct Missing {
  std::vector<std::uint32_t> ids;
  std::vector<std::string> origins, destinations;
  std::vector<std::int64_t> sizes;
};
constexpr std::int64_t prices_per_read = 1'000'000;

// Reads the lanes in `missing` into the copy. False when the copy has no room for them; a read
// that found a lane changed since (a standby behind the copy) moves `from` to the primary.
bool copy_lanes(const Missing& missing, std::uint64_t generation, const Options& options,
                const MatrixSource& source, Store*& from) {
  for (std::size_t begin = 0; begin < missing.ids.size();) {
    std::size_t end = begin;
    std::int64_t size = 0;
    for (; end < missing.ids.size() && (end == begin || size < prices_per_read); ++end) {
      size += missing.sizes[end];
    }
    std::vector<LaneKey> keys;
    for (std::size_t k = begin; k < end; ++k) {
      keys.push_back({missing.origins[k], missing.destinations[k]});
    }
    LaneCollector collector(keys.size());
    const StoreVersion read = from->read_lanes(keys, collector);
    const std::span<const std::uint32_t> ids(missing.ids.data() + begin, end - begin);
    const SharedLaneDays::Kept kept =
        source.copy.keep(ids, collector.lanes(), collector.codes(), generation, read, *from,
                         options.max_copied_prices);
    if (!kept.room) return false;
    if (kept.stale > 0) from = &source.primary;
    begin = end;
  }
  return true;
}

// Gives `router` the prices of the question's lanes from the copy, first reading into it those
// it lacks. The copy's version is at least the question's, and every lane's prices are as that
// version has them: the answer is that state's. False, with nothing given, when the copy has no
// room for them or writers keep changing them.
bool read_copied(const MatrixQuery& query, const Plan& plan, const Options& options,
                 const MatrixSource& source, PriceRouter& router) {
  if (options.max_copied_prices == 0) return false;
  Store* from = &source.from;
  for (int attempt = 1;; ++attempt) {
    Missing missing;
    std::uint64_t generation = 0;
    {
      const std::shared_lock read = source.copy.current(source.now, *from);
      const LaneDays& lane_days = source.copy.lane_days;
      const auto lanes = lanes_in(query, plan, lane_days);
      std::vector<LaneKey> keys;
      keys.reserve(lanes.size());
      for (const auto& lane : lanes) keys.push_back({lane.origin, lane.destination});
      router.route(keys);
      check_held(lanes, router, options);
      const CopiedPrices& prices = source.copy.prices;
      for (const auto& lane : lanes) {
        if (prices.find(lane.id)) continue;
        missing.ids.push_back(lane.id);
        missing.origins.push_back(lane.origin);
        missing.destinations.push_back(lane.destination);
        missing.sizes.push_back(lane_days.lane_prices(lane.id));
      }
      if (missing.ids.empty()) {
        const CopiedPrices::Filter filter(query.options.filter, prices);
        router.reserve(lanes);
        for (std::size_t k = 0; k < lanes.size(); ++k) {
          router.add(k, *prices.find(lanes[k].id), filter, query.date_to);
        }
        return true;
      }
      // What the missing lanes hold is bounded before any is read: their days' counts, where a
      // contract counts once per day (so this errs towards the store). Without room, the store
      // answers, reading only the range asked.
      std::int64_t needed = prices.size();
      for (const std::int64_t size : missing.sizes) needed += size;
      if (needed > options.max_copied_prices) return false;
      generation = lane_days.generation();
    }
    if (!copy_lanes(missing, generation, options, source, from)) return false;
    // Writers keep changing the question's lanes between each read and its keeping: the store
    // answers from one snapshot instead, which a newer state of the same lanes does not upset.
    if (attempt == 3) return false;
  }
}

// Reads the prices of the question's lanes into `router` from one snapshot that the copy's list
// of lanes is right for. If the snapshot is newer than the copy, a lane may have appeared since;
// the copy catches up and the read is done again.
void read_prices(const MatrixQuery& query, const Plan& plan, const Options& options,
                 const MatrixSource& source, PriceRouter& router) {
  if (read_copied(query, plan, options, source, router)) return;
  StoreVersion version = source.now;
  Store* from = &source.from;
  for (int attempt = 1;; ++attempt) {
    StoreVersion copied;
    const auto lanes = lanes_at(query, plan, source.copy, version, *from, copied);
    std::vector<LaneKey> keys;
    keys.reserve(lanes.size());
    for (const auto& lane : lanes) keys.push_back({lane.origin, lane.destination});
    router.route(keys);
    check_held(lanes, router, options);
    version = from->read_prices(keys, query.date_from, query.date_to, query.options.filter, router);
    if (version.epoch == copied.epoch && version.data == copied.data) return;
    if (version.epoch == copied.epoch && version.data > copied.data) {
      // Writers moved on between the copy and the prices' snapshot. The prices read are those
      // of every lane read, at one state; the answer is that state's if no lane of the question
      // gained days in the range meanwhile, which the copy, brought up to the snapshot, tells.
      // Writers to other lanes, or to lanes already there, cost one look.
      StoreVersion later;
      if (covers(keys, lanes_at(query, plan, source.copy, version, *from, later))) return;
    }
    if (version.epoch == copied.epoch && version.data < copied.data) {
      // A standby behind the shared copy, which a read from the primary brought further: the
      // primary's snapshot is at least as new as the copy.
      from = &source.primary;
    }
    if (attempt == 5) {
      throw Busy(
          "the prices changed under five reads in a row, each time with lanes this question "
          "covers; the percentiles were not answered (ask again)");
    }
  }
}

// The cells from the prices themselves: percentiles need them.
void answer_from_prices(const MatrixQuery& query, Plan& plan, const Options& options,
                        const MatrixSource& source, std::vector<LaneRates>& out) {
  PriceRouter router(plan.origins, plan.destinations, query.date_from);
  read_prices(query, plan, options, source, router);
  const Conversion* convert = plan.conversion ? &*plan.conversion : nullptr;
  const std::size_t columns = plan.destinations.size();
  for (std::size_t i = 0; i < plan.origins.size(); ++i) {
    for (std::size_t j = 0; j < columns; ++j) {
      out[i * columns + j].days = detail::answer_from_prices(router.cell(i, j), plan.days,
                                                             plan.buckets, query.options, convert);
    }
  }
}

}  // namespace

LanePrices read_lane_prices(const MatrixQuery& query, const Geography& geography,
                            const Options& options, const MatrixSource& source) {
  Plan plan = plan_of(query, geography, options, source.from);
  PriceRouter router(plan.origins, plan.destinations, query.date_from);
  read_prices(query, plan, options, source, router);
  return {std::move(router.cell(0, 0)), plan.days, std::move(plan.buckets),
          std::move(plan.conversion)};
}

std::vector<LaneRates> answer_matrix(const MatrixQuery& query, const Geography& geography,
                                     const Options& options, const MatrixSource& source) {
  Plan plan = plan_of(query, geography, options, source.from);
  std::vector<LaneRates> out;
  out.reserve(plan.origins.size() * plan.destinations.size());
  for (const std::string& origin : query.origins) {
    for (const std::string& destination : query.destinations) {
      out.push_back({origin, destination, {}});
    }
  }
  // The copy's aggregates hold every price; a filtered answer is made from the prices it keeps.
  if (query.options.percentiles.empty() && query.options.filter.empty()) {
    answer_from_copy(query, plan, source, out);
  } else {
    answer_from_prices(query, plan, options, source, out);
  }
  return out;
}

}  // namespace prkl::detail
