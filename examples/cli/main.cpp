// SPDX-License-Identifier: MIT
// The `prkl` command-line tool. Exit status: 0 success, 2 bad usage or bad input, 3 the store
// was changed but the answer could not be written (-o), 1 anything else; errors go to stderr as
// one line (plus one line per bad row), never as a raw exception.

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <prkl/json.hpp>
#include <prkl/prkl.hpp>
#include <prkl/url.hpp>
#include <set>
#include <sstream>
#include <tuple>

#include "filter.hpp"
#include "input.hpp"
#include "market.hpp"
#include "output.hpp"

namespace {

using namespace prkl_cli;

constexpr int exit_bad_input = 2;
constexpr int exit_failure = 1;
// The command did its work on the store (a batch committed, a dump loaded), but its answer could
// not be written: a retry is not needed, and a caller must not take the run for one that
// changed nothing.
constexpr int exit_answer_lost = 3;

// Prints "label: 42%" over itself on a terminal; prints nothing when stderr is a file or pipe.
prkl::Progress terminal_progress(std::string label) {
  if (!isatty(STDERR_FILENO)) return {};
  return [label = std::move(label), last = std::int64_t{-1}](std::int64_t done,
                                                             std::int64_t total) mutable {
    // Without a total (a stream), bytes are shown by the mebibyte.
    const std::int64_t step = total > 0 ? done * 100 / total : done >> 20;
    if (step == last) return;
    last = step;
    if (total > 0) {
      fmt::print(stderr, "\r{}: {:3}%{}", label, step, done >= total ? "\n" : "");
    } else {
      fmt::print(stderr, "\r{}: {} MiB", label, step);
    }
    std::fflush(stderr);
  };
}

std::vector<std::string> columns_of(const Record& record) {
  std::vector<std::string> names;
  for (const auto& field : record) names.push_back(field.name);
  return names;
}

// The columns of a day's record, known even when there are no days to show.
std::vector<std::string> rate_columns(const std::vector<double>& percentiles) {
  prkl::RateDay shape;
  for (const double p : percentiles) shape.percentiles.push_back({p, std::nullopt});
  return columns_of(prkl::fields(shape));
}

// A region tree in JSON: each region's fields with its own ports and its sub-regions. The tree
// is walked with stacks of its own, never by recursion: its depth is the data's (up to
// Options::max_region_depth).
std::string regions_json(const std::vector<prkl::RegionNode>& roots) {
  struct Open {
    const prkl::RegionNode* node;
    std::vector<std::string> children;
    std::size_t next = 0;
  };
  std::vector<std::string> out;
  std::vector<Open> open;
  for (const auto& root : roots) {
    open.push_back({&root, {}});
    while (!open.empty()) {
      Open& top = open.back();
      if (top.next < top.node->children.size()) {
        const prkl::RegionNode* child = &top.node->children[top.next++];
        open.push_back({child, {}});
        continue;
      }
      std::string done;
      prkl::append_json(done, prkl::fields(top.node->region));
      done.pop_back();
      done += ", \"ports\": [";
      for (std::size_t i = 0; i < top.node->port_codes.size(); ++i) {
        if (i > 0) done += ", ";
        prkl::append_json(done, prkl::FieldValue(top.node->port_codes[i]));
      }
      done += "], \"regions\": [";
      for (std::size_t i = 0; i < top.children.size(); ++i) {
        if (i > 0) done += ", ";
        done += top.children[i];
      }
      done += "]}";
      open.pop_back();
      (open.empty() ? out : open.back().children).push_back(std::move(done));
    }
  }
  return json_lines(out, "") + "\n";
}

// The tree depth first, one region per record, for the flat formats: its fields, its depth and
// its own ports (separated by spaces).
std::vector<Record> region_records(const std::vector<prkl::RegionNode>& roots) {
  std::vector<Record> out;
  std::vector<std::pair<const prkl::RegionNode*, std::int64_t>> stack;  // node, depth
  for (auto root = roots.rbegin(); root != roots.rend(); ++root) stack.push_back({&*root, 0});
  while (!stack.empty()) {
    const auto [node, depth] = stack.back();
    stack.pop_back();
    Record record = prkl::fields(node->region);
    record.push_back({"depth", depth});
    record.push_back({"ports", fmt::format("{}", fmt::join(node->port_codes, " "))});
    out.push_back(std::move(record));
    for (auto child = node->children.rbegin(); child != node->children.rend(); ++child) {
      stack.push_back({&*child, depth + 1});
    }
  }
  return out;
}

std::string region_table(const std::vector<prkl::RegionNode>& roots) {
  std::string out;
  for (const auto& record : region_records(roots)) {
    const auto& slug = std::get<std::string>(record[0].value);
    const auto& name = std::get<std::string>(record[1].value);
    const auto depth = std::get<std::int64_t>(record[3].value);
    const auto& ports = std::get<std::string>(record[4].value);
    fmt::format_to(std::back_inserter(out), "{:{}}{} ({}){}\n", "", depth * 2, slug, name,
                   ports.empty() ? "" : ": " + ports);
  }
  return out;
}

// Batch errors name the row and its line in the CSV file; dump errors name the dump's line.
// `lines`: the line each row of a batch began on; nullptr for a dump, whose errors name lines.
void print_row_errors(const std::vector<prkl::RowError>& errors,
                      const std::vector<std::int64_t>* lines) {
  for (const auto& e : errors) {
    if (e.row == 0) {  // the batch as a whole
      fmt::print(stderr, "  the {}: {}\n", lines ? "batch" : "dump", e.message);
      continue;
    }
    const auto line = lines && e.row >= 1 && std::size_t(e.row) <= lines->size()
                          ? (*lines)[std::size_t(e.row - 1)]
                          : 0;
    fmt::print(stderr, "  {} {}{}: {}: {}\n", lines ? "row" : "line", e.row,
               line ? fmt::format(" (line {})", line) : "", e.field, e.message);
  }
}

// What every command shares: the store, where the answer goes and in which format.
struct Common {
  std::string db_url = "sqlite:prkl.db";
  std::string output;
  std::string format;  // empty: table on a terminal, JSON otherwise

