#pragma once

#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "prkl/store.hpp"

namespace prkl::detail {

/// The lanes that have prices, by origin, so that a region-to-region question names only lanes
/// that exist instead of every origin/destination combination (at 1,000 ports, two regions of
/// 125 ports make 15,625 combinations but a few hundred lanes).
class LaneIndex {
 public:
  explicit LaneIndex(std::vector<Lane> lanes);

  /// Lanes from any of `origins` to any of `destinations`.
  std::vector<Lane> between(std::span<const std::string> origins,
                            std::span<const std::string> destinations) const;

 private:
  std::unordered_map<std::string, std::vector<std::string>> destinations_by_origin_;
};

}  // namespace prkl::detail
