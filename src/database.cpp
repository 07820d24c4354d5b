#include "prkl/database.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "batch.hpp"
#include "geography.hpp"
#include "lane_days.hpp"
#include "prkl/dump.hpp"
#include "prkl/error.hpp"

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
  return {record.id, record.rows, record.prices, record.applied_at, replayed};
}

}  // namespace

Database Database::open(std::string_view url, OpenMode mode, Options options) {
  return Database(open_store(url, mode), options, detail::SharedLaneDays::for_url(url));
}

Database::Database(std::unique_ptr<Store> store, Options options)
    : Database(std::move(store), options, detail::SharedLaneDays::for_url({})) {}

Database::Database(std::unique_ptr<Store> store, Options options,
                   std::shared_ptr<detail::SharedLaneDays> lane_days)
    : store_(std::move(store)), options_(options), lane_days_(std::move(lane_days)) {
  if (!store_) throw InvalidArgument("Database needs a store");
}

Database::Database(Database&&) noexcept = default;
Database& Database::operator=(Database&&) noexcept = default;
Database::~Database() = default;

std::vector<std::string> Database::init() {
  return store_->init();
}

StoreVersion Database::refresh_geography() {
  const StoreVersion now = lane_days_->current_version(*store_);
  // The cache takes the generation its own snapshot was read at, which may be newer than `now`.
  if (!geography_ || now.geography != geography_generation_) {
    GeographySnapshot snapshot = store_->geography();
    geography_ =
        std::make_unique<detail::Geography>(std::move(snapshot.regions), std::move(snapshot.ports));
    geography_generation_ = snapshot.generation;
  }
  return now;
}

const detail::Geography& Database::geography() {
  refresh_geography();
  return *geography_;
}

std::vector<RateDay> Database::rates(const RatesQuery& query) {
  if (query.date_from > query.date_to) {
    throw InvalidArgument(fmt::format("reversed range: date_from {} is after date_to {}",
                                      format_date(query.date_from), format_date(query.date_to)));
  }
  const std::int64_t days = (query.date_to - query.date_from).count() + 1;
  if (days > options_.max_range_days) {
    throw InvalidArgument(fmt::format("range {}..{} is {} days, more than the maximum of {}",
                                      format_date(query.date_from), format_date(query.date_to),
                                      days, options_.max_range_days));
  }
  if (query.min_count < 1) {
    throw InvalidArgument(fmt::format("min_count {} must be at least 1", query.min_count));
  }
  if (query.scale < 0 || query.scale > max_average_scale) {
    throw InvalidArgument(fmt::format("scale {} is outside 0..{}", query.scale, max_average_scale));
  }
  const StoreVersion now = refresh_geography();
  const std::vector<std::string> origins = geography_->resolve(query.origin);
  const std::vector<std::string> destinations = geography_->resolve(query.destination);

  std::vector<DailyAggregate> slots(static_cast<std::size_t>(days));
  {
    // Another thread may have brought the shared copy further than `now`: that is a newer
    // committed state, as good an answer as the one asked for.
    std::shared_lock read(lane_days_->mutex);
    const auto is_current = [&] {
      const auto& have = lane_days_->lane_days.version();
      return have && have->epoch == now.epoch && have->data >= now.data;
    };
    if (!is_current()) {
      read.unlock();
      {
        const std::unique_lock write(lane_days_->mutex);
        if (!is_current()) lane_days_->lane_days.refresh(*store_);
      }
      read.lock();
    }
    const detail::LaneDays& lane_days = lane_days_->lane_days;
    const auto ids_of = [&](const std::vector<std::string>& codes) {
      std::vector<std::int32_t> ids;
      ids.reserve(codes.size());
      for (const std::string& code : codes) {
        if (const auto id = lane_days.port_id(code)) ids.push_back(*id);
      }
      return ids;
    };
    const std::vector<std::int32_t> origin_ids = ids_of(origins);
    const std::vector<std::int32_t> destination_ids = ids_of(destinations);
    lane_days.aggregate(origin_ids, destination_ids, query.date_from, query.date_to, slots);
  }

  std::vector<RateDay> out;
  out.reserve(slots.size());
  Date day = query.date_from;
  for (const DailyAggregate& slot : slots) {
    RateDay rate{day, slot.count, std::nullopt, std::nullopt, std::nullopt};
    if (slot.count > 0) {
      rate.min = slot.min;
      rate.max = slot.max;
      if (slot.count >= query.min_count) {
        rate.average = exact_average(slot.sum, slot.count, query.scale);
      }
    }
    out.push_back(rate);
    day += std::chrono::days{1};
  }
  return out;
}

