// SPDX-License-Identifier: MIT
// Ports and regions in memory: the tree's checks, location resolution, port search.
#include "geography/geography.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <unordered_set>

#include "util/text.hpp"

namespace prkl::detail {

bool is_port_code(std::string_view code) {
  return code.size() == 5 && std::all_of(code.begin(), code.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
         });
}

namespace {

std::int64_t line_of(std::span<const std::int64_t> lines, std::size_t i) {
  return i < lines.size() ? lines[i] : std::int64_t(i) + 1;
}

}  // namespace

std::vector<RowError> Geography::check_tree(std::span<const Region> regions, std::int64_t max_depth,
                                            std::span<const std::int64_t> region_lines) {
  constexpr std::size_t none = std::size_t(-1);
  std::unordered_map<std::string_view, std::size_t> by_slug;
  for (std::size_t i = 0; i < regions.size(); ++i) by_slug.emplace(regions[i].slug, i);
  const auto parent_of = [&](std::size_t i) {
    if (!regions[i].parent_slug) return none;
    const auto found = by_slug.find(*regions[i].parent_slug);
    return found == by_slug.end() ? none : found->second;
  };

  // Each region's level (a root is 1) and root, found by walking up from every region not yet
  // known until a known one, a root or the walk itself is met, then numbering the walk on the
  // way back: every region is walked once.
  constexpr std::int64_t unknown = 0, on_walk = -1, unrooted = -2;
  std::vector<std::int64_t> level(regions.size(), unknown);
  std::vector<std::size_t> root(regions.size(), none);
  std::vector<RowError> errors;
  std::vector<std::size_t> walk;
  for (std::size_t start = 0; start < regions.size(); ++start) {
    if (level[start] != unknown) continue;
    walk.clear();
    std::int64_t above = 0;  // the level of the region above the walk's top
    std::size_t top_root = none;
    for (std::size_t at = start;;) {
      level[at] = on_walk;
      walk.push_back(at);
      const std::size_t parent = parent_of(at);
      if (parent == none) {
        top_root = at;
        break;
      }
      if (level[parent] > 0) {
        above = level[parent];
        top_root = root[parent];
        break;
      }
      if (level[parent] == unrooted) {
        above = unrooted;
        break;
      }
      if (level[parent] == on_walk) {
        // The walk came back to itself: a cycle, reported once, where it closes.
        errors.push_back(
            {line_of(region_lines, at), "parent_slug",
             fmt::format("region {} is its own ancestor (cycle through {})",
                         quoted_value(regions[at].slug), quoted_value(regions[parent].slug))});
        above = unrooted;
        break;
      }
      at = parent;
    }
    for (auto w = walk.rbegin(); w != walk.rend(); ++w) {
      level[*w] = above == unrooted ? unrooted : ++above;
      root[*w] = top_root;
      if (level[*w] == max_depth + 1) {
        errors.push_back(
            {line_of(region_lines, *w), "parent_slug",
             fmt::format("region {} is nested {} levels deep below the root region {}, more than "
                         "the limit of {} (Options::max_region_depth)",
                         quoted_value(regions[*w].slug), level[*w],
                         quoted_value(regions[top_root].slug), max_depth)});
      }
    }
  }
  std::sort(errors.begin(), errors.end(),
            [](const RowError& a, const RowError& b) { return a.row < b.row; });
  return errors;
}

