// SPDX-License-Identifier: MIT
// A batch's prices and contracts summed per lane and day: what it adds to the lane-days.
#include "storage/lane_day_groups.hpp"

#include <algorithm>
#include <tuple>

namespace prkl::detail {

namespace {

using Lane = std::pair<std::string_view, std::string_view>;

// One lane's days from `first` on: a slot per day, filled by its prices and contracts.
class LaneSpan {
 public:
  LaneSpan(Date first, Date last)
      : first_(first), slots_(std::size_t((last - first).count() + 1)) {}

  void add(Date day, std::int32_t price) {
    LaneDay& g = slots_[std::size_t((day - first_).count())];
    g.min = g.count == 0 ? price : std::min(g.min, price);
    g.max = g.count == 0 ? price : std::max(g.max, price);
    ++g.count;
    g.sum += price;
  }

  void emit(const Lane& lane, std::vector<LaneDay>& out) const {
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].count == 0) continue;
      LaneDay g = slots_[i];
      g.origin = lane.first;
      g.destination = lane.second;
      g.day = first_ + std::chrono::days{std::int64_t(i)};
      out.push_back(g);
    }
  }

 private:
  Date first_;
  std::vector<LaneDay> slots_;
};

template <typename Row>
Lane lane_of(const Row* row) {
  return {row->origin, row->destination};
}

}  // namespace

std::vector<LaneDay> lane_day_groups(std::span<const Price> prices,
                                     std::span<const Contract> contracts) {
  std::vector<const Price*> day_prices;
  day_prices.reserve(prices.size());
  for (const Price& p : prices) day_prices.push_back(&p);
  std::sort(day_prices.begin(), day_prices.end(), [](const Price* a, const Price* b) {
    return std::tie(a->origin, a->destination, a->day) <
           std::tie(b->origin, b->destination, b->day);
  });
  std::vector<const Contract*> by_lane;
  by_lane.reserve(contracts.size());
  for (const Contract& c : contracts) by_lane.push_back(&c);
  std::sort(by_lane.begin(), by_lane.end(),
            [](const Contract* a, const Contract* b) { return lane_of(a) < lane_of(b); });

  std::vector<LaneDay> out;
  auto p = day_prices.begin();
  auto c = by_lane.begin();
  while (p != day_prices.end() || c != by_lane.end()) {
    // The next lane in order, and its rows of each kind.
    const Lane lane = c == by_lane.end() || (p != day_prices.end() && lane_of(*p) < lane_of(*c))
                          ? lane_of(*p)
                          : lane_of(*c);
    const auto p_end =
        std::find_if(p, day_prices.end(), [&](const Price* x) { return lane_of(x) != lane; });
    const auto c_end =
        std::find_if(c, by_lane.end(), [&](const Contract* x) { return lane_of(x) != lane; });
    Date first = Date::max(), last = Date::min();
    if (p != p_end) first = (*p)->day, last = (*(p_end - 1))->day;
    for (auto i = c; i != c_end; ++i) {
      first = std::min(first, (*i)->valid_from);
      last = std::max(last, (*i)->valid_to);
    }
    LaneSpan span(first, last);
    for (; p != p_end; ++p) span.add((*p)->day, (*p)->price);
    for (; c != c_end; ++c) {
      for (Date d = (*c)->valid_from; d <= (*c)->valid_to; d += std::chrono::days{1}) {
        span.add(d, (*c)->price);
      }
    }
    span.emit(lane, out);
  }
  return out;
}

}  // namespace prkl::detail
