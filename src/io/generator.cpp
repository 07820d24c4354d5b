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
void add_dimensions(Price& p, Random& random) {
  constexpr std::pair<int, const char*> equipment[] = {{40, "40HC"}, {60, "40DC"}, {85, "20DC"},
                                                       {90, "45HC"}, {95, "20RE"}, {100, "40RH"}};
  const auto draw = random.below(100);
  if (draw < 10) return;
  const auto pick = random.below(100);
  p.equipment = std::find_if(std::begin(equipment), std::end(equipment), [&](const auto& e) {
                  return pick < e.first;
                })->second;
  p.term = draw < 73 ? Term::short_term : Term::long_term;
  const std::int64_t ahead = p.term == Term::short_term ? 30 : 180;
  p.received = p.day - std::chrono::days{random.below(ahead)};
}

// Three levels: world area, main/sub trade zones, and local zones in some of them, so that a
// region query has to look several levels down. Returns the regions that hold ports.
std::vector<std::size_t> make_regions(std::vector<Region>& regions, Random& random) {
  regions.push_back({"world", "World", std::nullopt});
  std::vector<std::size_t> port_regions;
  for (const Area& area : areas) {
    regions.push_back({area.slug, area.name, std::string("world")});
    for (const char* zone : {"main", "sub"}) {
      const std::string slug = fmt::format("{}_{}", area.slug, zone);
      regions.push_back({slug, fmt::format("{} {}", area.name, zone), std::string(area.slug)});
      port_regions.push_back(regions.size() - 1);
      for (std::int64_t local = 0, n = random.below(3); local < n; ++local) {
        regions.push_back({fmt::format("{}_local_{}", slug, local + 1),
                           fmt::format("{} {} local {}", area.name, zone, local + 1), slug});
        port_regions.push_back(regions.size() - 1);
      }
    }
  }
  return port_regions;
}

std::vector<Port> make_ports(const std::vector<Region>& regions,
                             const std::vector<std::size_t>& port_regions, std::int64_t count,
                             Random& random) {
  std::vector<Port> ports;
  std::set<std::string> codes;
  while (std::int64_t(ports.size()) < count) {
    const std::size_t region =
        port_regions[std::size_t(random.below(std::int64_t(port_regions.size())))];
    const Area* area = nullptr;
    for (const Area& a : areas) {
      if (regions[region].slug.starts_with(a.slug)) area = &a;
    }
    std::string code = area->countries[std::size_t(random.below(3))];
    for (int i = 0; i < 3; ++i) code += char('A' + random.below(26));
    if (!codes.insert(code).second) continue;
    ports.push_back({code, place_name(random), regions[region].slug});
  }
  return ports;
}

// The first `count` distinct lanes drawn (origin and destination port indexes, origin in the
// high half), in order. Drawn in rounds of as many as are still missing, which consumes the
// same draws as adding one at a time to a set until it is full, in 8 bytes a lane.
std::vector<std::uint64_t> make_lanes(std::int64_t ports, std::int64_t count, Random& random) {
  std::vector<std::uint64_t> lanes, drawn, merged;
  while (std::int64_t(lanes.size()) < count) {
    drawn.clear();
    while (std::int64_t(drawn.size()) < count - std::int64_t(lanes.size())) {
      const auto from = random.below(ports);
      const auto to = random.below(ports);
      if (from != to) drawn.push_back(std::uint64_t(from) << 32 | std::uint64_t(to));
    }
    std::sort(drawn.begin(), drawn.end());
    merged.clear();
    std::set_union(lanes.begin(), lanes.end(), drawn.begin(), drawn.end(),
                   std::back_inserter(merged));
    merged.erase(std::unique(merged.begin(), merged.end()), merged.end());
    lanes.swap(merged);
  }
  return lanes;
}

}  // namespace