std::vector<RowError> Geography::check(std::span<const Region> regions, std::span<const Port> ports,
                                       std::int64_t max_depth,
                                       std::span<const std::int64_t> region_lines,
                                       std::span<const std::int64_t> port_lines) {
  std::vector<RowError> errors;
  // Text that is not clean is reported alone: the other checks would only repeat it.
  const auto clean = [&errors](std::int64_t line, const char* field, std::string_view what,
                               std::string_view text) {
    if (auto error = text_error(what, text)) {
      errors.push_back({line, field, std::move(*error)});
      return false;
    }
    return true;
  };
  std::unordered_map<std::string_view, std::size_t> by_slug;
  for (std::size_t i = 0; i < regions.size(); ++i) {
    const Region& r = regions[i];
    const std::int64_t line = line_of(region_lines, i);
    clean(line, "name", "region name", r.name);
    if (r.parent_slug) clean(line, "parent_slug", "parent region slug", *r.parent_slug);
    if (!clean(line, "slug", "region slug", r.slug)) continue;
    if (r.slug.empty()) {
      errors.push_back({line, "slug", "region slug is empty"});
    } else if (!by_slug.emplace(r.slug, i).second) {
      errors.push_back(
          {line, "slug", fmt::format("duplicate region slug {}", quoted_value(r.slug))});
    }
  }
  for (std::size_t i = 0; i < regions.size(); ++i) {
    const Region& r = regions[i];
    if (r.parent_slug && !by_slug.contains(*r.parent_slug) && !text_error({}, *r.parent_slug)) {
      errors.push_back({line_of(region_lines, i), "parent_slug",
                        fmt::format("region {} has unknown parent region {}", quoted_value(r.slug),
                                    quoted_value(*r.parent_slug))});
    }
  }
  for (RowError& error : check_tree(regions, max_depth, region_lines)) {
    errors.push_back(std::move(error));
  }
  std::unordered_set<std::string_view> codes;
  for (std::size_t i = 0; i < ports.size(); ++i) {
    const Port& p = ports[i];
    const std::int64_t line = line_of(port_lines, i);
    clean(line, "name", "port name", p.name);
    if (clean(line, "code", "port code", p.code)) {
      if (!is_port_code(p.code)) {
        errors.push_back(
            {line, "code",
             fmt::format("port code {} is not 5 capital letters or digits", quoted_value(p.code))});
      } else if (!codes.insert(p.code).second) {
        errors.push_back(
            {line, "code", fmt::format("duplicate port code {}", quoted_value(p.code))});
      }
    }
    if (clean(line, "parent_slug", "port region slug", p.region_slug) &&
        !by_slug.contains(p.region_slug)) {
      errors.push_back({line, "parent_slug",
                        fmt::format("port {} is in unknown region {}", quoted_value(p.code),
                                    quoted_value(p.region_slug))});
    }
  }
  std::stable_sort(errors.begin(), errors.end(),
                   [](const RowError& a, const RowError& b) { return a.row < b.row; });
  return errors;
}

std::unique_ptr<Geography> Geography::checked(GeographySnapshot& snapshot, std::int64_t max_depth) {
  // Regions written by other SQL never passed load()'s checks; a cycle or a tree too deep for
  // the tree's consumers is refused here, before anything is answered from it. In slug order,
  // so that the region named is the same on every backend.
  std::sort(snapshot.regions.begin(), snapshot.regions.end(),
            [](const Region& a, const Region& b) { return a.slug < b.slug; });
  const std::vector<RowError> broken = Geography::check_tree(snapshot.regions, max_depth);
  if (!broken.empty()) {
    throw StorageError(
        fmt::format("the store's regions table cannot be used: {}{}", broken.front().message,
                    broken.size() > 1 ? fmt::format(" (and {} more problems)", broken.size() - 1)
                                      : std::string()));
  }
  return std::make_unique<Geography>(std::move(snapshot.regions), std::move(snapshot.ports));
}

Geography::Geography(std::vector<Region> regions, std::vector<Port> ports)
    : regions_(std::move(regions)), ports_(std::move(ports)) {
  std::sort(regions_.begin(), regions_.end(),
            [](const Region& a, const Region& b) { return a.slug < b.slug; });
  std::sort(ports_.begin(), ports_.end(),
            [](const Port& a, const Port& b) { return a.code < b.code; });
  for (std::size_t i = 0; i < regions_.size(); ++i) region_index_.emplace(regions_[i].slug, i);
  for (std::size_t i = 0; i < ports_.size(); ++i) {
    port_index_.emplace(ports_[i].code, i);
    folded_.push_back(fold_case(ports_[i].code + '\n' + ports_[i].name));
  }

  const std::size_t n = regions_.size();
  children_.resize(n);
  own_ports_.resize(n);
  std::vector<bool> is_root(n, true);
  for (std::size_t i = 0; i < n; ++i) {
    if (!regions_[i].parent_slug) continue;
    const auto parent = region_index_.find(*regions_[i].parent_slug);
    if (parent != region_index_.end()) {
      children_[parent->second].push_back(i);
      is_root[i] = false;
    }
  }
  for (std::size_t p = 0; p < ports_.size(); ++p) {
    const auto region = region_index_.find(ports_[p].region_slug);
    if (region != region_index_.end()) own_ports_[region->second].push_back(p);
  }

  // The walk down, from each root, then from whatever a cycle kept out of reach; `first_`
  // marks a region visited, so a cycle is entered once and never looped.
  constexpr std::size_t unvisited = std::size_t(-1);
  first_.assign(n, unvisited);
  end_.assign(n, unvisited);
  walk_.reserve(n);
  std::vector<std::pair<std::size_t, std::size_t>> stack;  // region, next child to visit
  const auto walk_from = [&](std::size_t start) {
    first_[start] = walk_.size();
    walk_.push_back(start);
    stack.push_back({start, 0});
    while (!stack.empty()) {
      auto& [region, next] = stack.back();
      if (next == children_[region].size()) {
        end_[region] = walk_.size();
        stack.pop_back();
        continue;
      }
      const std::size_t child = children_[region][next++];
      if (first_[child] != unvisited) continue;
      first_[child] = walk_.size();
      walk_.push_back(child);
      stack.push_back({child, 0});
    }
  };
  for (std::size_t r = 0; r < n; ++r) {
    if (is_root[r]) walk_from(r);
  }
  rooted_ = walk_.size();
  for (std::size_t r = 0; r < n; ++r) {
    if (first_[r] == unvisited) walk_from(r);
  }
  walk_port_start_.reserve(n + 1);
  walk_ports_.reserve(ports_.size());
  for (const std::size_t r : walk_) {
    walk_port_start_.push_back(walk_ports_.size());
    walk_ports_.insert(walk_ports_.end(), own_ports_[r].begin(), own_ports_[r].end());
  }
  walk_port_start_.push_back(walk_ports_.size());
}

