// SPDX-License-Identifier: MIT
// Location resolution over random region trees (chains past the depth limit, cycles, dangling
// parents, unknown regions): check() reports what is broken, the Geography copes with anything, and
// for a tree check() accepts every region resolves to exactly the ports found by walking each
// port's parents.
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <prkl/prkl.hpp>
#include <string>
#include <vector>

#include "geography/geography.hpp"

namespace {

class Bytes {
 public:
  Bytes(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  std::uint8_t next() { return at_ < size_ ? data_[at_++] : 0; }
  std::string_view rest() const {
    return {reinterpret_cast<const char*>(data_) + at_, size_ - std::min(at_, size_)};
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t at_ = 0;
};

std::string port_code(std::size_t i) {
  return fmt::format("PQ{}{}{}", char('A' + i / 676 % 26), char('A' + i / 26 % 26),
                     char('A' + i % 26));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Bytes bytes(data, size);
  const std::uint8_t shape = bytes.next();
  const bool chain = shape & 1;
  // The depth limit is the library's parameter (Options::max_region_depth: 64 by default, at
  // most 256). A small limit lets short chains straddle it, so every input stays cheap: trees of a
  // few dozen regions reach the same branches as deep ones, at thousands of inputs a second.
  // Chains at the real limits have their own regression tests.
  const std::int64_t max_depth = 1 + (shape >> 1) % 32;
  const std::size_t region_count = 1 + bytes.next() % (chain ? 48u : 32u);
  // Parents by index, so the oracle below walks integers rather than strings.
  constexpr std::size_t no_parent = SIZE_MAX;
  constexpr std::size_t unknown_parent = SIZE_MAX - 1;
  std::vector<prkl::Region> regions;
  std::vector<std::size_t> parent_of;
  for (std::size_t i = 0; i < region_count; ++i) {
    const std::uint8_t b = chain && i > 0 ? std::uint8_t(0) : bytes.next();
    std::size_t parent = no_parent;
    if (chain && i > 0) {
      parent = i - 1;
    } else if (b == 254) {
      parent = unknown_parent;
    } else if (b != 255 && b % 4 != 0) {
      parent = b % region_count;  // may close a cycle
    }
    std::optional<std::string> parent_slug;
    if (parent == unknown_parent) {
      parent_slug = "nowhere";
    } else if (parent != no_parent) {
      parent_slug = fmt::format("r{}", parent);
    }
    regions.push_back({fmt::format("r{}", i), fmt::format("Region {}", i), parent_slug});
    parent_of.push_back(parent);
  }
  std::vector<prkl::Port> ports;
  std::vector<std::size_t> region_of;
  const std::size_t port_count = bytes.next() % 32u;
  for (std::size_t i = 0; i < port_count; ++i) {
    const std::size_t r = bytes.next() % (region_count + 1);
    ports.push_back({port_code(i), fmt::format("Port {}", i),
                     r == region_count ? std::string("nowhere") : fmt::format("r{}", r)});
    region_of.push_back(r);
  }

  const auto errors = prkl::detail::Geography::check(regions, ports, max_depth);
  const prkl::detail::Geography geography(regions, ports);
  // expected[r]: indices of the ports under region r, ascending, which is also their codes' order.
  std::vector<std::vector<std::size_t>> expected(region_count);
  if (errors.empty()) {
    for (std::size_t p = 0; p < port_count; ++p) {
      std::size_t at = region_of[p];
      for (std::size_t steps = 0; at != no_parent; ++steps) {
        if (steps > region_count || at >= region_count) __builtin_trap();  // check() let it by
        expected[at].push_back(p);
        at = parent_of[at];
      }
    }
  }
  for (std::size_t r = 0; r < region_count; ++r) {
    try {
      const auto codes = geography.resolve(regions[r].slug);
      if (!std::is_sorted(codes.begin(), codes.end())) __builtin_trap();
      if (errors.empty()) {
        const auto& want = expected[r];
        if (codes.size() != want.size()) __builtin_trap();
        for (std::size_t k = 0; k < want.size(); ++k) {
          if (codes[k] != ports[want[k]].code) __builtin_trap();
        }
      }
    } catch (const prkl::NotFound&) {
      if (errors.empty()) __builtin_trap();
    }
  }
  for (const auto& p : ports) {
    try {
      if (geography.resolve(p.code) != std::vector<std::string>{p.code}) __builtin_trap();
    } catch (const prkl::NotFound&) {
      if (errors.empty()) __builtin_trap();
    }
  }
  try {
    (void)geography.tree();
    (void)geography.search(bytes.rest(), regions[0].slug, 10, 0);
  } catch (const prkl::Error&) {
  }
  return 0;
}
