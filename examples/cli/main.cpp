// SPDX-License-Identifier: MIT
// The `prkl` command-line tool. Exit status: 0 success, 2 bad usage or bad input, 1 anything
// else; errors go to stderr as one line (plus one line per bad row), never as a raw exception.

#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <prkl/prkl.hpp>
#include <set>

namespace {

constexpr int exit_bad_input = 2;
constexpr int exit_failure = 1;

using nlohmann::json;

// Prints "label: 42%" over itself on a terminal; prints nothing when stderr is a file or pipe.
prkl::Progress terminal_progress(std::string label) {
  if (!isatty(STDERR_FILENO)) return {};
  return [label = std::move(label), last = -1](std::int64_t done, std::int64_t total) mutable {
    const int percent = total > 0 ? int(done * 100 / total) : 0;
    if (percent == last) return;
    last = percent;
    fmt::print(stderr, "\r{}: {:3}%{}", label, percent, done >= total ? "\n" : "");
    std::fflush(stderr);
  };
}

json port_json(const prkl::Port& p) {
  return {{"code", p.code}, {"name", p.name}, {"region", p.region_slug}};
}

// The region tree is walked with stacks of its own, never by recursion: its depth is the
// data's (up to Options::max_region_depth).
json regions_json(const std::vector<prkl::RegionNode>& roots) {
  struct Open {
    const prkl::RegionNode* node;
    json children = json::array();
    std::size_t next = 0;
  };
  json out = json::array();
  std::vector<Open> open;
  for (const auto& root : roots) {
    open.push_back({&root});
    while (!open.empty()) {
      Open& top = open.back();
      if (top.next < top.node->children.size()) {
        const prkl::RegionNode* child = &top.node->children[top.next++];
        open.push_back({child});
        continue;
      }
      json done = {{"slug", top.node->region.slug},
                   {"name", top.node->region.name},
                   {"ports", top.node->port_codes},
                   {"regions", std::move(top.children)}};
      open.pop_back();
      (open.empty() ? out : open.back().children).push_back(std::move(done));
    }
  }
  return out;
}

void print_region_table(const std::vector<prkl::RegionNode>& roots) {
  std::vector<std::pair<const prkl::RegionNode*, std::size_t>> stack;  // node, depth
  for (auto root = roots.rbegin(); root != roots.rend(); ++root) stack.push_back({&*root, 0});
  while (!stack.empty()) {
    const auto [node, depth] = stack.back();
    stack.pop_back();
    fmt::print(
        "{:{}}{} ({}){}\n", "", depth * 2, node->region.slug, node->region.name,
        node->port_codes.empty() ? "" : fmt::format(": {}", fmt::join(node->port_codes, " ")));
    for (auto child = node->children.rbegin(); child != node->children.rend(); ++child) {
      stack.push_back({&*child, depth + 1});
    }
  }
}

std::string optional_text(const std::optional<std::int64_t>& v) {
  return v ? std::to_string(*v) : "null";
}

std::string optional_text(const std::optional<prkl::Decimal>& v) {
  return v ? v->to_string() : "null";
}

// Averages are exact decimals, so the JSON is written by hand: a JSON library would route a
// non-integer average through a double.
std::string day_json(const prkl::RateDay& d) {
  std::string out = fmt::format(
      "{{\"day\": \"{}\", \"average_price\": {}, \"count\": {}, \"min\": {}, \"max\": {}",
      prkl::format_date(d.day), optional_text(d.average), d.count, optional_text(d.min),
      optional_text(d.max));
  for (const auto& p : d.percentiles) {
    fmt::format_to(std::back_inserter(out), ", \"p{}\": {}", p.percent, optional_text(p.value));
  }
  return out + "}";
}

std::string days_json(const std::vector<prkl::RateDay>& days, std::string_view indent) {
  std::string out = "[";
  for (const auto& d : days) {
    fmt::format_to(std::back_inserter(out), "{}\n{}  {}", out.size() > 1 ? "," : "", indent,
                   day_json(d));
  }
  return out + (days.empty() ? "]" : fmt::format("\n{}]", indent));
}

void print_rates_table(const std::vector<prkl::RateDay>& days) {
  std::string header = fmt::format("{:<10}  {:>6}  {:>13}  {:>10}  {:>10}", "day", "count",
                                   "average_price", "min", "max");
  if (!days.empty()) {
    for (const auto& p : days.front().percentiles) {
      header += fmt::format("  {:>10}", fmt::format("p{}", p.percent));
    }
  }
  fmt::print("{}\n", header);
  const auto text = [](const auto& v) { return v ? fmt::format("{}", optional_text(v)) : "-"; };
  for (const auto& d : days) {
    std::string line =
        fmt::format("{:<10}  {:>6}  {:>13}  {:>10}  {:>10}", prkl::format_date(d.day), d.count,
                    text(d.average), text(d.min), text(d.max));
    for (const auto& p : d.percentiles) line += fmt::format("  {:>10}", text(p.value));
    fmt::print("{}\n", line);
  }
}

// Batch errors name the row and its line in the CSV file; dump errors name the dump's line.
void print_row_errors(const std::vector<prkl::RowError>& errors,
                      const std::vector<prkl::BatchRow>* rows) {
  for (const auto& e : errors) {
    const auto line = rows && e.row >= 1 && std::size_t(e.row) <= rows->size()
                          ? (*rows)[std::size_t(e.row - 1)].source_line
                          : 0;
    fmt::print(stderr, "  {} {}{}: {}: {}\n", rows ? "row" : "line", e.row,
               line ? fmt::format(" (line {})", line) : "", e.field, e.message);
  }
}

// Each command's options, filled by CLI11, and the function that runs it.

struct RatesOptions {
  std::string from, to, origin, destination, format = "json";
  std::vector<std::string> origins, destinations;  // the matrix command's
  std::int64_t min_count = 3;
  int scale = 0;
  std::string bucket = "day", percentiles, currency = "USD";

