#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "prkl/error.hpp"
#include "prkl/model.hpp"

namespace prkl::detail {

/// Ports and regions in memory, with every region's ports (its own and its sub-regions', at any
/// depth) worked out once. Tolerates a broken tree from storage (a cycle, a dangling parent):
/// such regions simply have no ancestors beyond the break. check() is what rejects them on input.
class Geography {
 public:
  Geography(std::vector<Region> regions, std::vector<Port> ports);

  /// Every problem in a region tree and its ports: duplicate codes or slugs, unknown parents,
  /// cycles, ports in unknown regions, malformed codes, slugs and names that are not clean text
  /// (text_error()). `*_lines` give each row's line for the report (row index + 1 when empty).
  static std::vector<RowError> check(std::span<const Region> regions, std::span<const Port> ports,
                                     std::span<const std::int64_t> region_lines = {},
                                     std::span<const std::int64_t> port_lines = {});

  const Port* find_port(std::string_view code) const;
  const Region* find_region(std::string_view slug) const;

  /// Sorted port codes of a port code or region slug. Throws NotFound naming `location`.
  std::vector<std::string> resolve(std::string_view location) const;
  /// Ports of a region at any depth, by code. Throws NotFound.
  std::vector<Port> ports_in_region(std::string_view slug) const;
  /// Ports whose folded code or name contains `text`, by code; only ports of `region` (at any
  /// depth) when it is not empty. Throws NotFound for an unknown region.
  std::vector<Port> search(std::string_view text, std::string_view region, std::int64_t limit,
                           std::int64_t offset) const;
  std::vector<RegionNode> tree() const;

 private:
  std::vector<Region> regions_;      // by slug
  std::vector<Port> ports_;          // by code
  std::vector<std::string> folded_;  // fold_case(code + '\n' + name)
  std::unordered_map<std::string_view, std::size_t> port_index_;
  std::unordered_map<std::string_view, std::size_t> region_index_;
  std::vector<std::vector<std::size_t>> region_ports_;  // port indexes, any depth, sorted
  std::vector<std::vector<std::size_t>> children_;      // region indexes
  std::vector<std::vector<std::size_t>> own_ports_;     // port indexes, direct
};

/// True for a 5-character port code of capital letters and digits.
bool is_port_code(std::string_view code);

}  // namespace prkl::detail