  Format listing_format() const {
    return parse_format(format, output.empty() && isatty(STDOUT_FILENO));
  }
  // Reports (what a batch did) are sentences unless JSON is asked for.
  bool report_as_json() const {
    if (format.empty() || format == "table") return false;
    if (format == "json") return true;
    throw prkl::InvalidArgument(fmt::format("--format {}: this command reports in table or json",
                                            prkl::quoted_value(format)));
  }
  std::string store() const { return prkl::redact_url(db_url); }
};

struct RatesOptions {
  std::string from, to, origin, destination;
  std::vector<std::string> origins, destinations;  // the matrix command's
  std::int64_t min_count = 3;
  int scale = 0;
  std::string bucket = "day", percentiles, currency = "USD";
  FilterOptions filter;

  prkl::RatesOptions options() const {
    prkl::RatesOptions o{min_count, scale,    prkl::parse_bucket(bucket),
                         {},        currency, filter.filter()};
    std::string_view rest = percentiles;
    while (!rest.empty()) {
      const std::string_view item = rest.substr(0, rest.find(','));
      rest.remove_prefix(std::min(rest.size(), item.size() + 1));
      try {
        o.percentiles.push_back(prkl::parse_percentile(item));
      } catch (const prkl::InvalidArgument& e) {
        throw prkl::InvalidArgument(fmt::format("--percentiles: {}", e.what()));
      }
    }
    return o;
  }
};

// CLI11 2.1 reads a number too large for a 64-bit option as the largest one: the text is checked
// first, so that 99999999999999999999 is refused rather than taken as 9223372036854775807.
template <typename T>
CLI::Validator exact_integer() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        T value{};
        const auto [stop, error] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (error == std::errc::result_out_of_range) {
          return fmt::format("{} is out of range", prkl::quoted_value(text));
        }
        if (error != std::errc{} || stop != text.data() + text.size()) {
          return fmt::format("{} is not a whole number", prkl::quoted_value(text));
        }
        return {};
      },
      "", "exact integer");
}

struct PortsOptions {
  std::string code, region, search;
  std::int64_t limit = 100, offset = 0;
};

struct BatchOptions {
  std::string path, id;
};

struct GenerateOptions {
  prkl::GeneratorOptions generator;
  std::string first_day = "2024-01-01", dump;
  bool replace = false;
};

std::string run_init(const Common& c) {
  auto db = prkl::Database::open(c.db_url, prkl::OpenMode::create);
  const auto added = db.init();
  return fmt::format("{}: {}\n", c.store(),
                     added.empty() ? "schema complete, nothing added"
                                   : fmt::format("added {}", fmt::join(added, ", ")));
}