  prkl::RatesOptions options() const {
    prkl::RatesOptions o{min_count, scale, prkl::parse_bucket(bucket), {}, currency};
    std::string_view rest = percentiles;
    while (!rest.empty()) {
      const std::string_view item = rest.substr(0, rest.find(','));
      rest.remove_prefix(std::min(rest.size(), item.size() + 1));
      int value = 0;
      const auto [stop, error] = std::from_chars(item.data(), item.data() + item.size(), value);
      if (error != std::errc{} || stop != item.data() + item.size()) {
        throw prkl::InvalidArgument(
            fmt::format("--percentiles: {} is not a whole number", prkl::quoted_value(item)));
      }
      o.percentiles.push_back(value);
    }
    return o;
  }
};

struct PortsOptions {
  std::string code, region, search, format = "json";
  std::int64_t limit = 100, offset = 0;
};

struct BatchOptions {
  std::string path, id, format = "table";  // a sentence by default; JSON for scripts
};

struct GenerateOptions {
  prkl::GeneratorOptions generator;
  std::string first_day = "2024-01-01", dump;
  bool replace = false;
};

int run_init(const std::string& url) {
  auto db = prkl::Database::open(url, prkl::OpenMode::create);
  const auto added = db.init();
  fmt::print("{}: {}\n", url,
             added.empty() ? "schema complete, nothing added"
                           : fmt::format("added {}", fmt::join(added, ", ")));
  return 0;
}

int run_import(const std::string& url, const std::string& path, bool replace) {
  auto db = prkl::Database::open(url, prkl::OpenMode::create);
  const auto data = prkl::read_dump(path, terminal_progress("reading " + path));
  const auto summary = db.load(data, replace, terminal_progress("writing"));
  fmt::print("loaded {} regions, {} ports, {} prices from {}\n", summary.regions, summary.ports,
             summary.prices, path);
  return 0;
}

int run_rates(const std::string& url, const RatesOptions& o) {
  auto db = prkl::Database::open(url);
  const prkl::RatesOptions options = o.options();
  const auto days = db.rates({prkl::parse_date(o.from, "--from"), prkl::parse_date(o.to, "--to"),
                              o.origin, o.destination, options.min_count, options.scale,
                              options.bucket, options.percentiles, options.currency});
  if (o.format == "json") {
    fmt::print("{}\n", days_json(days, ""));
  } else {
    print_rates_table(days);
  }
  return 0;
}

int run_matrix(const std::string& url, const RatesOptions& o) {
  auto db = prkl::Database::open(url);
  const auto lanes =
      db.rates_matrix({prkl::parse_date(o.from, "--from"), prkl::parse_date(o.to, "--to"),
                       o.origins, o.destinations, o.options()});
  if (o.format == "json") {
    std::string out = "{\"lanes\": [";
    for (std::size_t i = 0; i < lanes.size(); ++i) {
      fmt::format_to(std::back_inserter(out),
                     "{}\n  {{\"origin\": {}, \"destination\": {}, \"rates\": {}}}",
                     i > 0 ? "," : "", json(lanes[i].origin).dump(),
                     json(lanes[i].destination).dump(), days_json(lanes[i].days, "  "));
    }
    fmt::print("{}\n]}}\n", out);
  } else {
    for (const auto& lane : lanes) {
      fmt::print("{} -> {}\n", lane.origin, lane.destination);
      print_rates_table(lane.days);
      fmt::print("\n");
    }
  }
  return 0;
}

json rates_used_json(const std::vector<prkl::ExchangeRate>& rates) {
  json out = json::array();
  for (const auto& r : rates) {
    out.push_back({{"currency", r.currency},
                   {"day", prkl::format_date(r.day)},
                   {"rate", prkl::format_rate(r.units)}});
  }
  return out;
}

int run_batch_show(const std::string& url, const std::string& id, const std::string& format) {
  auto db = prkl::Database::open(url);
  const auto found = db.batch(id);
  if (!found) throw prkl::NotFound(fmt::format("no batch {} was applied", prkl::quoted_value(id)));
  if (format == "json") {
    fmt::print("{}\n", json{{"batch_id", found->batch_id},
                            {"rows", found->rows},
                            {"prices", found->prices},
                            {"applied_at", found->applied_at},
                            {"rates_used", rates_used_json(found->rates_used)}}
                           .dump(2));
    return 0;
  }
  fmt::print("batch '{}': {} rows, {} prices, applied at {}\n", found->batch_id, found->rows,
             found->prices, found->applied_at);
  if (found->rates_used.empty()) {
    fmt::print("all prices were in USD\n");
  } else {
    fmt::print("converted to USD at (units per USD):\n");
    for (const auto& r : found->rates_used) {
      fmt::print("  {} {} {}\n", r.currency, prkl::format_date(r.day), prkl::format_rate(r.units));
    }
  }
  return 0;
}

int run_fx_import(const std::string& url, const std::string& path, bool replace) {
  // Read first: a file that cannot be read leaves no new store behind.
  const auto rates = prkl::read_exchange_rates(path);
  auto db = prkl::Database::open(url, prkl::OpenMode::create);
  const std::int64_t written = db.save_exchange_rates(rates, replace);
  fmt::print("read {} exchange rates from {}; {} were new or changed\n", rates.size(), path,
             written);
  return 0;
}

int run_ports(const std::string& url, const PortsOptions& o) {
  auto db = prkl::Database::open(url);
  const std::vector<prkl::Port> found = o.code.empty()
                                            ? db.search_ports(o.search, o.limit, o.offset, o.region)
                                            : std::vector<prkl::Port>{db.port(o.code)};
  if (o.format == "json") {
    json out = json::array();
    for (const auto& p : found) out.push_back(port_json(p));
    fmt::print("{}\n", out.dump(2));
  } else {
    for (const auto& p : found) fmt::print("{}  {:<20}  {}\n", p.code, p.region_slug, p.name);
  }
  return 0;
}

int run_regions(const std::string& url, const std::string& format) {
  auto db = prkl::Database::open(url);
  const auto tree = db.region_tree();
  if (format == "json") {
    fmt::print("{}\n", regions_json(tree).dump(2));
  } else {
    print_region_table(tree);
  }
  return 0;
}

int report_bad_rows(const std::string& path, std::string_view what,
                    const std::vector<prkl::RowError>& errors,
                    const std::vector<prkl::BatchRow>& rows) {
  fmt::print(stderr, "prkl: {}: {}\n", path, what);
  print_row_errors(errors, &rows);
  return exit_bad_input;
}

int run_batch_validate(const std::string& url, const BatchOptions& o) {
  auto db = prkl::Database::open(url);
  const prkl::Batch batch{o.id, prkl::read_batch_csv(o.path)};
  const auto errors = db.validate(batch);
  if (!errors.empty()) {
    std::set<std::int64_t> bad_rows;
    for (const auto& e : errors) bad_rows.insert(e.row);
    return report_bad_rows(
        o.path, fmt::format("{} bad row{}", bad_rows.size(), bad_rows.size() == 1 ? "" : "s"),
        errors, batch.rows);
  }
  fmt::print("{}: {} rows, all valid\n", o.path, batch.rows.size());
  return 0;
}

int run_batch_apply(const std::string& url, const BatchOptions& o) {
  // A batch needs the ports of a store that exists; a new one has none, so the batch could only
  // fail there, and would leave an empty store behind.
  auto db = prkl::Database::open(url);
  const prkl::Batch batch{o.id, prkl::read_batch_csv(o.path)};
  prkl::BatchResult result;
  try {
    result = db.apply(batch, terminal_progress("applying " + o.path));
  } catch (const prkl::ValidationFailed& e) {
    return report_bad_rows(o.path, e.what(), e.errors(), batch.rows);
  }
  if (o.format == "json") {
    fmt::print("{}\n", json{{"batch_id", result.batch_id},
                            {"rows", result.rows},
                            {"prices", result.prices},
                            {"applied_at", result.applied_at},
                            {"replayed", result.replayed},
                            {"rates_used", rates_used_json(result.rates_used)}}
                           .dump(2));
  } else if (result.replayed) {
    fmt::print("batch '{}' was already applied at {} ({} rows, {} prices); nothing changed\n",
               result.batch_id, result.applied_at, result.rows, result.prices);
  } else {
    fmt::print("applied batch '{}': {} rows, {} prices\n", result.batch_id, result.rows,
               result.prices);
  }
  return 0;
}

int run_generate(const std::string& url, GenerateOptions o) {
  o.generator.first_day = prkl::parse_date(o.first_day, "--first-day");
  const auto data = prkl::generate(o.generator);
  if (!o.dump.empty()) {
    std::ofstream out(o.dump, std::ios::binary);
    if (!out) {
      throw prkl::InvalidArgument(fmt::format("cannot write {}", prkl::quoted_value(o.dump)));
    }
    prkl::write_dump(out, data);
  } else {
    auto db = prkl::Database::open(url, prkl::OpenMode::create);
    db.load(data, o.replace, terminal_progress("writing"));
  }
  fmt::print("generated {} regions, {} ports, {} prices into {}\n", data.regions.size(),
             data.ports.size(), data.prices.size(), o.dump.empty() ? url : o.dump);
  return 0;
}

void add_format(CLI::App* command, std::string& format) {
  command->add_option("--format", format, "json or table")
      ->check(CLI::IsMember({"json", "table"}))
      ->capture_default_str();
}

void add_rates_options(CLI::App* command, RatesOptions& o) {
  command->add_option("--min-count", o.min_count, "Fewest prices for a day to get an average")
      ->capture_default_str();
  command->add_option("--scale", o.scale, "Fraction digits of the average and percentiles")
      ->capture_default_str();
  command->add_option("--bucket", o.bucket, "day, week (ISO, from Monday) or month")
      ->capture_default_str();
  command->add_option("--percentiles", o.percentiles, "Percentiles to add, e.g. 25,50,75");
  command->add_option("--currency", o.currency, "ISO 4217 code of the answer")
      ->capture_default_str();
  add_format(command, o.format);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"prkl: freight-rate data: rates, ports and price batches"};
  app.set_version_flag("--version", std::string("prkl ") + prkl::version());
  app.require_subcommand(1);
  std::string db_url = "sqlite:prkl.db";
  app.add_option("--db", db_url,
                 "Store: sqlite:PATH, sqlite::memory:, postgresql://... or a libpq key=value "
                 "string")
      ->envname("PRKL_DB")
      ->capture_default_str();