std::vector<std::size_t> Geography::subtree_ports(std::size_t region) const {
  const auto begin = walk_ports_.begin() + std::ptrdiff_t(walk_port_start_[first_[region]]);
  const auto end = walk_ports_.begin() + std::ptrdiff_t(walk_port_start_[end_[region]]);
  std::vector<std::size_t> out(begin, end);
  std::sort(out.begin(), out.end());
  return out;
}

const Port* Geography::find_port(std::string_view code) const {
  const auto found = port_index_.find(code);
  return found == port_index_.end() ? nullptr : &ports_[found->second];
}

const Region* Geography::find_region(std::string_view slug) const {
  const auto found = region_index_.find(slug);
  return found == region_index_.end() ? nullptr : &regions_[found->second];
}

std::vector<std::string> Geography::resolve(std::string_view location) const {
  if (const Port* port = find_port(location)) return {port->code};
  const auto region = region_index_.find(location);
  if (region == region_index_.end()) {
    throw NotFound(
        fmt::format("unknown location {}: not a port code or region slug", quoted_value(location)));
  }
  const std::vector<std::size_t> ports = subtree_ports(region->second);
  std::vector<std::string> codes;
  codes.reserve(ports.size());
  for (std::size_t p : ports) codes.push_back(ports_[p].code);
  return codes;
}

std::vector<Port> Geography::ports_in_region(std::string_view slug) const {
  const auto region = region_index_.find(slug);
  if (region == region_index_.end()) {
    throw NotFound(fmt::format("unknown region {}", quoted_value(slug)));
  }
  std::vector<Port> out;
  for (std::size_t p : subtree_ports(region->second)) out.push_back(ports_[p]);
  return out;
}

std::vector<Port> Geography::search(std::string_view text, std::string_view region,
                                    std::int64_t limit, std::int64_t offset) const {
  std::optional<std::vector<std::size_t>> within;
  if (!region.empty()) {
    const auto found = region_index_.find(region);
    if (found == region_index_.end()) {
      throw NotFound(fmt::format("unknown region {}", quoted_value(region)));
    }
    within = subtree_ports(found->second);
  }
  const std::string needle = fold_case(text);
  const std::size_t candidates = within ? within->size() : ports_.size();
  std::vector<Port> out;
  std::int64_t skipped = 0;
  for (std::size_t i = 0; i < candidates && std::int64_t(out.size()) < limit; ++i) {
    const std::size_t p = within ? (*within)[i] : i;
    // The '\n' separator keeps a match from spanning the end of the code and the name.
    if (folded_[p].find(needle) == std::string::npos) continue;
    if (skipped++ < offset) continue;
    out.push_back(ports_[p]);
  }
  return out;
}

std::vector<RegionNode> Geography::tree() const {
  // Bottom-up along the walk read backwards, so that every child is complete before it is
  // moved into its parent; children come in slug order, as children_ holds them.
  std::vector<RegionNode> nodes(regions_.size());
  for (std::size_t k = rooted_; k-- > 0;) {
    const std::size_t r = walk_[k];
    RegionNode& node = nodes[r];
    node.region = regions_[r];
    for (std::size_t p : own_ports_[r]) node.port_codes.push_back(ports_[p].code);
    node.children.reserve(children_[r].size());
    for (std::size_t c : children_[r]) node.children.push_back(std::move(nodes[c]));
  }
  std::vector<RegionNode> roots;
  for (std::size_t k = 0; k < rooted_; k = end_[walk_[k]]) {
    roots.push_back(std::move(nodes[walk_[k]]));
  }
  return roots;
}

}  // namespace prkl::detail