// A SQLite store that a command creates and then fails to fill is removed again, as if never
// made: a dump is read while it is loaded, so its errors come after the store is opened. The
// file is created here, exclusively, so that only a file this command made is ever removed: not
// one that was there, nor one another process made at the same path meanwhile (it would have
// another inode).
class NewStore {
 public:
  explicit NewStore(std::string_view url) {
    if (!url.starts_with("sqlite:")) return;
    std::string_view path = url.substr(7);
    if (path.starts_with("//")) path.remove_prefix(2);
    if (path.empty() || path == ":memory:") return;
    const std::string name(path);
    const int fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) return;  // there already, or not creatable: SQLite's open says which
    struct stat made {};
    if (::fstat(fd, &made) == 0) {
      path_ = name;
      device_ = made.st_dev;
      inode_ = made.st_ino;
    }
    ::close(fd);
  }
  NewStore(const NewStore&) = delete;
  NewStore& operator=(const NewStore&) = delete;
  ~NewStore() {
    struct stat now {};
    if (path_.empty() || ::lstat(path_.c_str(), &now) != 0 || now.st_dev != device_ ||
        now.st_ino != inode_) {
      return;
    }
    for (const char* suffix : {"-wal", "-shm", "-journal", ""}) ::unlink((path_ + suffix).c_str());
  }
  void keep() { path_.clear(); }

 private:
  std::string path_;  // empty: nothing to remove
  dev_t device_ = 0;
  ino_t inode_ = 0;
};

std::string run_import(const Common& c, const std::string& path, bool replace) {
  NewStore created(c.db_url);
  auto db = prkl::Database::open(c.db_url, prkl::OpenMode::create);
  const auto summary =
      import_dump_input(db, path, replace, terminal_progress("loading " + input_name(path)));
  created.keep();
  return fmt::format("loaded {} regions, {} ports, {} prices from {}\n", summary.regions,
                     summary.ports, summary.prices, input_name(path));
}

std::string run_rates(const Common& c, const RatesOptions& o) {
  const Format format = c.listing_format();
  auto db = prkl::Database::open(c.db_url);
  const prkl::RatesOptions options = o.options();
  const auto days =
      db.rates({prkl::parse_date(o.from, "--from"), prkl::parse_date(o.to, "--to"), o.origin,
                o.destination, options.min_count, options.scale, options.bucket,
                options.percentiles, options.currency, options.filter});
  std::vector<Record> records;
  for (const auto& day : days) records.push_back(prkl::fields(day));
  return render(records, rate_columns(options.percentiles), format);
}

std::string run_matrix(const Common& c, const RatesOptions& o) {
  const Format format = c.listing_format();
  auto db = prkl::Database::open(c.db_url);
  const prkl::RatesOptions options = o.options();
  const auto lanes =
      db.rates_matrix({prkl::parse_date(o.from, "--from"), prkl::parse_date(o.to, "--to"),
                       o.origins, o.destinations, options});
  if (format == Format::json) {
    std::vector<std::string> items;
    for (const auto& lane : lanes) {
      std::vector<std::string> days;
      for (const auto& day : lane.days) prkl::append_json(days.emplace_back(), prkl::fields(day));
      std::string& item = items.emplace_back();
      prkl::append_json(item, std::vector<prkl::Field>{{"origin", lane.origin},
                                                       {"destination", lane.destination}});
      item.pop_back();
      item += ", \"rates\": " + json_lines(days, "  ") + "}";
    }
    return "{\"lanes\": " + json_lines(items, "") + "}\n";
  }
  // The flat formats: one record per lane and day.
  std::vector<Record> records;
  for (const auto& lane : lanes) {
    for (const auto& day : lane.days) {
      Record record{{"origin", lane.origin}, {"destination", lane.destination}};
      for (auto& field : prkl::fields(day)) record.push_back(std::move(field));
      records.push_back(std::move(record));
    }
  }
  std::vector<std::string> columns{"origin", "destination"};
  for (auto& name : rate_columns(options.percentiles)) columns.push_back(std::move(name));
  return render(records, columns, format);
}

std::string rates_used_json(const std::vector<prkl::ExchangeRate>& rates) {
  std::vector<std::string> items;
  for (const auto& rate : rates) prkl::append_json(items.emplace_back(), prkl::fields(rate));
  return json_lines(items, "  ");
}

// A batch's record as JSON, with the exchange rates its prices were converted at.
std::string batch_json(const prkl::BatchResult& result, bool with_replayed) {
  auto fields = prkl::fields(result);
  if (!with_replayed) std::erase_if(fields, [](const auto& f) { return f.name == "replayed"; });
  std::vector<std::string> lines;
  for (const auto& field : fields) {
    std::string& line = lines.emplace_back();
    prkl::append_json(line, prkl::FieldValue(field.name));
    line += ": ";
    prkl::append_json(line, field.value);
  }
  lines.push_back("\"rates_used\": " + rates_used_json(result.rates_used));
  return fmt::format("{{\n  {}\n}}\n", fmt::join(lines, ",\n  "));
}