  auto* init = app.add_subcommand("init", "Create the store and whatever of its schema is missing");

  auto* import_dump = app.add_subcommand("import-dump", "Load a plain-SQL PostgreSQL dump");
  std::string dump_path;
  bool replace = false;
  import_dump->add_option("FILE", dump_path, "pg_dump plain-SQL file")->required();
  import_dump->add_flag("--replace", replace, "Replace the data the store already holds");

  auto* rates = app.add_subcommand("rates", "Daily price statistics between two locations");
  RatesOptions rates_options;
  rates->add_option("--from", rates_options.from, "First day, YYYY-MM-DD")->required();
  rates->add_option("--to", rates_options.to, "Last day, YYYY-MM-DD (inclusive)")->required();
  rates->add_option("--origin", rates_options.origin, "Port code or region slug")->required();
  rates->add_option("--destination", rates_options.destination, "Port code or region slug")
      ->required();
  add_rates_options(rates, rates_options);

  auto* matrix = app.add_subcommand("matrix", "Rates for every origin with every destination");
  RatesOptions matrix_options;
  matrix->add_option("--from", matrix_options.from, "First day, YYYY-MM-DD")->required();
  matrix->add_option("--to", matrix_options.to, "Last day, YYYY-MM-DD (inclusive)")->required();
  matrix->add_option("--origins", matrix_options.origins, "Port codes or region slugs")
      ->required()
      ->delimiter(',');
  matrix->add_option("--destinations", matrix_options.destinations, "Port codes or region slugs")
      ->required()
      ->delimiter(',');
  add_rates_options(matrix, matrix_options);

