// SPDX-License-Identifier: MIT
// The sample generator: a seeded, realistic data set of regions, ports and prices.
#include "prkl/generator.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <set>

#include "prkl/error.hpp"

namespace prkl {

namespace {

// SplitMix64: tiny, fast, and specified bit for bit, so a seed means the same data everywhere
// (std::uniform_int_distribution is not portable across standard libraries).
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, n), n > 0; the modulo bias is below 2^-40 for the sizes used here.
  std::int64_t below(std::int64_t n) { return std::int64_t(next() % std::uint64_t(n)); }

 private:
  std::uint64_t state_;
};

struct Area {
  const char* slug;
  const char* name;
  std::array<const char*, 3> countries;
};

constexpr Area areas[] = {
    {"north_europe", "North Europe", {"NO", "SE", "FI"}},
    {"west_europe", "West Europe", {"DE", "NL", "FR"}},
    {"south_europe", "South Europe", {"ES", "IT", "GR"}},
    {"china", "China", {"CN", "HK", "TW"}},
    {"south_east_asia", "South East Asia", {"SG", "MY", "VN"}},
    {"north_america", "North America", {"US", "CA", "MX"}},
    {"south_america", "South America", {"BR", "AR", "CL"}},
    {"middle_east", "Middle East", {"AE", "SA", "OM"}},
};

constexpr const char* syllables[] = {"ka",  "ro",  "mi", "sa", "len", "dor", "vik", "ha", "tu",
                                     "bel", "gra", "no", "po", "rin", "sto", "ma",  "el", "fjo"};

std::string place_name(Random& random) {
  std::string name;
  const auto parts = 2 + random.below(2);
  for (std::int64_t i = 0; i < parts; ++i) name += syllables[random.below(std::size(syllables))];
  name[0] = char(name[0] - 'a' + 'A');
  return name;
}

void check_options(const GeneratorOptions& o) {
  const auto in = [](std::int64_t value, const char* name, std::int64_t least, std::int64_t most) {
    if (value < least || value > most) {
      throw InvalidArgument(
          fmt::format("generator option {} is {}, outside {}..{}", name, value, least, most));
    }
  };
  // Drawn at random among 24 country prefixes x 26^3: a quarter of the 421,824 codes keeps
  // the draws of new codes from going round in circles.
  in(o.ports, "ports", 2, max_generated_ports);
  in(o.lanes, "lanes", 1, std::min(o.ports * (o.ports - 1), max_generated_lanes));
  in(o.days, "days", 1, max_generated_days);
  in(o.prices_per_day, "prices_per_day", 1, max_generated_prices_per_day);
  in(o.contracts_percent, "contracts_percent", 0, 100);
  // Dates are written and read as YYYY-MM-DD.
  const Date first{std::chrono::year{1} / 1 / 1}, last{std::chrono::year{9999} / 12 / 31};
  if (o.first_day < first || o.first_day > last ||
      o.first_day + std::chrono::days{o.days - 1} > last) {
    throw InvalidArgument(fmt::format(
        "generator option first_day {} with {} days runs outside 0001-01-01..9999-12-31",
        format_date(o.first_day), o.days));
  }
  // The factors are bounded above, so the product fits.
  const std::int64_t prices = o.lanes * o.days * o.prices_per_day;
  if (prices > max_generated_prices) {
    throw InvalidArgument(fmt::format(
        "generator options: {} lanes x {} days x {} prices a day is {} prices, more than the "
        "maximum of {}",
        o.lanes, o.days, o.prices_per_day, prices, max_generated_prices));
  }
}

// The market's mix, drawn from a stream of its own so that the prices are the same with or
// without it: equipment 40HC 40%, 40DC 20%, 20DC 25%, 45HC 5%, reefers (20RE, 40RH) 10%; terms
// 70% short, 30% long; received 0..29 days before the day for short prices, 0..179 for long
// ones (contracts are agreed ahead), and one price in ten with no dimension at all, as an
// adopted ratestask row.
void add_dimensions(std::vector<Price>& prices, std::uint64_t seed) {
  Random random(seed ^ 0xD1CE5EEDull);
  constexpr std::pair<int, const char*> equipment[] = {{40, "40HC"}, {60, "40DC"}, {85, "20DC"},
                                                       {90, "45HC"}, {95, "20RE"}, {100, "40RH"}};
  for (Price& p : prices) {
    const auto draw = random.below(100);
    if (draw < 10) continue;
    const auto pick = random.below(100);
    p.equipment = std::find_if(std::begin(equipment), std::end(equipment), [&](const auto& e) {
                    return pick < e.first;
                  })->second;
    p.term = draw < 73 ? Term::short_term : Term::long_term;
    const std::int64_t ahead = p.term == Term::short_term ? 30 : 180;
    p.received = p.day - std::chrono::days{random.below(ahead)};
  }
}

