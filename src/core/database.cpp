// SPDX-License-Identifier: MIT
// The front door: opening, read routing (standbys, read-your-writes), the data version and the
// cached geography; every question and write is handed to its subsystem.
#include "prkl/database.hpp"

#include <fmt/format.h>

#include "batch/apply.hpp"
#include "batch/batch.hpp"
#include "core/options.hpp"
#include "core/readiness.hpp"
#include "core/replica.hpp"
#include "core/standby.hpp"
#include "fx/exchange_detail.hpp"
#include "geography/geography.hpp"
#include "prkl/error.hpp"
#include "prkl/exchange.hpp"
#include "query/filter.hpp"
#include "query/lane_days.hpp"
#include "query/market.hpp"
#include "query/matrix.hpp"
#include "util/metrics.hpp"
#include "util/text.hpp"

namespace prkl {

Database Database::open(std::string_view url, OpenMode mode, Options options) {
  return open(url, {}, mode, options);
}

Database Database::open(std::string_view url, std::string_view read_url, OpenMode mode,
                        Options options) {
  // Checked before the store is opened, which may create it.
  detail::check_options(options);
  const StoreOptions store_options{options.connect_timeout, options.busy_timeout};
  std::unique_ptr<Store> store = open_store(url, mode, store_options);
  if (read_url.empty()) {
    return Database(std::move(store), nullptr, options, detail::SharedLaneDays::for_url(url));
  }
  std::unique_ptr<Store> read_store = detail::open_standby(
      read_url, store_options,
      mode == OpenMode::create ? options.replica_wait : std::chrono::milliseconds{0});
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
  detail::check_options(options_);
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
  return detail::route_read(*store_, *read_store_, lane_days_->fence, replayed_,
                            replayed_generation_);
}

void Database::note_write() {
  if (read_store_) detail::note_write(*store_, lane_days_->fence, options_.replica_wait);
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
    geography_ = detail::Geography::checked(snapshot, options_.max_region_depth);
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

std::vector<LaneRates> Database::rates_matrix(const MatrixQuery& query) {
  return detail::measured(detail::Operation::rates_matrix, [&]() -> std::vector<LaneRates> {
    detail::check_rates_question(query, options_);
    Store& from = reader();
    detail::check_filter(query.options.filter, from);
    const StoreVersion now = refresh_geography(from);
    return detail::answer_matrix(query, *geography_, options_, {from, now, *store_, *lane_days_});
  });
}

MarketAnswer Database::market(const MarketQuery& query) {
  return detail::measured(detail::Operation::market, [&]() -> MarketAnswer {
    const auto ask = [this](const RatesQuery& lane) { return rates(lane); };
    // Geography first only with a fallback: a plain band question reads as rates() does.
    return query.fallback ? detail::answer_market(query, &geography(reader()), ask)
                          : detail::answer_market(query, nullptr, ask);
  });
}

std::vector<RankDay> Database::rank(const RankQuery& query) {
  return detail::measured(detail::Operation::rank, [&]() -> std::vector<RankDay> {
    const MatrixQuery lane = detail::rank_lane(query);
    detail::check_rates_question(lane, options_);
    Store& from = reader();
    detail::check_filter(lane.options.filter, from);
    const StoreVersion now = refresh_geography(from);
    return detail::answer_rank(query, detail::read_lane_prices(lane, *geography_, options_,
                                                               {from, now, *store_, *lane_days_}));
  });
}

CacheStats Database::cache_stats() {
  const std::shared_lock read(lane_days_->mutex);
  const detail::LaneDays& lane_days = lane_days_->lane_days;
  const detail::CopiedPrices& prices = lane_days_->prices;
  return {std::int64_t(lane_days.lane_count()), std::int64_t(lane_days.lane_day_count()),
          std::int64_t(lane_days.bytes()), prices.size(), std::int64_t(prices.bytes())};
}

Readiness Database::readiness(std::chrono::duration<double> max_replay_lag) {
  return detail::readiness_of(read_store_ ? *read_store_ : *store_, max_replay_lag);
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

detail::BatchTarget Database::batch_target() {
  return {*store_, [this]() -> const detail::Geography& { return geography(*store_); }, options_,
          [this] { note_write(); }};
}

std::vector<RowError> Database::validate(const Batch& batch) {
  return detail::measured(detail::Operation::validate, [&]() -> std::vector<RowError> {
    return detail::batch_errors(batch_target(), batch.id, batch.rows);
  });
}

BatchResult Database::apply(const Batch& batch, const Progress& progress) {
  return detail::measured(detail::Operation::apply, [&]() -> BatchResult {
    return detail::apply_batch(batch_target(), batch.id, batch.rows, progress);
  });
}

std::vector<RowError> Database::validate(const std::string& id, BatchRowSource& rows) {
  return detail::measured(detail::Operation::validate, [&]() -> std::vector<RowError> {
    return detail::batch_errors(batch_target(), id, rows);
  });
}

BatchResult Database::apply(const std::string& id, BatchRowSource& rows, const Progress& progress) {
  return detail::measured(detail::Operation::apply, [&]() -> BatchResult {
    return detail::apply_batch(batch_target(), id, rows, progress);
  });
}

std::optional<BatchResult> Database::batch(std::string_view id) {
  return detail::measured(detail::Operation::batch, [&]() -> std::optional<BatchResult> {
    // An id apply() would refuse was never applied; saying so beats a lookup that echoes it.
    detail::check_batch_id(std::string(id));
    if (auto record = reader().find_batch(id)) return detail::result_of(*record, true);
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
    const std::vector<ExchangeRate> distinct = detail::distinct_rates(rates);
    const std::int64_t changed = store_->put_exchange_rates(distinct, replace);
    note_write();
    return changed;
  });
}

}  // namespace prkl
