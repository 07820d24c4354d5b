// SPDX-License-Identifier: MIT
#pragma once

// `prkl market` and `prkl rank`: the market's band of a lane, and where a price stands in it.

#include <cstdint>
#include <string>

#include "filter.hpp"
#include "output.hpp"

namespace prkl_cli {

struct MarketOptions {
  std::string from, to, origin, destination;
  std::string bucket = "day", currency = "USD";
  std::int64_t min_count = 3;
  int scale = 0;
  bool fallback = false;
  std::string price;  // rank's
  FilterOptions filter;
};

// The band as `format`: JSON is market_json()'s document; the flat formats are one record per
// day, and a fallback that stepped up says where on stderr.
std::string run_market(const std::string& db_url, Format format, const MarketOptions& o);

// One record per day: day, count, percent_rank, cume_dist.
std::string run_rank(const std::string& db_url, Format format, const MarketOptions& o);

}  // namespace prkl_cli
