// SPDX-License-Identifier: MIT
// The prices and contracts the in-memory copy keeps per lane, and answering from them as the
// store would.
#include "query/copied_prices.hpp"

#include <algorithm>
#include <limits>

namespace prkl::detail {

namespace {

std::int32_t day_number(Date day) {
  return std::int32_t(day.time_since_epoch().count());
}

std::uint8_t term_number(std::optional<Term> term) {
  if (!term) return 0;
  return *term == Term::short_term ? 1 : 2;
}

// Numbers 1..max: 0 says "none".
constexpr std::size_t max_codes = std::numeric_limits<std::uint16_t>::max() - 1;

}  // namespace

std::uint16_t LaneCollector::code_of(std::string_view code) {
  if (code.empty()) return 0;
  const auto [at, added] = numbers_.try_emplace(std::string(code), 0);
  if (added) {
    codes_.push_back(at->first);
    // Past max_codes the number wraps to 0 and keep() refuses the lanes: the store's table of
    // codes cannot hold that many, but a foreign writer's rows are not checked against it.
    at->second = std::uint16_t(codes_.size() <= max_codes ? codes_.size() : 0);
  }
  return at->second;
}

void LaneCollector::price(std::size_t lane, Date day, std::int32_t price, const Dimensions& d) {
  const std::int32_t number = day_number(day);
  lanes_.at(lane).prices.push_back({number, price, d.received ? day_number(*d.received) : number,
                                    code_of(d.equipment), term_number(d.term)});
}

void LaneCollector::contract(std::size_t lane, Date valid_from, Date valid_to, std::int32_t price,
                             const Dimensions& d) {
  const std::int32_t first = day_number(valid_from);
  lanes_.at(lane).contracts.push_back({first, day_number(valid_to), price,
                                       d.received ? day_number(*d.received) : first,
                                       code_of(d.equipment), term_number(d.term)});
}

bool CopiedPrices::keep(std::uint32_t id, CopiedLane&& lane, std::span<const std::string> codes,
                        std::int64_t limit) {
  const CopiedLane* before = find(id);
  const std::int64_t grown =
      size_ - std::int64_t(before ? before->size() : 0) + std::int64_t(lane.size());
  if (grown > limit || codes.size() > max_codes) return false;
  std::vector<std::uint16_t> renumbered(codes.size() + 1, 0);
  for (std::size_t i = 0; i < codes.size(); ++i) {
    const auto [at, added] = numbers_.try_emplace(codes[i], 0);
    if (added) {
      if (codes_.size() == max_codes) {
        numbers_.erase(at);
        return false;
      }
      codes_.push_back(codes[i]);
      at->second = std::uint16_t(codes_.size());
    }
    renumbered[i + 1] = at->second;
  }
  for (CopiedPrice& p : lane.prices) p.equipment = renumbered[p.equipment];
  for (CopiedContract& c : lane.contracts) c.equipment = renumbered[c.equipment];
  // The store sends them in order; a day another writer spelled oddly ('2024-02-31') may not be
  // where its number puts it.
  const auto by_day = [](const CopiedPrice& a, const CopiedPrice& b) { return a.day < b.day; };
  if (!std::is_sorted(lane.prices.begin(), lane.prices.end(), by_day)) {
    std::stable_sort(lane.prices.begin(), lane.prices.end(), by_day);
  }
  const auto by_start = [](const CopiedContract& a, const CopiedContract& b) {
    return a.valid_from < b.valid_from;
  };
  if (!std::is_sorted(lane.contracts.begin(), lane.contracts.end(), by_start)) {
    std::stable_sort(lane.contracts.begin(), lane.contracts.end(), by_start);
  }
  lane.prices.shrink_to_fit();
  lane.contracts.shrink_to_fit();
  auto kept = std::make_unique<CopiedLane>(std::move(lane));
  forget(id);
  if (lanes_.size() <= id) lanes_.resize(std::size_t(id) + 1);
  size_ += std::int64_t(kept->size());
  lane_bytes_ += kept->prices.capacity() * sizeof(CopiedPrice) +
                 kept->contracts.capacity() * sizeof(CopiedContract) + sizeof(CopiedLane);
  lanes_[id] = std::move(kept);
  return true;
}

void CopiedPrices::forget(std::uint32_t id) noexcept {
  if (id >= lanes_.size() || !lanes_[id]) return;
  const CopiedLane& lane = *lanes_[id];
  size_ -= std::int64_t(lane.size());
  lane_bytes_ -= lane.prices.capacity() * sizeof(CopiedPrice) +
                 lane.contracts.capacity() * sizeof(CopiedContract) + sizeof(CopiedLane);
  lanes_[id].reset();
}

void CopiedPrices::clear() noexcept {
  lanes_.clear();
  codes_.clear();
  numbers_.clear();
  size_ = 0;
  lane_bytes_ = 0;
}

std::size_t CopiedPrices::bytes() const noexcept {
  std::size_t total = sizeof(*this) + lanes_.capacity() * sizeof(lanes_[0]) + lane_bytes_;
  for (const std::string& code : codes_) total += 2 * (sizeof(std::string) + code.capacity());
  return total;
}

CopiedPrices::Filter::Filter(const PriceFilter& filter, const CopiedPrices& copy)
    : filter_(filter),
      by_equipment_(!filter.equipment.empty()),
      wanted_(copy.codes_.size() + 1, false),
      term_(term_number(filter.term)) {
  // A code the copy never saw is on none of its prices.
  for (const std::string& code : filter.equipment) {
    if (const auto at = copy.numbers_.find(code); at != copy.numbers_.end()) {
      wanted_[at->second] = true;
    }
  }
}

}  // namespace prkl::detail
