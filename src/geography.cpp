#include "geography.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_set>

#include "text.hpp"

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

std::vector<RowError> Geography::check(std::span<const Region> regions, std::span<const Port> ports,
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
  // A cycle is a walk up the parents that comes back to where it started. Each region is
  // reported once, on the row of the region that closes the loop.
  std::vector<int> state(regions.size(), 0);  // 0 unvisited, 1 on the current walk, 2 done
  for (std::size_t start = 0; start < regions.size(); ++start) {
    std::vector<std::size_t> walk;
    std::size_t at = start;
    while (state[at] == 0) {
      state[at] = 1;
      walk.push_back(at);
      const auto& parent = regions[at].parent_slug;
      if (!parent) break;
      const auto found = by_slug.find(*parent);
      if (found == by_slug.end()) break;
      at = found->second;
      if (state[at] == 1) {
        errors.push_back(
            {line_of(region_lines, walk.back()), "parent_slug",
             fmt::format("region {} is its own ancestor (cycle through {})",
                         quoted_value(regions[walk.back()].slug), quoted_value(regions[at].slug))});
        break;
      }
    }
    for (std::size_t w : walk) state[w] = 2;
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

  children_.resize(regions_.size());
  own_ports_.resize(regions_.size());
  region_ports_.resize(regions_.size());
  for (std::size_t i = 0; i < regions_.size(); ++i) {
    if (!regions_[i].parent_slug) continue;
    const auto parent = region_index_.find(*regions_[i].parent_slug);
    if (parent != region_index_.end()) children_[parent->second].push_back(i);
  }
  for (std::size_t p = 0; p < ports_.size(); ++p) {
    const auto region = region_index_.find(ports_[p].region_slug);
    if (region != region_index_.end()) own_ports_[region->second].push_back(p);
  }
  // Each region collects its subtree by walking down; `seen` keeps a cycle from looping.
  for (std::size_t r = 0; r < regions_.size(); ++r) {
    std::vector<bool> seen(regions_.size(), false);
    std::vector<std::size_t> stack{r};
    auto& out = region_ports_[r];
    while (!stack.empty()) {
      const std::size_t at = stack.back();
      stack.pop_back();
      if (seen[at]) continue;
      seen[at] = true;
      out.insert(out.end(), own_ports_[at].begin(), own_ports_[at].end());
      stack.insert(stack.end(), children_[at].begin(), children_[at].end());
    }
    std::sort(out.begin(), out.end());
  }
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
  std::vector<std::string> codes;
  codes.reserve(region_ports_[region->second].size());
  for (std::size_t p : region_ports_[region->second]) codes.push_back(ports_[p].code);
  return codes;
}

std::vector<Port> Geography::ports_in_region(std::string_view slug) const {
  const auto region = region_index_.find(slug);
  if (region == region_index_.end()) {
    throw NotFound(fmt::format("unknown region {}", quoted_value(slug)));
  }
  std::vector<Port> out;
  for (std::size_t p : region_ports_[region->second]) out.push_back(ports_[p]);
  return out;
}

std::vector<Port> Geography::search(std::string_view text, std::string_view region,
                                    std::int64_t limit, std::int64_t offset) const {
  const std::vector<std::size_t>* within = nullptr;
  if (!region.empty()) {
    const auto found = region_index_.find(region);
    if (found == region_index_.end()) {
      throw NotFound(fmt::format("unknown region {}", quoted_value(region)));
    }
    within = &region_ports_[found->second];
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
  // Built bottom-up from each root; a region caught in a cycle has no root and is left out,
  // which check() prevents on every input path.
  const auto build = [this](const auto& self, std::size_t r,
                            std::vector<bool>& seen) -> RegionNode {
    seen[r] = true;
    RegionNode node{regions_[r], {}, {}};
    for (std::size_t p : own_ports_[r]) node.port_codes.push_back(ports_[p].code);
    std::sort(node.port_codes.begin(), node.port_codes.end());
    std::vector<std::size_t> kids = children_[r];
    std::sort(kids.begin(), kids.end());
    for (std::size_t c : kids) {
      if (!seen[c]) node.children.push_back(self(self, c, seen));
    }
    return node;
  };
  std::vector<RegionNode> roots;
  std::vector<bool> seen(regions_.size(), false);
  for (std::size_t r = 0; r < regions_.size(); ++r) {
    const auto& parent = regions_[r].parent_slug;
    if (!parent || !region_index_.contains(*parent)) roots.push_back(build(build, r, seen));
  }
  return roots;
}

}  // namespace prkl::detail
