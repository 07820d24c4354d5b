// SPDX-License-Identifier: MIT
// Checking a data set (a dump's, the generator's) as it streams into a store.
#include "io/dataset.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>
#include <utility>

#include "batch/batch.hpp"
#include "geography/geography.hpp"
#include "prkl/error.hpp"
#include "prkl/generator.hpp"
#include "util/text.hpp"

namespace prkl::detail {

namespace {

// Prices handed to the loader at a time: large enough that a statement's or a COPY's start is
// noise, small enough to be nothing beside a store's cache.
constexpr std::size_t chunk_prices = 16'384;
// Contracts in smaller chunks: each counts on up to a year of days, and the store sums a
// chunk's days per lane before it writes them.
constexpr std::size_t chunk_contracts = 1'024;
constexpr std::size_t max_errors = 1000;
// What the held rows' text may take: far beyond any real geography (the world's ports take about
// 1 MB), and a bound on a load's memory whatever the text in the data.
constexpr std::size_t max_held_bytes = std::size_t(256) << 20;

}  // namespace

std::ifstream open_dump(const std::filesystem::path& path, std::int64_t& size) {
  if (std::filesystem::is_directory(path)) {
    throw InvalidArgument(fmt::format("'{}' is a directory, not a dump file", path.string()));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InvalidArgument(fmt::format("cannot read dump file '{}'", path.string()));
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(path, ec);
  size = ec ? 0 : std::int64_t(bytes);
  return in;
}

CheckedLoad::CheckedLoad(Loader& loader, const Options& options, Progress progress,
                         std::int64_t total_prices)
    : loader_(loader),
      options_(options),
      progress_(std::move(progress)),
      total_prices_(total_prices) {
  pending_.reserve(chunk_prices);
}

void CheckedLoad::region(Region region, std::int64_t line) {
  hold(region.slug.size() + region.name.size() + region.parent_slug.value_or("").size());
  geography_row();
  regions_.push_back(std::move(region));
  region_lines_.push_back(line);
}

void CheckedLoad::port(Port port, std::int64_t line) {
  hold(2 * port.code.size() + port.name.size() + port.region_slug.size());
  geography_row();
  codes_.insert(port.code);
  ports_.push_back(std::move(port));
  port_lines_.push_back(line);
}

void CheckedLoad::geography_row() {
  if (std::int64_t(regions_.size() + ports_.size()) >= max_geography_rows) {
    throw InvalidArgument(fmt::format(
        "the data holds more than {} ports and regions; nothing was loaded", max_geography_rows));
  }
}

void CheckedLoad::hold(std::size_t bytes) {
  held_bytes_ += bytes;
  if (held_bytes_ > max_held_bytes) {
    throw InvalidArgument(fmt::format(
        "the data's ports, regions and the port codes its prices name take more than {} MiB of "
        "text; nothing was loaded",
        max_held_bytes >> 20));
  }
}

void CheckedLoad::price(Price price, std::int64_t line) {
  check_codes(price, line);
  if (auto problem = price_problem(price.price, options_)) {
    add_error({line, "price", std::move(*problem)});
  }
  ++prices_;
  // Once a row is bad nothing will be committed: the rest is only read for its errors.
  if (!errors_.empty()) return;
  pending_.push_back(std::move(price));
  if (pending_.size() == chunk_prices) flush();
}

void CheckedLoad::check_codes(const Price& price, std::int64_t line) {
  for (const auto& [code, field] :
       {std::pair{&price.origin, "orig_code"}, std::pair{&price.destination, "dest_code"}}) {
    if (codes_.contains(*code)) continue;
    if (auto error = text_error("price port code", *code)) {
      add_error({line, field, std::move(*error)});
      continue;
    }
    auto [it, added] = awaited_.try_emplace(*code, Awaited{line, field, 0});
    ++it->second.rows;
    if (added) hold(code->size());
    if (added && std::int64_t(awaited_.size()) > max_geography_rows) {
      throw InvalidArgument(
          fmt::format("the prices name more than {} port codes that no port row (so far) has; "
                      "nothing was loaded",
                      max_geography_rows));
    }
  }
}

void CheckedLoad::remove_prices_on(Date day) {
  flush();
  if (errors_.empty()) prices_ -= loader_.remove_prices_on(day);
}

void CheckedLoad::flush() {
  if (pending_.empty() || !errors_.empty()) return;
  loader_.add(pending_);
  pending_.clear();
  if (progress_) progress_(prices_, total_prices_);
}

void CheckedLoad::contract(Contract c, std::int64_t line) {
  for (const auto* code : {&c.origin, &c.destination}) {
    if (!codes_.contains(*code)) {
      add_error(
          {line, "contract", fmt::format("contract on unknown port {}", quoted_value(*code))});
    }
  }
  if (c.valid_to < c.valid_from || (c.valid_to - c.valid_from).count() >= max_contract_days) {
    add_error({line, "contract",
               fmt::format("contract validity {}..{} is reversed or longer than {} days",
                           format_date(c.valid_from), format_date(c.valid_to), max_contract_days)});
  }
  if (auto problem = price_problem(c.price, options_)) {
    add_error({line, "contract", std::move(*problem)});
  }
  ++contracts_;
  if (!errors_.empty()) return;
  pending_contracts_.push_back(std::move(c));
  if (pending_contracts_.size() == chunk_contracts) flush_contracts();
}

void CheckedLoad::flush_contracts() {
  if (pending_contracts_.empty() || !errors_.empty()) return;
  loader_.add(pending_contracts_);
  pending_contracts_.clear();
}

void CheckedLoad::add_error(RowError error) {
  errors_.push_back(std::move(error));
  pending_.clear();
  pending_contracts_.clear();
  if (errors_.size() >= max_errors) refuse();
}

ImportSummary CheckedLoad::load(const Dataset& data) {
  const auto line = [](const std::vector<std::int64_t>& lines, std::size_t i) {
    return i < lines.size() ? lines[i] : std::int64_t(i) + 1;
  };
  for (std::size_t i = 0; i < data.regions.size(); ++i) {
    region(data.regions[i], line(data.region_lines, i));
  }
  for (std::size_t i = 0; i < data.ports.size(); ++i) port(data.ports[i], line(data.port_lines, i));
  for (std::size_t i = 0; i < data.prices.size(); ++i) {
    price(data.prices[i], line(data.price_lines, i));
  }
  for (std::size_t i = 0; i < data.contracts.size(); ++i) {
    contract(data.contracts[i], std::int64_t(i) + 1);
  }
  return finish();
}

ImportSummary CheckedLoad::load(Generator& generator) {
  std::int64_t line = 0;
  for (const Region& r : generator.regions()) region(r, ++line);
  line = 0;
  for (const Port& p : generator.ports()) port(p, ++line);
  std::int64_t price_line = 0, contract_line = 0;
  std::vector<Price> prices;
  std::vector<Contract> contracts;
  while (generator.next(prices, contracts, chunk_prices)) {
    for (Price& p : prices) price(std::move(p), ++price_line);
    for (Contract& c : contracts) contract(std::move(c), ++contract_line);
  }
  return finish();
}

ImportSummary CheckedLoad::finish() {
  std::vector<RowError> errors =
      Geography::check(regions_, ports_, options_.max_region_depth, region_lines_, port_lines_);
  errors.insert(errors.end(), std::make_move_iterator(errors_.begin()),
                std::make_move_iterator(errors_.end()));
  errors_ = std::move(errors);
  std::vector<std::pair<const std::string*, const Awaited*>> unknown;
  for (const auto& [code, awaited] : awaited_) {
    if (!codes_.contains(code)) unknown.emplace_back(&code, &awaited);
  }
  std::sort(unknown.begin(), unknown.end(), [](const auto& a, const auto& b) {
    return std::tie(a.second->line, *a.first) < std::tie(b.second->line, *b.first);
  });
  for (const auto& [code, awaited] : unknown) {
    add_error({awaited->line, awaited->field,
               fmt::format("price on unknown port {}{}", quoted_value(*code),
                           awaited->rows > 1 ? fmt::format(" ({} rows)", awaited->rows) : "")});
  }
  if (!errors_.empty()) refuse();
  flush();
  loader_.add(regions_);
  loader_.add(ports_);
  loader_.finish(pending_contracts_);
  return {std::int64_t(regions_.size()), std::int64_t(ports_.size()), prices_, contracts_};
}

void CheckedLoad::refuse() const {
  const auto count = errors_.size();
  throw ValidationFailed(fmt::format("the data has {}{} bad row{}; nothing was loaded", count,
                                     count >= max_errors ? " or more" : "", count == 1 ? "" : "s"),
                         errors_);
}

}  // namespace prkl::detail