  auto* fx = app.add_subcommand("fx", "Exchange rates");
  fx->require_subcommand(1);
  auto* fx_import = fx->add_subcommand(
      "import", "Load openexchangerates-style YYYY-MM-DD.json files (a file or a directory)");
  std::string fx_path;
  bool fx_replace = false;
  fx_import->add_option("PATH", fx_path, "A YYYY-MM-DD.json file or a directory of them")
      ->required();
  fx_import->add_flag("--replace", fx_replace, "Replace rates stored before for the same days");

  auto* ports = app.add_subcommand("ports", "Look up ports");
  PortsOptions ports_options;
  ports->add_option("--code", ports_options.code, "One port by code");
  ports->add_option("--region", ports_options.region, "Ports of a region, at any depth");
  ports->add_option("--search", ports_options.search, "Case-insensitive text in code or name");
  ports->add_option("--limit", ports_options.limit)->capture_default_str();
  ports->add_option("--offset", ports_options.offset)->capture_default_str();
  add_format(ports, ports_options.format);

  auto* regions = app.add_subcommand("regions", "The region tree with each region's ports");
  std::string regions_format = "json";
  add_format(regions, regions_format);

  auto* batch = app.add_subcommand("batch", "Validate or apply a CSV batch of prices");
  batch->require_subcommand(1);
  BatchOptions batch_options;
  auto* validate = batch->add_subcommand("validate", "Check every row; write nothing");
  validate->add_option("FILE", batch_options.path, "CSV file with a header row")->required();
  auto* apply = batch->add_subcommand("apply", "Validate, then write all rows or none");
  apply->add_option("FILE", batch_options.path, "CSV file with a header row")->required();
  apply->add_option("--id", batch_options.id,
                    "Batch id; applying an id again changes nothing (default: from the content)");
  add_format(apply, batch_options.format);
  auto* show = batch->add_subcommand("show", "What the ledger holds for a batch id");
  show->add_option("ID", batch_options.id, "Batch id")->required();
  std::string show_format = "table";
  add_format(show, show_format);

