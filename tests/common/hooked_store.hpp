// SPDX-License-Identifier: MIT
#pragma once

// A Store that runs a test's code at the moments a race can happen: another client's write
// between prkl's decision and its own read or write.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "prkl/store.hpp"

namespace prkl::test {

// Passes a load on, noting the size of each span of prices it is handed.
class RecordingLoader final : public Loader {
 public:
  RecordingLoader(std::unique_ptr<Loader> inner, std::vector<std::size_t>& chunks)
      : inner_(std::move(inner)), chunks_(chunks) {}
  void add(std::span<const Region> regions) override { inner_->add(regions); }
  void add(std::span<const Port> ports) override { inner_->add(ports); }
  void add(std::span<const Price> prices) override {
    chunks_.push_back(prices.size());
    inner_->add(prices);
  }
  void add(std::span<const Contract> contracts) override { inner_->add(contracts); }
  std::int64_t remove_prices_on(Date day) override { return inner_->remove_prices_on(day); }
  void finish(std::span<const Contract> contracts) override { inner_->finish(contracts); }

 private:
  std::unique_ptr<Loader> inner_;
  std::vector<std::size_t>& chunks_;
};

class HookedStore final : public Store {
 public:
  explicit HookedStore(std::unique_ptr<Store> inner) : inner_(std::move(inner)) {}

  /// Run once, before the first read_prices or read_lanes / load reaches the inner store.
  std::function<void()> before_read_prices;
  /// Run before every read_prices or read_lanes, after before_read_prices.
  std::function<void()> before_each_read_prices;
  std::function<void()> before_load;
  /// When set, stand in for the inner store's replication state (a SQLite "standby").
  std::function<std::uint64_t()> log_position_is;
  std::function<bool(std::uint64_t)> has_replayed_is;
  int reads = 0;
  int loads = 0;
  /// How many times each member was called, by name.
  std::map<std::string, int> calls;
  /// The sizes of the spans of prices loads handed the store, in order.
  std::vector<std::size_t> price_chunks;

  std::string_view backend() const noexcept override { return inner_->backend(); }
  std::vector<std::string> init() override { return called("init")->init(); }
  StoreVersion version() override { return called("version")->version(); }
  StoreHealth health() override { return called("health")->health(); }
  std::uint64_t log_position() override {
    Store* inner = called("log_position");
    return log_position_is ? log_position_is() : inner->log_position();
  }
  bool has_replayed(std::uint64_t position) override {
    Store* inner = called("has_replayed");
    return has_replayed_is ? has_replayed_is(position) : inner->has_replayed(position);
  }
  GeographySnapshot geography() override { return called("geography")->geography(); }
  bool empty() override { return called("empty")->empty(); }
  StoreVersion read_lane_days(const std::optional<StoreVersion>& since,
                              LaneDayReceiver& receiver) override {
    return called("read_lane_days")->read_lane_days(since, receiver);
  }
  StoreVersion read_prices(std::span<const LaneKey> lanes, Date from, Date to,
                           const PriceFilter& filter, PriceReceiver& receiver) override {
    if (reads++ == 0 && before_read_prices) before_read_prices();
    if (before_each_read_prices) before_each_read_prices();
    return called("read_prices")->read_prices(lanes, from, to, filter, receiver);
  }
  StoreVersion read_lanes(std::span<const LaneKey> lanes, LaneReceiver& receiver) override {
    if (reads++ == 0 && before_read_prices) before_read_prices();
    if (before_each_read_prices) before_each_read_prices();
    return called("read_lanes")->read_lanes(lanes, receiver);
  }
  std::vector<std::string> equipment() override { return called("equipment")->equipment(); }
  std::int64_t add_equipment(std::span<const std::string> codes) override {
    return called("add_equipment")->add_equipment(codes);
  }
  std::vector<ExchangeRate> exchange_rates(std::span<const std::string> currencies, Date from,
                                           Date to) override {
    return called("exchange_rates")->exchange_rates(currencies, from, to);
  }
  std::vector<std::string> currencies() override { return called("currencies")->currencies(); }
  std::int64_t put_exchange_rates(std::span<const ExchangeRate> rates, bool replace) override {
    return called("put_exchange_rates")->put_exchange_rates(rates, replace);
  }
  std::unique_ptr<Loader> begin_load(LoadMode mode) override {
    if (loads++ == 0 && before_load) before_load();
    return std::make_unique<RecordingLoader>(called("begin_load")->begin_load(mode), price_chunks);
  }
  std::optional<BatchRecord> find_batch(std::string_view id) override {
    return called("find_batch")->find_batch(id);
  }
  ApplyOutcome apply_batch(const BatchRecord& record, std::span<const Price> prices,
                           std::span<const Contract> contracts, const Progress& progress) override {
    return called("apply_batch")->apply_batch(record, prices, contracts, progress);
  }

 private:
  Store* called(const char* name) {
    ++calls[name];
    return inner_.get();
  }

  std::unique_ptr<Store> inner_;
};

}  // namespace prkl::test
