// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "prkl/error.hpp"
#include "prkl/model.hpp"
#include "prkl/store.hpp"

namespace prkl::detail {

/// Ports and regions in memory. Every region's ports at any depth are one contiguous run of a
/// list laid out in the order of a walk down the tree, worked out once in linear time, without
/// recursion, whatever the depth. Tolerates a broken tree (a cycle, a dangling parent) without
/// looping: such regions simply have no ancestors beyond the break. check() and check_tree()
/// are what reject them.
class Geography {
 public:
  Geography(std::vector<Region> regions, std::vector<Port> ports);

  /// A store's geography, refused with a StorageError naming the first problem when its region
  /// tree (which other SQL may have written) has a cycle or is deeper than `max_depth`.
  static std::unique_ptr<Geography> checked(GeographySnapshot& snapshot, std::int64_t max_depth);

  /// Every problem in a region tree and its ports: duplicate codes or slugs, unknown parents,
  /// cycles and regions nested deeper than `max_depth` (check_tree()), ports in unknown regions,
  /// malformed codes, slugs and names that are not clean text (text_error()). `*_lines` give each
  /// row's line for the report (row index + 1 when empty).
  static std::vector<RowError> check(std::span<const Region> regions, std::span<const Port> ports,
                                     std::int64_t max_depth,
                                     std::span<const std::int64_t> region_lines = {},
                                     std::span<const std::int64_t> port_lines = {});

  /// Cycles (one error per cycle, on the row of the region that closes it) and regions deeper
  /// than `max_depth` levels, a root being level 1 (one error per region exactly one level too
  /// deep: everything deeper hangs below one of them). Linear in the number of regions.
  static std::vector<RowError> check_tree(std::span<const Region> regions, std::int64_t max_depth,
                                          std::span<const std::int64_t> region_lines = {});

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
  /// Built without recursion; regions caught in a cycle (no root above them) are left out.
  std::vector<RegionNode> tree() const;

 private:
  /// Indexes into ports_ of the ports of `region` at any depth, ascending (so by code).
  std::vector<std::size_t> subtree_ports(std::size_t region) const;

  std::vector<Region> regions_;      // by slug
  std::vector<Port> ports_;          // by code
  std::vector<std::string> folded_;  // fold_case(code + '\n' + name)
  std::unordered_map<std::string_view, std::size_t> port_index_;
  std::unordered_map<std::string_view, std::size_t> region_index_;
  std::vector<std::vector<std::size_t>> children_;   // region indexes, ascending
  std::vector<std::vector<std::size_t>> own_ports_;  // port indexes, direct, ascending
  // The walk down: regions in the order visited (those under a root first, then any caught in
  // a cycle), each region's place in it, and one past the last region of its subtree there.
  std::vector<std::size_t> walk_;
  std::size_t rooted_ = 0;  // how many of walk_ hang below a root
  std::vector<std::size_t> first_, end_;
  // The ports of walk_'s regions, region after region, and where each place's ports start
  // (one more entry for the end).
  std::vector<std::size_t> walk_ports_;
  std::vector<std::size_t> walk_port_start_;
};

/// True for a 5-character port code of capital letters and digits.
bool is_port_code(std::string_view code);

}  // namespace prkl::detail