std::string run_batch_show(const Common& c, const std::string& id) {
  const bool as_json = c.report_as_json();
  auto db = prkl::Database::open(c.db_url);
  const auto found = db.batch(id);
  if (!found) throw prkl::NotFound(fmt::format("no batch {} was applied", prkl::quoted_value(id)));
  if (as_json) return batch_json(*found, false);
  std::string out = fmt::format("batch '{}': {} rows, {} prices, applied at {}\n", found->batch_id,
                                found->rows, found->prices, found->applied_at);
  if (found->rates_used.empty()) return out + "all prices were in USD\n";
  out += "converted to USD at (units per USD):\n";
  for (const auto& r : found->rates_used) {
    fmt::format_to(std::back_inserter(out), "  {} {} {}\n", r.currency, prkl::format_date(r.day),
                   prkl::format_rate(r.units));
  }
  return out;
}

std::string run_fx_import(const Common& c, const std::string& path, const std::string& day,
                          bool replace) {
  // Read first: a file that cannot be read leaves no new store behind.
  const auto rates = read_fx_input(path, day);
  auto db = prkl::Database::open(c.db_url, prkl::OpenMode::create);
  const std::int64_t written = db.save_exchange_rates(rates, replace);
  return fmt::format("read {} exchange rates from {}; {} were new or changed\n", rates.size(),
                     input_name(path), written);
}

std::string run_ports(const Common& c, const PortsOptions& o) {
  const Format format = c.listing_format();
  auto db = prkl::Database::open(c.db_url);
  const std::vector<prkl::Port> found = o.code.empty()
                                            ? db.search_ports(o.search, o.limit, o.offset, o.region)
                                            : std::vector<prkl::Port>{db.port(o.code)};
  std::vector<Record> records;
  for (const auto& port : found) records.push_back(prkl::fields(port));
  return render(records, columns_of(prkl::fields(prkl::Port{})), format);
}

std::string run_regions(const Common& c) {
  const Format format = c.listing_format();
  auto db = prkl::Database::open(c.db_url);
  const auto tree = db.region_tree();
  switch (format) {
    case Format::json:
      return regions_json(tree);
    case Format::table:
      return region_table(tree);
    default: {
      auto columns = columns_of(prkl::fields(prkl::Region{}));
      columns.insert(columns.end(), {"depth", "ports"});
      return render(region_records(tree), columns, format);
    }
  }
}

int report_bad_rows(const std::string& path, std::string_view what,
                    const std::vector<prkl::RowError>& errors, const BatchInput& input) {
  fmt::print(stderr, "prkl: {}: {}\n", input_name(path), what);
  print_row_errors(errors, &input.lines());
  return exit_bad_input;
}

int run_batch_validate(const Common& c, const BatchOptions& o, std::string& out) {
  auto db = prkl::Database::open(c.db_url);
  BatchInput input(o.path, db.options().max_batch_prices);
  const auto errors = db.validate(o.id, input);
  if (!errors.empty()) {
    std::set<std::int64_t> bad_rows;
    for (const auto& e : errors) bad_rows.insert(e.row);
    return report_bad_rows(
        o.path, fmt::format("{} bad row{}", bad_rows.size(), bad_rows.size() == 1 ? "" : "s"),
        errors, input);
  }
  out = fmt::format("{}: {} rows, all valid\n", input_name(o.path), input.lines().size());
  return 0;
}

int run_batch_apply(const Common& c, const BatchOptions& o, std::string& out,
                    std::string& committed) {
  const bool as_json = c.report_as_json();
  // A batch needs the ports of a store that exists; a new one has none, so the batch could only
  // fail there, and would leave an empty store behind.
  auto db = prkl::Database::open(c.db_url);
  BatchInput input(o.path, db.options().max_batch_prices);
  prkl::BatchResult result;
  try {
    result = db.apply(o.id, input, terminal_progress("applying " + input_name(o.path)));
  } catch (const prkl::ValidationFailed& e) {
    return report_bad_rows(o.path, e.what(), e.errors(), input);
  }
  committed = fmt::format("batch {} is applied", prkl::quoted_value(result.batch_id));
  if (as_json) {
    out = batch_json(result, true);
  } else if (result.replayed) {
    out =
        fmt::format("batch '{}' was already applied at {} ({} rows, {} prices); nothing changed\n",
                    result.batch_id, result.applied_at, result.rows, result.prices);
  } else {
    out = fmt::format("applied batch '{}': {} rows, {} prices\n", result.batch_id, result.rows,
                      result.prices);
  }
  return 0;
}

