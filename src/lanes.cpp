#include "lanes.hpp"

#include <unordered_set>

namespace prkl::detail {

LaneIndex::LaneIndex(std::vector<Lane> lanes) {
  for (Lane& lane : lanes) {
    destinations_by_origin_[std::move(lane.origin)].push_back(std::move(lane.destination));
  }
}

std::vector<Lane> LaneIndex::between(std::span<const std::string> origins,
                                     std::span<const std::string> destinations) const {
  const std::unordered_set<std::string_view> wanted(destinations.begin(), destinations.end());
  std::vector<Lane> out;
  for (const std::string& origin : origins) {
    const auto found = destinations_by_origin_.find(origin);
    if (found == destinations_by_origin_.end()) continue;
    for (const std::string& destination : found->second) {
      if (wanted.contains(destination)) out.push_back({origin, destination});
    }
  }
  return out;
}

}  // namespace prkl::detail
