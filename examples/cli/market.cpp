// SPDX-License-Identifier: MIT
// `prkl market` and `prkl rank`: asking the library, and the answers as records or JSON.
#include "market.hpp"

#include <fmt/format.h>

#include <prkl/prkl.hpp>

namespace prkl_cli {

namespace {

prkl::FieldValue value(const std::optional<prkl::Decimal>& v) {
  return v ? prkl::FieldValue(*v) : prkl::FieldValue();
}

}  // namespace

std::string run_market(const std::string& db_url, Format format, const MarketOptions& o) {
  auto db = prkl::Database::open(db_url);
  const prkl::MarketAnswer answer =
      db.market({prkl::parse_date(o.from, "--from"), prkl::parse_date(o.to, "--to"), o.origin,
                 o.destination, o.min_count, o.scale, prkl::parse_bucket(o.bucket), o.currency,
                 o.fallback, o.filter.filter()});
  if (format == Format::json) return prkl::market_json(answer) + "\n";
  if (answer.steps > 0) {
    fmt::print(stderr, "prkl: {} -> {} is thin; answered for {} -> {}, {} level{} up\n",
               answer.asked.origin, answer.asked.destination, answer.answered.origin,
               answer.answered.destination, answer.steps, answer.steps == 1 ? "" : "s");
  }
  std::vector<Record> records;
  for (const prkl::MarketDay& d : answer.days) {
    records.push_back({{"day", prkl::format_date(d.day)},
                       {"count", d.count},
                       {"low", value(d.low)},
                       {"midlow", value(d.midlow)},
                       {"median", value(d.median)},
                       {"mean", value(d.mean)},
                       {"midhigh", value(d.midhigh)},
                       {"high", value(d.high)}});
  }
  return render(records, {"day", "count", "low", "midlow", "median", "mean", "midhigh", "high"},
                format);
}

std::string run_rank(const std::string& db_url, Format format, const MarketOptions& o) {
  auto db = prkl::Database::open(db_url);
  prkl::Decimal price;
  try {
    price = prkl::parse_decimal(o.price);
  } catch (const prkl::InvalidArgument& e) {
    throw prkl::InvalidArgument(fmt::format("--price: {}", e.what()));
  }
  const auto days = db.rank({prkl::parse_date(o.from, "--from"), prkl::parse_date(o.to, "--to"),
                             o.origin, o.destination, price, o.currency, o.min_count,
                             prkl::parse_bucket(o.bucket), o.filter.filter()});
  if (format == Format::json) return prkl::rank_json(days) + "\n";
  std::vector<Record> records;
  for (const prkl::RankDay& d : days) {
    records.push_back({{"day", prkl::format_date(d.day)},
                       {"count", d.count},
                       {"percent_rank", value(d.percent_rank)},
                       {"cume_dist", value(d.cume_dist)}});
  }
  return render(records, {"day", "count", "percent_rank", "cume_dist"}, format);
}

}  // namespace prkl_cli