// Where the price rows stand: the lane, its day, the day's row, and the lane's drifting level.
struct Generator::State {
  GeneratorOptions options;
  Random random;
  Random dimensions;  // the market's mix, a stream of its own
  Random contracts;   // which rows become contracts, likewise
  std::vector<Region> regions;
  std::vector<Port> ports;
  std::vector<std::uint64_t> lanes;
  std::size_t lane = 0;
  std::int64_t day = -1;  // days begun on the lane; -1: its level is not drawn yet
  std::int64_t row = 0, rows = 0, level = 0;

  explicit State(const GeneratorOptions& o)
      : options(o),
        random(o.seed),
        dimensions(o.seed ^ 0xD1CE5EEDull),
        contracts(o.seed ^ 0xC0117AC7ull) {}

  // The next price row, as generate() has always drawn them; false after the last.
  bool draw(Price& price) {
    const GeneratorOptions& o = options;
    for (;;) {
      if (lane == lanes.size()) return false;
      if (day < 0) {
        // Each lane has its own level and a slow drift; each price scatters about 10% around it.
        level = 300 + random.below(4000);
        day = 0;
        row = rows = 0;
      }
      if (row == rows) {  // the day is done, or the lane's first is to begin
        if (day == o.days) {
          ++lane;
          day = -1;
          continue;
        }
        level = std::max<std::int64_t>(100, level + random.below(41) - 20);
        rows = random.below(2 * o.prices_per_day + 1);  // mean prices_per_day
        row = 0;
        ++day;
        continue;
      }
      ++row;
      const auto value = level + random.below(level / 5 + 1) - level / 10;
      price = {ports[lanes[lane] >> 32].code, ports[lanes[lane] & 0xFFFFFFFF].code,
               o.first_day + std::chrono::days{day - 1}, std::int32_t(value)};
      return true;
    }
  }
};

Generator::Generator(const GeneratorOptions& o) : state_(std::make_unique<State>(o)) {
  check_options(o);
  State& s = *state_;
  const auto port_regions = make_regions(s.regions, s.random);
  s.ports = make_ports(s.regions, port_regions, o.ports, s.random);
  s.lanes = make_lanes(o.ports, o.lanes, s.random);
}

Generator::~Generator() = default;

const std::vector<Region>& Generator::regions() const noexcept {
  return state_->regions;
}

const std::vector<Port>& Generator::ports() const noexcept {
  return state_->ports;
}

bool Generator::next(std::vector<Price>& prices, std::vector<Contract>& contracts,
                     std::size_t max_rows) {
  State& s = *state_;
  prices.clear();
  contracts.clear();
  Price p;
  for (std::size_t n = 0; n < max_rows && s.draw(p); ++n) {
    if (s.options.dimensions) add_dimensions(p, s.dimensions);
    // Of the rows, contracts_percent become contracts from their day, 90..365 days long and
    // long term.
    if (s.options.contracts_percent > 0 && s.contracts.below(100) < s.options.contracts_percent) {
      const Date last = p.day + std::chrono::days{90 + s.contracts.below(276) - 1};
      contracts.push_back({std::move(p.origin), std::move(p.destination), p.day, last, p.price,
                           std::move(p.equipment), Term::long_term, p.received});
    } else {
      prices.push_back(std::move(p));
    }
  }
  return !prices.empty() || !contracts.empty();
}

Dataset generate(const GeneratorOptions& o) {
  Generator generator(o);
  Dataset data;
  data.regions = generator.regions();
  data.ports = generator.ports();
  std::vector<Price> prices;
  std::vector<Contract> contracts;
  while (generator.next(prices, contracts, 1 << 16)) {
    data.prices.insert(data.prices.end(), std::make_move_iterator(prices.begin()),
                       std::make_move_iterator(prices.end()));
    data.contracts.insert(data.contracts.end(), std::make_move_iterator(contracts.begin()),
                          std::make_move_iterator(contracts.end()));
  }
  return data;
}

}  // namespace prkl