// Turns `percent` of the price rows into contracts from their day, 90..365 days long and long
// term, drawn from a stream of their own (the other rows stay as they were).
void make_contracts(Dataset& data, std::int64_t percent, std::uint64_t seed) {
  Random random(seed ^ 0xC0117AC7ull);
  std::vector<Price> kept;
  kept.reserve(data.prices.size());
  for (Price& p : data.prices) {
    if (random.below(100) >= percent) {
      kept.push_back(std::move(p));
      continue;
    }
    const Date last = p.day + std::chrono::days{90 + random.below(276) - 1};
    data.contracts.push_back({std::move(p.origin), std::move(p.destination), p.day, last, p.price,
                              std::move(p.equipment), Term::long_term, p.received});
  }
  data.prices = std::move(kept);
}

}  // namespace

Dataset generate(const GeneratorOptions& o) {
  check_options(o);
  Random random(o.seed);
  Dataset data;

  // Three levels: world area, main/sub trade zones, and local zones in some of them, so that
  // a region query has to look several levels down.
  data.regions.push_back({"world", "World", std::nullopt});
  std::vector<std::size_t> port_regions;  // regions that hold ports
  for (const Area& area : areas) {
    data.regions.push_back({area.slug, area.name, std::string("world")});
    for (const char* zone : {"main", "sub"}) {
      const std::string slug = fmt::format("{}_{}", area.slug, zone);
      data.regions.push_back({slug, fmt::format("{} {}", area.name, zone), std::string(area.slug)});
      port_regions.push_back(data.regions.size() - 1);
      for (std::int64_t local = 0, n = random.below(3); local < n; ++local) {
        data.regions.push_back({fmt::format("{}_local_{}", slug, local + 1),
                                fmt::format("{} {} local {}", area.name, zone, local + 1), slug});
        port_regions.push_back(data.regions.size() - 1);
      }
    }
  }

  std::set<std::string> codes;
  while (std::int64_t(data.ports.size()) < o.ports) {
    const std::size_t region =
        port_regions[std::size_t(random.below(std::int64_t(port_regions.size())))];
    const Area* area = nullptr;
    for (const Area& a : areas) {
      if (data.regions[region].slug.starts_with(a.slug)) area = &a;
    }
    std::string code = area->countries[std::size_t(random.below(3))];
    for (int i = 0; i < 3; ++i) code += char('A' + random.below(26));
    if (!codes.insert(code).second) continue;
    data.ports.push_back({code, place_name(random), data.regions[region].slug});
  }

  std::set<std::pair<std::int64_t, std::int64_t>> lanes;
  while (std::int64_t(lanes.size()) < o.lanes) {
    const auto from = random.below(o.ports);
    const auto to = random.below(o.ports);
    if (from != to) lanes.emplace(from, to);
  }
  data.prices.reserve(std::size_t(o.lanes * o.days * o.prices_per_day));
  for (const auto& [from, to] : lanes) {
    // Each lane has its own level and a slow drift; each price scatters about 10% around it.
    std::int64_t level = 300 + random.below(4000);
    for (std::int64_t d = 0; d < o.days; ++d) {
      level = std::max<std::int64_t>(100, level + random.below(41) - 20);
      const auto count = random.below(2 * o.prices_per_day + 1);  // mean prices_per_day
      for (std::int64_t i = 0; i < count; ++i) {
        const auto price = level + random.below(level / 5 + 1) - level / 10;
        data.prices.push_back({data.ports[std::size_t(from)].code, data.ports[std::size_t(to)].code,
                               o.first_day + std::chrono::days{d}, std::int32_t(price)});
      }
    }
  }
  if (o.dimensions) add_dimensions(data.prices, o.seed);
  if (o.contracts_percent > 0) make_contracts(data, o.contracts_percent, o.seed);
  return data;
}

}  // namespace prkl
