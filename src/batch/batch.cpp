// SPDX-License-Identifier: MIT
// A batch's rows: building them, checking each against the geography and the options, and
// expanding them into the prices a batch writes, converted to USD.
#include "batch/batch.hpp"

#include "fx/rate_table.hpp"
#include "prkl/exchange.hpp"
#include "util/exact.hpp"
#include "util/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <optional>

namespace prkl {

BatchRow BatchRow::single(std::string origin, std::string destination, Date day,
                          std::int64_t price) {
  return {std::move(origin),
          std::move(destination),
          format_date(day),
          {},
          {},
          std::to_string(price),
          0};
}

BatchRow BatchRow::range(std::string origin, std::string destination, Date date_from, Date date_to,
                         std::int64_t price) {
  return {std::move(origin),    std::move(destination), {}, format_date(date_from),
          format_date(date_to), std::to_string(price),  0};
}

namespace detail {

namespace {

void check_port(const std::string& code, const char* field, std::int64_t row,
                const Geography& geography, std::vector<RowError>& errors) {
  if (code.empty()) {
    errors.push_back({row, field, fmt::format("{} is missing", field)});
  } else if (!geography.find_port(code)) {
    errors.push_back(
        {row, field,
         geography.find_region(code)
             ? fmt::format("{} is a region; a price needs a port code", quoted_value(code))
             : fmt::format("unknown port {}", quoted_value(code))});
  }
}

std::optional<Date> check_date(const std::string& text, const char* field, std::int64_t row,
                               std::vector<RowError>& errors) {
  if (text.empty()) {
    errors.push_back({row, field, fmt::format("{} is missing", field)});
    return std::nullopt;
  }
  try {
    return parse_date(text, field);
  } catch (const InvalidArgument& e) {
    errors.push_back({row, field, e.what()});
    return std::nullopt;
  }
}

// A price in another currency is held to the maximum once converted, by the caller.
void check_price(const std::string& text, std::int64_t row, const Options& options,
                 bool in_base_currency, std::vector<RowError>& errors) {
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [stop, ec] = std::from_chars(text.data(), end, value);
  if (text.empty()) {
    errors.push_back({row, "price", "price is missing"});
  } else if (ec == std::errc::result_out_of_range) {
    errors.push_back({row, "price", fmt::format("price {} is out of range", quoted_value(text))});
  } else if (ec != std::errc{} || stop != end) {
    errors.push_back({row, "price",
                      fmt::format("price {} is not a whole number of {}", quoted_value(text),
                                  in_base_currency ? "dollars" : "units of its currency")});
  } else if (value <= 0) {
    errors.push_back({row, "price", fmt::format("price {} is not positive", value)});
  } else if (!in_base_currency) {
    return;
  } else if (auto problem = price_problem(value, options)) {
    errors.push_back({row, "price", std::move(*problem)});
  }
}

}  // namespace

std::optional<std::string> price_problem(std::int64_t dollars, const Options& options) {
  if (dollars <= 0) return fmt::format("price {} is not positive", dollars);
  const std::int64_t most =
      std::min<std::int64_t>(options.max_price, std::numeric_limits<std::int32_t>::max());
  if (dollars > most) return fmt::format("price {} is above the maximum of {}", dollars, most);
  return std::nullopt;
}

namespace {

// The problems of a row's optional dimensions: an equipment code the store does not know
// (`known`, sorted), a term other than short or long, a received day that is not a date.
void check_dimensions(const BatchRow& r, std::int64_t row, std::span<const std::string> known,
                      std::vector<RowError>& errors) {
  if (!r.equipment.empty() && !std::binary_search(known.begin(), known.end(), r.equipment)) {
    errors.push_back({row, "equipment",
                      fmt::format("unknown equipment code {} (add it to the store first)",
                                  quoted_value(r.equipment))});
  }
  if (!r.term.empty() && r.term != "short" && r.term != "long") {
    errors.push_back(
        {row, "term",
         fmt::format("unknown term {} (expected short or long)", quoted_value(r.term))});
  }
  if (!r.received.empty()) check_date(r.received, "received", row, errors);
}

// What a row's days count for: day prices (`expanded`) or contracts.
// The problems of a row's days: one `day`, a `date_from`..`date_to` range (one price per day),
// or a contract's `valid_from`..`valid_to` (one row, at most max_contract_days).
void check_days(const BatchRow& r, std::int64_t row, const Options& options,
                std::vector<RowError>& errors, RowCounts& counts) {
  const bool day = !r.day.empty(), range = !r.date_from.empty() || !r.date_to.empty(),
             contract = !r.valid_from.empty() || !r.valid_to.empty();
  if (int(day) + int(range) + int(contract) > 1) {
    errors.push_back(
        {row, "day", "give one of day, date_from and date_to, or valid_from and valid_to"});
    return;
  }
  if (day) {
    ++counts.expanded;
    check_date(r.day, "day", row, errors);
    return;
  }
  if (!range && !contract) {
    errors.push_back(
        {row, "day", "day is missing (or give date_from and date_to, or valid_from and valid_to)"});
    return;
  }
  const char* first_name = contract ? "valid_from" : "date_from";
  const char* last_name = contract ? "valid_to" : "date_to";
  const std::string& first_text = contract ? r.valid_from : r.date_from;
  const std::string& last_text = contract ? r.valid_to : r.date_to;
  const auto from = check_date(first_text, first_name, row, errors);
  const auto to = check_date(last_text, last_name, row, errors);
  if (!from || !to) return;
  const std::int64_t most = contract ? max_contract_days : options.max_range_days;
  if (*from > *to) {
    errors.push_back({row, last_name,
                      fmt::format("reversed range: {} {} is before {} {}", last_name, last_text,
                                  first_name, first_text)});
  } else if ((*to - *from).count() + 1 > most) {
    errors.push_back({row, last_name,
                      fmt::format("{} {}..{} is longer than {} days",
                                  contract ? "validity" : "range", first_text, last_text, most)});
  } else if (contract) {
    ++counts.contracts;
  } else {
    counts.expanded += (*to - *from).count() + 1;
  }
}

// Every problem of one row; counts what it becomes in `counts`.
void check_row(const BatchRow& r, std::int64_t row, const Geography& geography,
               std::span<const std::string> equipment, const Options& options,
               std::vector<RowError>& errors, RowCounts& counts) {
  static constexpr std::pair<std::string BatchRow::*, const char*> text_fields[] = {
      {&BatchRow::origin, "origin"},
      {&BatchRow::destination, "destination"},
      {&BatchRow::day, "day"},
      {&BatchRow::date_from, "date_from"},
      {&BatchRow::date_to, "date_to"},
      {&BatchRow::price, "price"},
      {&BatchRow::currency, "currency"},
      {&BatchRow::equipment, "equipment"},
      {&BatchRow::term, "term"},
      {&BatchRow::received, "received"},
      {&BatchRow::valid_from, "valid_from"},
      {&BatchRow::valid_to, "valid_to"}};
  // Text that is not clean is all that is said of its row: every other check would only
  // echo it again.
  bool clean = true;
  for (const auto& [member, field] : text_fields) {
    if (auto error = text_error(field, r.*member)) {
      errors.push_back({row, field, std::move(*error)});
      clean = false;
    }
  }
  if (!clean) return;
  check_port(r.origin, "origin", row, geography, errors);
  check_port(r.destination, "destination", row, geography, errors);
  check_days(r, row, options, errors, counts);
  const bool in_base_currency = r.currency.empty() || r.currency == base_currency;
  if (!in_base_currency && !is_currency_code(r.currency)) {
    errors.push_back({row, "currency",
                      fmt::format("currency {} is not an ISO 4217 code (three capital letters)",
                                  quoted_value(r.currency))});
  }
  check_price(r.price, row, options, in_base_currency, errors);
  check_dimensions(r, row, equipment, errors);
}

}  // namespace

void validate_rows(std::span<const BatchRow> rows, std::size_t first, const Geography& geography,
                   std::span<const std::string> equipment, const Options& options,
                   std::vector<RowError>& errors, std::vector<bool>& unlisted, RowCounts& counts) {
  std::vector<RowError> past_the_list;  // a row's errors once the list is full: noted, not kept
  unlisted.resize(first + rows.size(), false);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const bool listed = errors.size() < max_listed_row_errors;
    past_the_list.clear();
    check_row(rows[i], std::int64_t(first + i) + 1, geography, equipment, options,
              listed ? errors : past_the_list, counts);
    if (!past_the_list.empty()) unlisted[first + i] = true;
  }
}

bool check_counts(const RowCounts& counts, const Options& options, std::vector<RowError>& errors) {
  const bool prices = counts.expanded <= options.max_batch_prices;
  const bool contracts = counts.contracts <= options.max_batch_contracts;
  if (!prices) {
    errors.push_back({0, "batch",
                      fmt::format("the batch's rows expand to {} prices, more than the maximum of "
                                  "{} (Options::max_batch_prices); split it",
                                  counts.expanded, options.max_batch_prices)});
  }
  if (!contracts) {
    errors.push_back({0, "batch",
                      fmt::format("the batch holds {} contracts, more than the maximum of {} "
                                  "(Options::max_batch_contracts); split it",
                                  counts.contracts, options.max_batch_contracts)});
  }
  return prices && contracts;
}

namespace {

// The days whose exchange rates convert a row's price: a day's own, each day of a range, a
// contract's first. Throws InvalidArgument for a date that is not one.
std::pair<Date, Date> rate_days(const BatchRow& r) {
  if (!r.valid_from.empty() || !r.day.empty()) {
    const Date day = parse_date(r.day.empty() ? r.valid_from : r.day);
    return {day, day};
  }
  return {parse_date(r.date_from), parse_date(r.date_to)};
}

// A row's dimensions in the digest. Rows without them keep the digest they always had: a
// retry of a batch applied by an earlier version is still recognised.
std::string digest_dimensions(const BatchRow& r) {
  if (r.equipment.empty() && r.term.empty() && r.received.empty()) return {};
  return fmt::format("\t{}\t{}\t{}", r.equipment, r.term, r.received);
}

}  // namespace

void Expander::mix(std::string_view text) {
  for (const unsigned char c : text) {
    digest_ ^= c;
    digest_ *= 1099511628211ull;
  }
}

void Expander::add(std::span<const BatchRow> rows, const RateTable& rates) {
  ExpandedBatch& out = out_;
  std::vector<const ExchangeRate*> used;  // the chunk's rates live as long as its table
  for (const BatchRow& r : rows) {
    const std::int64_t amount = std::stoll(r.price);
    const bool in_base_currency = r.currency.empty() || r.currency == base_currency;
    // A price in another currency is named in the digest by its amount and currency, not by
    // the dollars it became: a retry after new rates arrived is the same batch.
    const std::string amount_text =
        in_base_currency ? std::string() : fmt::format("{} {}", amount, r.currency);
    const ExchangeRate* last_rate = nullptr;
    std::int32_t converted = 0;
    const auto [from, to] = rate_days(r);
    const std::optional<Term> term =
        r.term.empty() ? std::nullopt : std::optional<Term>(parse_term(r.term));
    const std::optional<Date> received =
        r.received.empty() ? std::nullopt : std::optional<Date>(parse_date(r.received));
    const std::string dimensions = digest_dimensions(r);
    if (!r.valid_from.empty()) {
      // One row, converted at its first day's rate, named in the digest by its validity.
      const ExchangeRate* rate = in_base_currency ? nullptr : rates.find(r.currency, from);
      if (rate) used.push_back(rate);
      const auto price = std::int32_t(rate ? to_base_currency(amount, rate->units) : amount);
      const Date last = parse_date(r.valid_to);
      out.contracts.push_back(
          {r.origin, r.destination, from, last, price, r.equipment, term, received});
      mix(fmt::format("contract\t{}\t{}\t{}\t{}\t{}{}\n", r.origin, r.destination,
                      from.time_since_epoch().count(), last.time_since_epoch().count(),
                      in_base_currency ? std::to_string(price) : amount_text, dimensions));
      continue;
    }
    for (Date d = from; d <= to; d += std::chrono::days{1}) {
      std::int32_t price = std::int32_t(amount);
      if (!in_base_currency) {
        // check_currencies() found a rate for every day and kept the result in range.
        const ExchangeRate* rate = rates.find(r.currency, d);
        if (rate != last_rate) {
          last_rate = rate;
          converted = std::int32_t(to_base_currency(amount, rate->units));
          used.push_back(rate);
        }
        price = converted;
      }
      out.prices.push_back({r.origin, r.destination, d, price, r.equipment, term, received});
      mix(r.origin);
      mix("\t");
      mix(r.destination);
      mix(fmt::format("\t{}\t{}{}\n", d.time_since_epoch().count(),
                      in_base_currency ? std::to_string(price) : amount_text, dimensions));
    }
  }
  std::sort(used.begin(), used.end());
  used.erase(std::unique(used.begin(), used.end()), used.end());
  for (const ExchangeRate* rate : used) out.rates_used.push_back(*rate);
}

ExpandedBatch Expander::finish() && {
  out_.digest = fmt::format("{:016x}", digest_);
  auto& rates = out_.rates_used;
  std::sort(rates.begin(), rates.end(), [](const ExchangeRate& a, const ExchangeRate& b) {
    return std::tie(a.currency, a.day) < std::tie(b.currency, b.day);
  });
  rates.erase(std::unique(rates.begin(), rates.end(),
                          [](const ExchangeRate& a, const ExchangeRate& b) {
                            return a.currency == b.currency && a.day == b.day;
                          }),
              rates.end());
  return std::move(out_);
}

void check_currencies(std::span<const BatchRow> rows, std::size_t first, const RateTable& rates,
                      std::span<const std::string> known, const Options& options,
                      std::vector<RowError>& listed, std::vector<bool>& unlisted) {
  const std::int64_t most =
      std::min<std::int64_t>(options.max_price, std::numeric_limits<std::int32_t>::max());
  std::vector<RowError> past_the_list;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const bool listing = listed.size() < max_listed_row_errors;
    past_the_list.clear();
    std::vector<RowError>& errors = listing ? listed : past_the_list;
    // Noted however the row's checks end.
    struct Note {
      std::vector<RowError>& errors;
      std::vector<bool>& unlisted;
      std::size_t row;
      ~Note() {
        if (!errors.empty()) unlisted[row] = true;
      }
    } note{past_the_list, unlisted, first + i};
    const BatchRow& r = rows[i];
    const auto row = std::int64_t(first + i) + 1;
    if (r.currency.empty() || r.currency == base_currency || !is_currency_code(r.currency)) {
      continue;
    }
    if (!std::binary_search(known.begin(), known.end(), r.currency)) {
      errors.push_back({row, "currency",
                        fmt::format("unknown currency {}: no exchange rate was ever loaded for "
                                    "it (prkl fx import)",
                                    quoted_value(r.currency))});
      continue;
    }
    std::int64_t amount = 0;
    const auto [stop, ec] =
        std::from_chars(r.price.data(), r.price.data() + r.price.size(), amount);
    if (ec != std::errc{} || stop != r.price.data() + r.price.size() || amount <= 0) continue;
    std::optional<Date> from, to;
    try {
      std::tie(from, to) = rate_days(r);
    } catch (const InvalidArgument&) {
      continue;  // reported with the day
    }
    if (*from > *to || (*to - *from).count() + 1 > options.max_range_days) continue;
    const ExchangeRate* checked = nullptr;
    for (Date d = *from; d <= *to; d += std::chrono::days{1}) {
      const ExchangeRate* rate = rates.find(r.currency, d);
      if (!rate) {
        errors.push_back({row, "currency",
                          fmt::format("no {} exchange rate for {} or the {} days before it",
                                      r.currency, format_date(d), options.max_rate_age_days)});
        break;
      }
      if (rate == checked) continue;  // a range's days mostly share a rate
      checked = rate;
      std::int64_t usd = 0;
      try {
        usd = to_base_currency(amount, rate->units);
      } catch (const InvalidArgument&) {
        errors.push_back({row, "price",
                          fmt::format("price {} {} on {} is too large once converted to USD at {} "
                                      "{} per USD",
                                      r.price, r.currency, format_date(d), format_rate(rate->units),
                                      r.currency)});
        break;
      }
      if (usd <= 0 || usd > most) {
        errors.push_back(
            {row, "price",
             fmt::format(
                 "price {} {} on {} is {} USD at {} {} per USD, {}", r.price, r.currency,
                 format_date(d), usd, format_rate(rate->units), r.currency,
                 usd <= 0 ? "not positive" : fmt::format("above the maximum of {}", most))});
        break;
      }
    }
  }
}

void check_batch_id(const std::string& id) {
  if (auto error = text_error("batch id", id)) {
    throw InvalidArgument(*error + "; an id must be 1 to 200 bytes of printable UTF-8");
  }
  if (id.empty() || id.size() > 200) {
    throw InvalidArgument(
        fmt::format("batch id {} must be 1 to 200 bytes of printable UTF-8", quoted_value(id)));
  }
}

}  // namespace detail
}  // namespace prkl