std::string run_generate(const Common& c, GenerateOptions o) {
  o.generator.first_day = prkl::parse_date(o.first_day, "--first-day");
  if ((o.generator.dimensions || o.generator.contracts_percent > 0) && !o.dump.empty()) {
    // A ratestask dump has no place for them: they would be lost without a word.
    throw prkl::InvalidArgument(
        "--dimensions, --contracts-percent: a dump has no place for them; generate into a store "
        "(--db) instead of --dump");
  }
  // A chunk at a time, into the dump or the store: memory does not grow with the data set.
  prkl::Generator generator(o.generator);
  prkl::ImportSummary made;
  if (!o.dump.empty()) {
    write_output(o.dump, [&](const OutputWriter& write) {
      OutputStream out(write);
      prkl::DumpWriter writer(out, generator.regions(), generator.ports());
      std::vector<prkl::Price> prices;
      std::vector<prkl::Contract> none;
      while (generator.next(prices, none, 1 << 16)) {
        writer.add(prices);
        made.prices += std::int64_t(prices.size());
      }
      writer.finish();
      out.flush();
    });
    made.regions = std::int64_t(generator.regions().size());
    made.ports = std::int64_t(generator.ports().size());
  } else {
    auto db = prkl::Database::open(c.db_url, prkl::OpenMode::create);
    made = db.load(generator, o.replace, terminal_progress("writing"));
  }
  const std::string contracts =
      made.contracts == 0 ? "" : fmt::format(", {} contracts", made.contracts);
  return fmt::format("generated {} regions, {} ports, {} prices{} into {}\n", made.regions,
                     made.ports, made.prices, contracts, o.dump.empty() ? c.store() : o.dump);
}

constexpr std::string_view listing_formats =
    "table, json, csv or ndjson (default: table on a terminal, json otherwise)";

void add_format(CLI::App* command, Common& common, std::string_view description) {
  command->add_option("--format", common.format, std::string(description));
}

void add_filter_options(CLI::App* command, FilterOptions& o) {
  command->add_option("--equipment", o.equipment, "Equipment codes to count, e.g. 40HC,20DC")
      ->delimiter(',');
  command->add_option("--term", o.term, "Count only short or only long contract prices");
  command
      ->add_option("--max-age", o.max_age,
                   "Count a price on day D only if D - its received day <= DAYS")
      ->check(exact_integer<std::int64_t>());
}

void add_rates_options(CLI::App* command, RatesOptions& o, Common& common) {
  command->add_option("--min-count", o.min_count, "Fewest prices for a day to get an average")
      ->check(exact_integer<std::int64_t>())
      ->capture_default_str();
  command->add_option("--scale", o.scale, "Fraction digits of the average and percentiles")
      ->capture_default_str();
  command->add_option("--bucket", o.bucket, "day, week (ISO, from Monday) or month")
      ->capture_default_str();
  command->add_option("--percentiles", o.percentiles,
                      "Percentiles to add, e.g. 25,50,75 or 2.5,97.5");
  command->add_option("--currency", o.currency, "ISO 4217 code of the answer")
      ->capture_default_str();
  add_filter_options(command, o.filter);
  add_format(command, common, listing_formats);
}

void add_market_options(CLI::App* command, MarketOptions& o, Common& common) {
  command->add_option("--from", o.from, "First day, YYYY-MM-DD")->required();
  command->add_option("--to", o.to, "Last day, YYYY-MM-DD (inclusive)")->required();
  command->add_option("--origin", o.origin, "Port code or region slug")->required();
  command->add_option("--destination", o.destination, "Port code or region slug")->required();
  command->add_option("--min-count", o.min_count, "Fewest prices for a day to get its values")
      ->check(exact_integer<std::int64_t>())
      ->capture_default_str();
  command->add_option("--bucket", o.bucket, "day, week (ISO, from Monday) or month")
      ->capture_default_str();
  command->add_option("--currency", o.currency, "ISO 4217 code of the answer")
      ->capture_default_str();
  add_filter_options(command, o.filter);
  add_format(command, common, listing_formats);
}

