// SPDX-License-Identifier: MIT
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "prkl/model.hpp"
#include "prkl/store.hpp"
#include "storage/store_detail.hpp"

namespace prkl::detail {

/// One stored price as the copy keeps it: 16 bytes.
struct CopiedPrice {
  std::int32_t day = 0;
  std::int32_t price = 0;
  /// The price's own day when the store has none, as a filter takes it.
  std::int32_t received = 0;
  /// 0 for none, otherwise 1 + the code's place in the copy's table of codes.
  std::uint16_t equipment = 0;
  /// 0 for none, 1 short, 2 long.
  std::uint8_t term = 0;
};

/// One stored contract: counted on each day of [valid_from, valid_to].
struct CopiedContract {
  std::int32_t valid_from = 0;
  std::int32_t valid_to = 0;
  std::int32_t price = 0;
  /// valid_from when the store has none.
  std::int32_t received = 0;
  std::uint16_t equipment = 0;
  std::uint8_t term = 0;
};

/// Every price and contract of one lane.
struct CopiedLane {
  std::vector<CopiedPrice> prices;        // by day, then price
  std::vector<CopiedContract> contracts;  // by valid_from
  std::size_t size() const noexcept { return prices.size() + contracts.size(); }
};

/// Reads lanes from a store into CopiedLanes, with equipment codes numbered in the order they
/// came; CopiedPrices::keep() renumbers them into its own table.
class LaneCollector final : public LaneReceiver {
 public:
  explicit LaneCollector(std::size_t lanes) : lanes_(lanes) {}
  void price(std::size_t lane, Date day, std::int32_t price, const Dimensions& d) override;
  void contract(std::size_t lane, Date valid_from, Date valid_to, std::int32_t price,
                const Dimensions& d) override;

  std::vector<CopiedLane>& lanes() noexcept { return lanes_; }
  const std::vector<std::string>& codes() const noexcept { return codes_; }

 private:
  std::uint16_t code_of(std::string_view code);

  std::vector<CopiedLane> lanes_;
  std::vector<std::string> codes_;
  std::unordered_map<std::string, std::uint16_t> numbers_;
};

/// The prices and contracts of the lanes that questions needing prices (percentiles, rank,
/// filters) have asked about, kept beside the lane-day aggregates so the next such question is
/// answered from memory instead of the store. Kept per lane id of a LaneDays; whoever holds
/// both forgets a lane here whenever LaneDays sees it change.
class CopiedPrices {
 public:
  /// The lane's prices, or null when not kept.
  const CopiedLane* find(std::uint32_t lane) const noexcept {
    return lane < lanes_.size() ? lanes_[lane].get() : nullptr;
  }
  /// Keeps `lane` under id `id`, its equipment numbered as in `codes`; false, keeping nothing,
  /// when that would take the copy past `limit` prices and contracts.
  bool keep(std::uint32_t id, CopiedLane&& lane, std::span<const std::string> codes,
            std::int64_t limit);
  void forget(std::uint32_t lane) noexcept;
  void clear() noexcept;

  /// Prices and contracts kept.
  std::int64_t size() const noexcept { return size_; }
  std::size_t bytes() const noexcept;

  /// A filter in the copy's own numbers, made once per question.
  class Filter {
   public:
    Filter(const PriceFilter& filter, const CopiedPrices& copy);
    /// True when it keeps every price whatever its dimensions.
    bool empty() const noexcept { return filter_.empty(); }
    bool keeps(std::uint16_t equipment, std::uint8_t term) const noexcept {
      return (!by_equipment_ || (equipment < wanted_.size() && wanted_[equipment])) &&
             (term_ == 0 || term == term_);
    }
    const PriceFilter& filter() const noexcept { return filter_; }

   private:
    const PriceFilter& filter_;
    bool by_equipment_ = false;
    std::vector<bool> wanted_;  // by equipment number
    std::uint8_t term_ = 0;
  };

  /// Calls sink(day, price) as read_prices() would give this lane's prices (days counted from
  /// 1970-01-01): once for every price on a day in [first, last] that counts under `filter`,
  /// and for a contract once for each such day it counts on. Inline: it runs once per price.
  template <typename Sink>
  static void deliver(const CopiedLane& lane, std::int32_t first, std::int32_t last,
                      const Filter& filter, Sink&& sink);

 private:
  std::vector<std::unique_ptr<CopiedLane>> lanes_;  // by lane id
  std::vector<std::string> codes_;
  std::unordered_map<std::string, std::uint16_t> numbers_;
  std::int64_t size_ = 0;
  std::size_t lane_bytes_ = 0;
};

template <typename Sink>
void CopiedPrices::deliver(const CopiedLane& lane, std::int32_t first, std::int32_t last,
                           const Filter& filter, Sink&& sink) {
  auto price = std::lower_bound(lane.prices.begin(), lane.prices.end(), first,
                                [](const CopiedPrice& p, std::int32_t day) { return p.day < day; });
  const auto end = lane.prices.end();
  if (filter.empty()) {
    for (; price != end && price->day <= last; ++price) sink(price->day, price->price);
  } else {
    const std::optional<std::int64_t>& max_age = filter.filter().max_age_days;
    for (; price != end && price->day <= last; ++price) {
      if (!filter.keeps(price->equipment, price->term)) continue;
      if (max_age && std::int64_t(price->day) - price->received > *max_age) continue;
      sink(price->day, price->price);
    }
  }
  // A contract on a day of the range began at most max_contract_days - 1 days before it.
  const std::int32_t earliest = first - std::int32_t(max_contract_days - 1);
  auto contract = std::lower_bound(
      lane.contracts.begin(), lane.contracts.end(), earliest,
      [](const CopiedContract& c, std::int32_t day) { return c.valid_from < day; });
  for (; contract != lane.contracts.end() && contract->valid_from <= last; ++contract) {
    if (contract->valid_to < first || !filter.keeps(contract->equipment, contract->term)) continue;
    const auto [from, to] =
        contract_days(contract->valid_from, contract->valid_to, contract->received, first, last,
                      filter.filter().max_age_days);
    for (std::int64_t day = from; day <= to; ++day) sink(std::int32_t(day), contract->price);
  }
}

}  // namespace prkl::detail