  auto* generate = app.add_subcommand("generate", "Make deterministic sample data");
  GenerateOptions gen;
  generate->add_option("--seed", gen.generator.seed)->capture_default_str();
  generate->add_option("--ports", gen.generator.ports)->capture_default_str();
  generate->add_option("--lanes", gen.generator.lanes)->capture_default_str();
  generate->add_option("--days", gen.generator.days)->capture_default_str();
  generate->add_option("--first-day", gen.first_day)->capture_default_str();
  generate
      ->add_option("--prices-per-day", gen.generator.prices_per_day, "Mean prices per lane and day")
      ->capture_default_str();
  generate->add_option("--dump", gen.dump, "Write a plain-SQL dump here instead of into the store");
  generate->add_flag("--replace", gen.replace, "Replace the data the store already holds");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : exit_bad_input;
  }

  try {
    if (*init) return run_init(db_url);
    if (*import_dump) return run_import(db_url, dump_path, replace);
    if (*rates) return run_rates(db_url, rates_options);
    if (*matrix) return run_matrix(db_url, matrix_options);
    if (*fx_import) return run_fx_import(db_url, fx_path, fx_replace);
    if (*show) return run_batch_show(db_url, batch_options.id, show_format);
    if (*ports) return run_ports(db_url, ports_options);
    if (*regions) return run_regions(db_url, regions_format);
    if (*validate) return run_batch_validate(db_url, batch_options);
    if (*apply) return run_batch_apply(db_url, batch_options);
    if (*generate) return run_generate(db_url, gen);
    return exit_bad_input;  // unreachable: CLI11 requires one of the commands above
  } catch (const prkl::ValidationFailed& e) {
    fmt::print(stderr, "prkl: {}\n", e.what());
    print_row_errors(e.errors(), nullptr);
    return exit_bad_input;
  } catch (const prkl::InvalidArgument& e) {
    fmt::print(stderr, "prkl: {}\n", e.what());
    return exit_bad_input;
  } catch (const prkl::NotFound& e) {
    fmt::print(stderr, "prkl: {}\n", e.what());
    return exit_bad_input;
  } catch (const std::exception& e) {
    fmt::print(stderr, "prkl: {}\n", e.what());
    return exit_failure;
  }
}