// CLI11 says "The following arguments were not expected: x" for a command it does not know;
// this names it as one. Returns the unknown command's words, or nothing when all are known.
std::string unknown_command(CLI::App& app, int argc, char** argv) {
  CLI::App* current = &app;
  std::string path;
  for (int i = 1; i < argc; ++i) {
    const std::string_view word = argv[i];
    if (word == "--") return {};
    if (word.starts_with("-")) {
      // An option of this command or a parent's that takes a value: skip the value too.
      if (word.find('=') != std::string_view::npos || word.size() < 2) continue;
      for (CLI::App* owner = current; owner != nullptr; owner = owner->get_parent()) {
        const CLI::Option* option = owner->get_option_no_throw(std::string(word));
        if (option != nullptr) {
          if (option->get_type_size() != 0) ++i;
          break;
        }
      }
      continue;
    }
    const auto commands = current->get_subcommands([](CLI::App*) { return true; });
    if (commands.empty()) return {};  // a positional argument
    const auto next_it = std::find_if(commands.begin(), commands.end(), [&](CLI::App* command) {
      return command->check_name(std::string(word));
    });
    CLI::App* next = next_it == commands.end() ? nullptr : *next_it;
    path += path.empty() ? std::string(word) : " " + std::string(word);
    if (next == nullptr) return path;
    current = next;
  }
  return {};
}

// What running a command gave: its answer, what a lost answer would have said, whether the
// store was changed, and the exit status when it is not 0.
struct Outcome {
  std::string out;
  std::string committed = "the store was changed";
  bool changed_store = false;
  int status = 0;
};

// A command the tool can run: its CLI11 node, what running it does, and the file it reads (an
// -o naming that file is refused before any work).
struct Command {
  CLI::App* app;
  std::function<void(Outcome&)> run;
  const std::string* input = nullptr;
};
using Commands = std::vector<Command>;

void add_init(CLI::App& app, const Common& common, Commands& commands) {
  auto* init = app.add_subcommand("init", "Create the store and whatever of its schema is missing");
  commands.push_back({init, [&common](Outcome& o) {
                        o.out = run_init(common);
                        o.changed_store = true;
                      }});
}

void add_import_dump(CLI::App& app, const Common& common, Commands& commands) {
  auto* command = app.add_subcommand("import-dump", "Load a plain-SQL PostgreSQL dump");
  struct Args {
    std::string path;
    bool replace = false;
  };
  auto args = std::make_shared<Args>();
  command->add_option("FILE", args->path, "pg_dump plain-SQL file, '-' for standard input")
      ->required();
  command->add_flag("--replace", args->replace, "Replace the data the store already holds");
  commands.push_back({command,
                      [&common, args](Outcome& o) {
                        o.out = run_import(common, args->path, args->replace);
                        o.changed_store = true;
                      },
                      &args->path});
}

void add_rates(CLI::App& app, Common& common, Commands& commands) {
  auto* command = app.add_subcommand("rates", "Daily price statistics between two locations");
  auto args = std::make_shared<RatesOptions>();
  command->add_option("--from", args->from, "First day, YYYY-MM-DD")->required();
  command->add_option("--to", args->to, "Last day, YYYY-MM-DD (inclusive)")->required();
  command->add_option("--origin", args->origin, "Port code or region slug")->required();
  command->add_option("--destination", args->destination, "Port code or region slug")->required();
  add_rates_options(command, *args, common);
  commands.push_back({command, [&common, args](Outcome& o) { o.out = run_rates(common, *args); }});
}

void add_matrix(CLI::App& app, Common& common, Commands& commands) {
  auto* command = app.add_subcommand("matrix", "Rates for every origin with every destination");
  auto args = std::make_shared<RatesOptions>();
  command->add_option("--from", args->from, "First day, YYYY-MM-DD")->required();
  command->add_option("--to", args->to, "Last day, YYYY-MM-DD (inclusive)")->required();
  command->add_option("--origins", args->origins, "Port codes or region slugs, comma-separated")
      ->required()
      ->delimiter(',');
  command
      ->add_option("--destinations", args->destinations,
                   "Port codes or region slugs, comma-separated")
      ->required()
      ->delimiter(',');
  add_rates_options(command, *args, common);
  commands.push_back({command, [&common, args](Outcome& o) { o.out = run_matrix(common, *args); }});
}

void add_market(CLI::App& app, Common& common, Commands& commands) {
  auto* command = app.add_subcommand(
      "market", "The market's band per day: 2.5th/25th/50th/75th/97.5th percentile, mean, count");
  auto args = std::make_shared<MarketOptions>();
  add_market_options(command, *args, common);
  command->add_flag("--fallback", args->fallback,
                    "Step a thin lane up the region tree (origin, then destination) until more "
                    "than half its days have --min-count prices");
  command->add_option("--scale", args->scale, "Fraction digits of the values")
      ->capture_default_str();
  commands.push_back({command, [&common, args](Outcome& o) {
                        o.out = run_market(common.db_url, common.listing_format(), *args);
                      }});
}