CacheStats Database::cache_stats() {
  const std::shared_lock read(lane_days_->mutex);
  const detail::LaneDays& lane_days = lane_days_->lane_days;
  return {std::int64_t(lane_days.lane_count()), std::int64_t(lane_days.lane_day_count()),
          std::int64_t(lane_days.bytes())};
}

std::vector<std::string> Database::resolve(std::string_view location) {
  return geography().resolve(location);
}

Port Database::port(std::string_view code) {
  if (const Port* found = geography().find_port(code)) return *found;
  throw NotFound(fmt::format("unknown port '{}'", code));
}

std::vector<Port> Database::ports_in_region(std::string_view slug) {
  return geography().ports_in_region(slug);
}

std::vector<Port> Database::search_ports(std::string_view text, std::int64_t limit,
                                         std::int64_t offset, std::string_view region) {
  if (limit < 0) throw InvalidArgument(fmt::format("limit {} is negative", limit));
  if (offset < 0) throw InvalidArgument(fmt::format("offset {} is negative", offset));
  return geography().search(text, region, limit, offset);
}

std::vector<RegionNode> Database::region_tree() {
  return geography().tree();
}

std::vector<RowError> Database::validate(const Batch& batch) {
  if (!batch.id.empty()) detail::check_batch_id(batch.id);
  if (batch.rows.empty()) return {{0, "row", "the batch has no rows"}};
  return detail::validate_rows(batch.rows, geography(), options_);
}

BatchResult Database::apply(const Batch& batch, const Progress& progress) {
  if (auto errors = validate(batch); !errors.empty()) {
    std::int64_t bad_rows = 0;
    for (std::size_t i = 0; i < errors.size(); ++i) {
      bad_rows += i == 0 || errors[i].row != errors[i - 1].row;
    }
    throw ValidationFailed(fmt::format("batch{} has {} bad row{}; nothing was written",
                                       batch.id.empty() ? "" : " '" + batch.id + "'", bad_rows,
                                       bad_rows == 1 ? "" : "s"),
                           std::move(errors));
  }
  const std::vector<Price> prices = detail::expand_rows(batch.rows);
  BatchRecord record{batch.id, detail::digest_of(prices), std::int64_t(batch.rows.size()),
                     std::int64_t(prices.size()), utc_now_iso()};
  if (record.id.empty()) record.id = "content-" + record.digest;

  const auto replay = [&](const BatchRecord& first) {
    if (first.digest != record.digest) {
      throw BatchConflict(
          fmt::format("batch id '{}' was applied on {} with different rows; the first batch stands",
                      first.id, first.applied_at));
    }
    return result_of(first, true);
  };
  if (auto first = store_->find_batch(record.id)) return replay(*first);
  const ApplyOutcome outcome = store_->apply_batch(record, prices, progress);
  return outcome.already_applied ? replay(outcome.record) : result_of(outcome.record, false);
}

ImportSummary Database::load(const Dataset& data, bool replace, const Progress& progress) {
  std::vector<RowError> errors =
      detail::Geography::check(data.regions, data.ports, data.region_lines, data.port_lines);
  detail::Geography geo(data.regions, data.ports);
  for (std::size_t i = 0; i < data.prices.size(); ++i) {
    const Price& p = data.prices[i];
    const std::int64_t line =
        i < data.price_lines.size() ? data.price_lines[i] : std::int64_t(i) + 1;
    for (const auto& [code, field] :
         {std::pair{&p.origin, "orig_code"}, std::pair{&p.destination, "dest_code"}}) {
      if (!geo.find_port(*code)) {
        errors.push_back({line, field, fmt::format("price on unknown port '{}'", *code)});
      }
    }
    if (errors.size() >= 1000) break;  // enough to act on; the rest is more of the same
  }
  if (!errors.empty()) {
    const auto count = errors.size();
    throw ValidationFailed(fmt::format("the data has {}{} bad row{}; nothing was loaded", count,
                                       count >= 1000 ? " or more" : "", count == 1 ? "" : "s"),
                           std::move(errors));
  }
  if (!replace && !store_->empty()) {
    throw InvalidArgument(
        "the store already holds data; loading would mix two data sets (use replace to load "
        "over it)");
  }
  store_->replace_all(data, progress);
  return {std::int64_t(data.regions.size()), std::int64_t(data.ports.size()),
          std::int64_t(data.prices.size())};
}

ImportSummary Database::import_dump(const std::filesystem::path& path, bool replace,
                                    const Progress& progress) {
  return load(read_dump(path, progress), replace, progress);
}

}  // namespace prkl
