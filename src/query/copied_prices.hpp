// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "prkl/model.hpp"
#include "prkl/store.hpp"

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

  /// Gives `receiver` what read_prices() would of this lane: every price on a day in [from, to]
  /// that counts under `filter`, and a contract once for each such day it counts on.
  static void deliver(const CopiedLane& lane, std::size_t index, Date from, Date to,
                      const Filter& filter, PriceReceiver& receiver);

 private:
  std::vector<std::unique_ptr<CopiedLane>> lanes_;  // by lane id
  std::vector<std::string> codes_;
  std::unordered_map<std::string, std::uint16_t> numbers_;
  std::int64_t size_ = 0;
  std::size_t lane_bytes_ = 0;
};

}  // namespace prkl::detail