void add_rank(CLI::App& app, Common& common, Commands& commands) {
  auto* command =
      app.add_subcommand("rank", "Where a price stands among the market's prices per day");
  auto args = std::make_shared<MarketOptions>();
  args->min_count = 1;
  command->add_option("--price", args->price, "The price, in --currency: 1234 or 1234.50")
      ->required();
  add_market_options(command, *args, common);
  commands.push_back({command, [&common, args](Outcome& o) {
                        o.out = run_rank(common.db_url, common.listing_format(), *args);
                      }});
}

void add_fx(CLI::App& app, const Common& common, Commands& commands) {
  auto* fx = app.add_subcommand("fx", "Exchange rates");
  fx->require_subcommand(1);
  auto* command = fx->add_subcommand(
      "import", "Load openexchangerates-style YYYY-MM-DD.json files (a file, '-' or a directory)");
  struct Args {
    std::string path, day;
    bool replace = false;
  };
  auto args = std::make_shared<Args>();
  command->add_option("PATH", args->path, "A YYYY-MM-DD.json file or a directory of them")
      ->required();
  command->add_flag("--replace", args->replace, "Replace rates stored before for the same days");
  command->add_option("--day", args->day, "The day of rates read from standard input (PATH '-')");
  commands.push_back({command,
                      [&common, args](Outcome& o) {
                        o.out = run_fx_import(common, args->path, args->day, args->replace);
                        o.changed_store = true;
                      },
                      &args->path});
}

void add_ports_and_regions(CLI::App& app, Common& common, Commands& commands) {
  auto* command = app.add_subcommand("ports", "Look up ports");
  auto args = std::make_shared<PortsOptions>();
  command->add_option("--code", args->code, "One port by code");
  command->add_option("--region", args->region, "Ports of a region, at any depth");
  command->add_option("--search", args->search, "Case-insensitive text in code or name");
  command->add_option("--limit", args->limit, "Most ports to list")
      ->check(exact_integer<std::int64_t>())
      ->capture_default_str();
  command->add_option("--offset", args->offset, "Ports to skip before listing")
      ->check(exact_integer<std::int64_t>())
      ->capture_default_str();
  add_format(command, common, listing_formats);
  commands.push_back({command, [&common, args](Outcome& o) { o.out = run_ports(common, *args); }});

  auto* regions = app.add_subcommand("regions", "The region tree with each region's ports");
  add_format(regions, common, listing_formats);
  commands.push_back({regions, [&common](Outcome& o) { o.out = run_regions(common); }});
}

void add_batch(CLI::App& app, Common& common, Commands& commands) {
  auto* batch = app.add_subcommand("batch", "Validate or apply a CSV batch of prices");
  batch->require_subcommand(1);
  auto args = std::make_shared<BatchOptions>();
  auto* validate = batch->add_subcommand("validate", "Check every row; write nothing");
  validate->add_option("FILE", args->path, "CSV file with a header row, '-' for stdin")->required();
  commands.push_back(
      {validate,
       [&common, args](Outcome& o) { o.status = run_batch_validate(common, *args, o.out); },
       &args->path});
  auto* apply = batch->add_subcommand("apply", "Validate, then write all rows or none");
  apply->add_option("FILE", args->path, "CSV file with a header row, '-' for stdin")->required();
  apply->add_option("--id", args->id,
                    "Batch id; applying an id again changes nothing (default: from the content)");
  add_format(apply, common, "table (a sentence, the default) or json");
  commands.push_back({apply,
                      [&common, args](Outcome& o) {
                        o.status = run_batch_apply(common, *args, o.out, o.committed);
                        o.changed_store = true;
                      },
                      &args->path});
  auto* show = batch->add_subcommand("show", "What the ledger holds for a batch id");
  show->add_option("ID", args->id, "Batch id")->required();
  add_format(show, common, "table (sentences, the default) or json");
  commands.push_back(
      {show, [&common, args](Outcome& o) { o.out = run_batch_show(common, args->id); }});
}

