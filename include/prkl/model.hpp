#pragma once

/// \file
/// The values prkl reads and writes.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "prkl/date.hpp"
#include "prkl/decimal.hpp"

namespace prkl {

/// A port: a 5-character code (UN/LOCODE style), a name, and the region it sits in.
struct Port {
  std::string code;
  std::string name;
  std::string region_slug;

  friend bool operator==(const Port&, const Port&) = default;
};

/// A region; regions form a tree of any depth and may hold ports and other regions.
struct Region {
  std::string slug;
  std::string name;
  std::optional<std::string> parent_slug;

  friend bool operator==(const Region&, const Region&) = default;
};

/// A region with its sub-regions and the ports directly in it, for tree views.
struct RegionNode {
  Region region;
  std::vector<RegionNode> children;
  std::vector<std::string> port_codes;
};

/// One observed price on one lane and day, in whole US dollars.
struct Price {
  std::string origin;
  std::string destination;
  Date day;
  std::int32_t price = 0;

  friend bool operator==(const Price&, const Price&) = default;
};

/// Count, integer sum, min and max of the prices of one day (one slot of a rates answer).
struct DailyAggregate {
  Date day;
  std::int64_t count = 0;
  std::int64_t sum = 0;
  std::int32_t min = 0;
  std::int32_t max = 0;

  friend bool operator==(const DailyAggregate&, const DailyAggregate&) = default;
};

/// A rates question: every day from `date_from` to `date_to` inclusive, prices from any port of
/// `origin` to any port of `destination` (each a port code or a region slug, regions recursive).
struct RatesQuery {
  Date date_from;
  Date date_to;
  std::string origin;
  std::string destination;
  /// Days with fewer prices than this get a null average.
  std::int64_t min_count = 3;
  /// Fraction digits of the average; 0 gives whole dollars.
  int scale = 0;
};

/// The answer for one calendar day.
struct RateDay {
  Date day;
  std::int64_t count = 0;
  /// Null when count < min_count.
  std::optional<Decimal> average;
  /// Null when count == 0.
  std::optional<std::int32_t> min;
  std::optional<std::int32_t> max;

  friend bool operator==(const RateDay&, const RateDay&) = default;
};

/// A complete data set as a dump holds it. `source_line` vectors, when not empty, give the file
/// line each row came from, so errors can point at it.
struct Dataset {
  std::vector<Region> regions;
  std::vector<Port> ports;
  std::vector<Price> prices;
  std::vector<std::int64_t> region_lines;
  std::vector<std::int64_t> port_lines;
  std::vector<std::int64_t> price_lines;
};

}  // namespace prkl
