#include "prkl/database.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "batch.hpp"
#include "geography.hpp"
#include "lanes.hpp"
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
  return Database(open_store(url, mode), options);
}

Database::Database(std::unique_ptr<Store> store, Options options)
    : store_(std::move(store)), options_(options) {
  if (!store_) throw InvalidArgument("Database needs a store");
}

Database::Database(Database&&) noexcept = default;
Database& Database::operator=(Database&&) noexcept = default;
Database::~Database() = default;

std::vector<std::string> Database::init() {
  return store_->init();
}

void Database::refresh(bool with_lanes) {
  const Generations now = store_->generations();
  // Each cache takes the generation its own snapshot was read at, which may be newer than `now`.
  if (!geography_ || now.geography != cached_.geography) {
    GeographySnapshot snapshot = store_->geography();
    geography_ =
        std::make_unique<detail::Geography>(std::move(snapshot.regions), std::move(snapshot.ports));
    cached_.geography = snapshot.generation;
  }
  if (with_lanes && (!lanes_ || now.lanes != cached_.lanes)) {
    LaneSnapshot snapshot = store_->lanes();
    lanes_ = std::make_unique<detail::LaneIndex>(std::move(snapshot.lanes));
    cached_.lanes = snapshot.generation;
  }
}

const detail::Geography& Database::geography() {
  refresh(false);
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
  refresh(true);
  const std::vector<Lane> lanes =
      lanes_->between(geography_->resolve(query.origin), geography_->resolve(query.destination));
  std::vector<DailyAggregate> found;
  if (!lanes.empty()) found = store_->daily_aggregates(lanes, query.date_from, query.date_to);
  std::vector<RateDay> out;
  out.reserve(std::size_t(days));
  auto next = found.begin();
  for (Date day = query.date_from; day <= query.date_to; day += std::chrono::days{1}) {
    RateDay rate{day, 0, std::nullopt, std::nullopt, std::nullopt};
    if (next != found.end() && next->day == day) {
      rate.count = next->count;
      rate.min = next->min;
      rate.max = next->max;
      if (next->count >= query.min_count) {
        rate.average = exact_average(next->sum, next->count, query.scale);
      }
      ++next;
    }
    out.push_back(rate);
  }
  if (next != found.end()) {
    throw StorageError(fmt::format("{} backend returned day {} out of order or range",
                                   store_->backend(), format_date(next->day)));
  }
  return out;
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