void add_generate(CLI::App& app, const Common& common, Commands& commands) {
  auto* command = app.add_subcommand("generate", "Make deterministic sample data");
  auto args = std::make_shared<GenerateOptions>();
  prkl::GeneratorOptions& g = args->generator;
  command->add_option("--seed", g.seed, "Seed: the same seed gives the same data")
      ->check(exact_integer<std::uint64_t>())
      ->capture_default_str();
  for (auto [name, member, text] :
       {std::tuple{"--ports", &prkl::GeneratorOptions::ports, "Number of ports"},
        std::tuple{"--lanes", &prkl::GeneratorOptions::lanes, "Number of origin-destination pairs"},
        std::tuple{"--days", &prkl::GeneratorOptions::days, "Number of days"}}) {
    command->add_option(name, g.*member, text)
        ->check(exact_integer<std::int64_t>())
        ->capture_default_str();
  }
  command->add_option("--first-day", args->first_day, "First day, YYYY-MM-DD")
      ->capture_default_str();
  command->add_option("--prices-per-day", g.prices_per_day, "Mean prices per lane and day")
      ->check(exact_integer<std::int64_t>())
      ->capture_default_str();
  command->add_option("--dump", args->dump,
                      "Write a plain-SQL dump here instead of into the store");
  command->add_flag("--dimensions", g.dimensions,
                    "Give prices the market's mix of equipment, term and received day");
  command
      ->add_option("--contracts-percent", g.contracts_percent,
                   "Make this share of the price rows 90-365-day contracts instead")
      ->check(exact_integer<std::int64_t>())
      ->capture_default_str();
  command->add_flag("--replace", args->replace, "Replace the data the store already holds");
  commands.push_back({command, [&common, args](Outcome& o) {
                        o.out = run_generate(common, *args);
                        o.changed_store = args->dump.empty();
                      }});
}

// The tool's own options and help; the commands add themselves.
void set_up(CLI::App& app, Common& common) {
  app.set_version_flag("--version", std::string("prkl ") + prkl::version(),
                       "Print the version and exit");
  app.set_help_flag("-h,--help", "Print this help and exit");
  app.footer(
      "--db and -o may also follow the command. Listings (rates, matrix, ports, regions) are\n"
      "tables on a terminal and JSON otherwise; --format chooses. A FILE may be '-' for standard\n"
      "input, and may be gzip-compressed. Exit status: 0 success, 2 bad usage or bad input,\n"
      "3 the store was changed but the answer could not be written to -o, 1 anything else.");
  app.get_formatter()->column_width(32);  // the longest option with its type, then two spaces
  app.require_subcommand(1);
  // Options of `prkl` itself are accepted after the command too: `prkl rates ... --db X`.
  app.fallthrough();
  app.add_option("--db", common.db_url,
                 "Store: sqlite:PATH, sqlite::memory:, postgresql://... or a libpq key=value "
                 "string")
      ->envname("PRKL_DB")
      ->capture_default_str();
  app.add_option("-o,--output", common.output,
                 "Write the answer to this file (replaced whole, never half-written)");
}

// Runs the command that was parsed and writes its answer; returns the exit status.
int run(const Command& command, const Common& common) {
  try {
    // Refused before any work: writing the answer would destroy the input.
    if (command.input && !command.input->empty()) {
      refuse_output_onto_input(common.output, *command.input);
    }
    Outcome outcome;
    command.run(outcome);
    if (outcome.status != 0) return outcome.status;
    try {
      write_output(outcome.out, common.output);
    } catch (const prkl::InvalidArgument& e) {
      if (!outcome.changed_store) throw;
      fmt::print(stderr, "prkl: {}, but the answer was not written: {}\n", outcome.committed,
                 e.what());
      return exit_answer_lost;
    }
    return 0;
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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"prkl: freight-rate data: rates, ports and price batches", "prkl"};
  Common common;
  set_up(app, common);
  Commands commands;
  add_init(app, common, commands);
  add_import_dump(app, common, commands);
  add_rates(app, common, commands);
  add_matrix(app, common, commands);
  add_market(app, common, commands);
  add_rank(app, common, commands);
  add_fx(app, common, commands);
  add_ports_and_regions(app, common, commands);
  add_batch(app, common, commands);
  add_generate(app, common, commands);

  if (const auto unknown = unknown_command(app, argc, argv); !unknown.empty()) {
    fmt::print(stderr, "prkl: unknown command {}; see prkl --help\n", prkl::quoted_value(unknown));
    return exit_bad_input;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    // CLI11 repeats the words it was given as they are: escaped here, as prkl's own messages.
    fmt::print(stderr, "prkl: {}\nRun with --help for more information.\n",
               prkl::printable_message(e.what()));
    return exit_bad_input;
  }
  for (const Command& command : commands) {
    if (command.app->parsed()) return run(command, common);
  }
  return exit_bad_input;  // require_subcommand() leaves no way here
}
