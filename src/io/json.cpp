// SPDX-License-Identifier: MIT
// Values as their fields and as JSON text, shared by the CLI, the Python binding and the web apps.
#include "prkl/json.hpp"

#include <fmt/format.h>

#include <iterator>
#include <utility>

#include "prkl/error.hpp"
#include "prkl/exchange.hpp"
#include "prkl/market.hpp"

namespace prkl {

RateField rate_field(std::string_view name) {
  if (name == "day") return RateField::day;
  if (name == "count") return RateField::count;
  if (name == "average_price") return RateField::average_price;
  if (name == "min") return RateField::min;
  if (name == "max") return RateField::max;
  if (name == "percentiles") return RateField::percentiles;
  throw InvalidArgument(fmt::format(
      "unknown rates field {} (expected day, count, average_price, min, max or percentiles)",
      quoted_value(name)));
}

namespace {

// Codes and slugs are plain text, but nothing stops a slug or a name from holding a quote or a
// control character.
void append_string(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", int(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

}  // namespace

std::vector<Field> fields(const RateDay& day) {
  const auto decimal = [](const std::optional<Decimal>& v) -> FieldValue {
    if (v) return *v;
    return std::monostate{};
  };
  const auto whole = [](const std::optional<std::int64_t>& v) -> FieldValue {
    if (v) return *v;
    return std::monostate{};
  };
  std::vector<Field> out{{"day", format_date(day.day)},
                         {"average_price", decimal(day.average)},
                         {"count", day.count},
                         {"min", whole(day.min)},
                         {"max", whole(day.max)}};
  for (const Percentile& p : day.percentiles) {
    out.push_back({fmt::format("p{}", p.percent), decimal(p.value)});
  }
  return out;
}

std::vector<Field> fields(const Port& port) {
  return {{"code", port.code}, {"name", port.name}, {"region", port.region_slug}};
}

std::vector<Field> fields(const Region& region) {
  FieldValue parent = std::monostate{};
  if (region.parent_slug) parent = *region.parent_slug;
  return {{"slug", region.slug}, {"name", region.name}, {"parent", std::move(parent)}};
}

std::vector<Field> fields(const RowError& error) {
  return {{"row", error.row}, {"field", error.field}, {"message", error.message}};
}

std::vector<Field> fields(const ExchangeRate& rate) {
  return {{"currency", rate.currency},
          {"day", format_date(rate.day)},
          {"rate", format_rate(rate.units)}};
}

std::vector<Field> fields(const BatchResult& result) {
  return {{"batch_id", result.batch_id},
          {"rows", result.rows},
          {"prices", result.prices},
          {"applied_at", result.applied_at},
          {"replayed", result.replayed}};
}

void append_json(std::string& out, const FieldValue& value) {
  struct Writer {
    std::string& out;
    void operator()(std::monostate) const { out += "null"; }
    void operator()(std::int64_t v) const { fmt::format_to(std::back_inserter(out), "{}", v); }
    void operator()(const Decimal& v) const { out += v.to_string(); }
    void operator()(const std::string& v) const { append_string(out, v); }
    void operator()(bool v) const { out += v ? "true" : "false"; }
  };
  std::visit(Writer{out}, value);
}

void append_json(std::string& out, std::span<const Field> fields) {
  out += '{';
  for (const Field& field : fields) {
    if (out.back() != '{') out += ", ";
    append_string(out, field.name);
    out += ": ";
    append_json(out, field.value);
  }
  out += '}';
}

namespace {

void append_day(std::string& out, const RateDay& d, std::span<const RateField> fields) {
  auto it = std::back_inserter(out);
  out += '{';
  for (const RateField field : fields) {
    // `percentiles` stands for as many keys as were asked, none included.
    if (field == RateField::percentiles && d.percentiles.empty()) continue;
    if (out.back() != '{') out += ',';
    switch (field) {
      case RateField::day:
        fmt::format_to(it, "\"day\":\"{}\"", format_date(d.day));
        break;
      case RateField::count:
        fmt::format_to(it, "\"count\":{}", d.count);
        break;
      case RateField::average_price:
        out += "\"average_price\":";
        out += d.average ? d.average->to_string() : "null";
        break;
      case RateField::min:
      case RateField::max: {
        const auto& value = field == RateField::min ? d.min : d.max;
        out += field == RateField::min ? "\"min\":" : "\"max\":";
        if (value) {
          fmt::format_to(it, "{}", *value);
        } else {
          out += "null";
        }
        break;
      }
      case RateField::percentiles:
        for (std::size_t i = 0; i < d.percentiles.size(); ++i) {
          const Percentile& p = d.percentiles[i];
          fmt::format_to(it, "{}\"p{}\":{}", i > 0 ? "," : "", p.percent,
                         p.value ? p.value->to_string() : "null");
        }
        break;
    }
  }
  out += '}';
}

}  // namespace

std::string rates_json(std::span<const RateDay> days, std::span<const RateField> fields,
                       bool newest_first) {
  std::string out;
  out.reserve(days.size() * 20 * (fields.size() + 1) + 2);
  out += '[';
  for (std::size_t i = 0; i < days.size(); ++i) {
    if (i > 0) out += ',';
    append_day(out, days[newest_first ? days.size() - 1 - i : i], fields);
  }
  out += ']';
  return out;
}

std::string rates_matrix_json(std::span<const LaneRates> lanes, std::span<const RateField> fields) {
  std::string out = "{\"lanes\":[";
  for (std::size_t i = 0; i < lanes.size(); ++i) {
    if (i > 0) out += ',';
    out += "{\"origin\":";
    append_string(out, lanes[i].origin);
    out += ",\"destination\":";
    append_string(out, lanes[i].destination);
    out += ",\"rates\":";
    out += rates_json(lanes[i].days, fields);
    out += '}';
  }
  out += "]}";
  return out;
}

namespace {

void append_decimal_text(std::string& out, const std::optional<Decimal>& value) {
  if (value) {
    out += '"';
    out += value->to_string();
    out += '"';
  } else {
    out += "null";
  }
}

void append_lane(std::string& out, const MarketLane& lane) {
  out += "\"origin\":";
  append_string(out, lane.origin);
  out += ",\"destination\":";
  append_string(out, lane.destination);
}

}  // namespace

std::string market_json(const MarketAnswer& answer) {
  std::string out = "{\"asked\":{";
  append_lane(out, answer.asked);
  out += "},\"answered\":{";
  append_lane(out, answer.answered);
  fmt::format_to(std::back_inserter(out), ",\"steps\":{}}},\"days\":[", answer.steps);
  for (std::size_t i = 0; i < answer.days.size(); ++i) {
    const MarketDay& d = answer.days[i];
    fmt::format_to(std::back_inserter(out), "{}{{\"day\":\"{}\",\"count\":{}", i ? "," : "",
                   format_date(d.day), d.count);
    for (const auto& [name, value] :
         {std::pair{"low", &d.low}, std::pair{"midlow", &d.midlow}, std::pair{"median", &d.median},
          std::pair{"mean", &d.mean}, std::pair{"midhigh", &d.midhigh},
          std::pair{"high", &d.high}}) {
      fmt::format_to(std::back_inserter(out), ",\"{}\":", name);
      append_decimal_text(out, *value);
    }
    out += '}';
  }
  return out + "]}";
}

std::string rank_json(const std::vector<RankDay>& days) {
  std::string out = "[";
  for (std::size_t i = 0; i < days.size(); ++i) {
    const RankDay& d = days[i];
    fmt::format_to(std::back_inserter(out),
                   "{}{{\"day\":\"{}\",\"count\":{},\"percent_rank\":", i ? "," : "",
                   format_date(d.day), d.count);
    append_decimal_text(out, d.percent_rank);
    out += ",\"cume_dist\":";
    append_decimal_text(out, d.cume_dist);
    out += '}';
  }
  return out + "]";
}

}  // namespace prkl
