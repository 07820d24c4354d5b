// Location resolution over random region trees (deep chains, cycles, dangling parents, unknown
// regions): check() reports what is broken, the Geography copes with anything, and for a tree
// check() accepts every region resolves to exactly the ports found by walking each port's
// parents.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <prkl/prkl.hpp>
#include <set>

#include "geography.hpp"

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
  const bool chain = shape & 1;  // a chain reaches past the deepest tree allowed (256)
  const std::size_t region_count = 1 + (chain ? bytes.next() * 2u : bytes.next() % 64u);
  std::vector<prkl::Region> regions;
  for (std::size_t i = 0; i < region_count; ++i) {
    const std::uint8_t b = chain && i > 0 ? std::uint8_t(0) : bytes.next();
    std::optional<std::string> parent;
    if (chain && i > 0) {
      parent = fmt::format("r{}", i - 1);
    } else if (b == 254) {
      parent = "nowhere";
    } else if (b != 255 && b % 4 != 0) {
      parent = fmt::format("r{}", b % region_count);  // may close a cycle
    }
    regions.push_back({fmt::format("r{}", i), fmt::format("Region {}", i), parent});
  }
  std::vector<prkl::Port> ports;
  const std::size_t port_count = bytes.next() % 64u;
  for (std::size_t i = 0; i < port_count; ++i) {
    const std::size_t r = bytes.next() % (region_count + 1);
    ports.push_back({port_code(i), fmt::format("Port {}", i),
                     r == region_count ? std::string("nowhere") : fmt::format("r{}", r)});
  }

  const auto errors = prkl::detail::Geography::check(regions, ports, 256);
  const prkl::detail::Geography geography(regions, ports);
  std::map<std::string, std::set<std::string>> expected;
  if (errors.empty()) {
    std::map<std::string, std::optional<std::string>> parent_of;
    for (const auto& r : regions) parent_of[r.slug] = r.parent_slug;
    for (const auto& p : ports) {
      std::optional<std::string> at = p.region_slug;
      for (std::size_t steps = 0; at; ++steps) {
        if (steps > region_count) __builtin_trap();  // check() let a cycle through
        expected[*at].insert(p.code);
        at = parent_of.at(*at);
      }
    }
  }
  for (const auto& r : regions) {
    try {
      const auto codes = geography.resolve(r.slug);
      if (!std::is_sorted(codes.begin(), codes.end())) __builtin_trap();
      if (errors.empty()) {
        const auto& want = expected[r.slug];
        if (!std::equal(codes.begin(), codes.end(), want.begin(), want.end())) __builtin_trap();
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
