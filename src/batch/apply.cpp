// SPDX-License-Identifier: MIT
// Checking a batch as a whole (rows, currencies, the count of bad rows past the listed ones) and
// writing it once: the ledger's replay and conflict rules, metrics and the log.
#include "batch/apply.hpp"

#include "batch/batch.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "prkl/error.hpp"
#include "prkl/exchange.hpp"
#include "util/metrics.hpp"

namespace prkl::detail {

BatchResult result_of(const BatchRecord& record, bool replayed) {
  return {record.id, record.rows, record.prices, record.applied_at, replayed, record.rates_used};
}

namespace {

// The bad rows past the listed errors, as one more error that says how many there are.
void count_unlisted(const std::vector<bool>& unlisted, std::vector<RowError>& errors,
                    std::int64_t& unlisted_rows) {
  std::vector<std::int64_t> listed_rows;
  for (const RowError& e : errors) listed_rows.push_back(e.row);
  std::sort(listed_rows.begin(), listed_rows.end());
  unlisted_rows = 0;
  for (std::size_t i = 0; i < unlisted.size(); ++i) {
    unlisted_rows += unlisted[i] && !std::binary_search(listed_rows.begin(), listed_rows.end(),
                                                        std::int64_t(i) + 1);
  }
  if (unlisted_rows == 0) return;
  errors.push_back({0, "batch",
                    fmt::format("{} more bad row{} {} not listed: the list stops after {} errors",
                                unlisted_rows, unlisted_rows == 1 ? "" : "s",
                                unlisted_rows == 1 ? "is" : "are", max_listed_row_errors)});
}

// The currencies other than USD the rows name, sorted and distinct, and the first and last day
// of those rows (nullopt when none of their days parses).
std::vector<std::string> currencies_of(std::span<const BatchRow> rows, std::optional<Date>& first,
                                       std::optional<Date>& last) {
  std::vector<std::string> currencies;
  for (const BatchRow& row : rows) {
    if (row.currency.empty() || row.currency == base_currency || !is_currency_code(row.currency)) {
      continue;
    }
    currencies.push_back(row.currency);
    for (const std::string* text : {&row.day, &row.date_from, &row.date_to}) {
      if (text->empty()) continue;
      try {
        const Date day = parse_date(*text);
        first = first ? std::min(*first, day) : day;
        last = last ? std::max(*last, day) : day;
      } catch (const InvalidArgument&) {
        // reported by validate_rows
      }
    }
  }
  std::sort(currencies.begin(), currencies.end());
  currencies.erase(std::unique(currencies.begin(), currencies.end()), currencies.end());
  return currencies;
}

std::string utc_now_iso() {
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  const auto day = std::chrono::floor<std::chrono::days>(now);
  const std::chrono::hh_mm_ss time{now - day};
  return fmt::format("{}T{:02}:{:02}:{:02}Z", format_date(day), time.hours().count(),
                     time.minutes().count(), time.seconds().count());
}

// Throws ValidationFailed for a batch with `errors`, after counting and logging the refusal.
[[noreturn]] void refuse(const std::string& id, std::int64_t rows, std::vector<RowError> errors,
                         std::int64_t unlisted_rows,
                         std::chrono::steady_clock::time_point started) {
  std::set<std::int64_t> listed_rows;
  for (const RowError& e : errors) {
    if (e.row > 0) listed_rows.insert(e.row);
  }
  const std::int64_t bad_rows = std::int64_t(listed_rows.size()) + unlisted_rows;
  record_batch(BatchOutcome::refused, 0, 0);
  log_batch(id, rows, 0, bad_rows, std::chrono::steady_clock::now() - started);
  const std::string name = id.empty() ? std::string() : fmt::format(" {}", quoted_value(id));
  // A batch refused as a whole (no rows, too many prices) says why in its message.
  std::string message = bad_rows == 0 ? fmt::format("batch{} is refused: {}; nothing was written",
                                                    name, errors.front().message)
                                      : fmt::format("batch{} has {} bad row{}; nothing was written",
                                                    name, bad_rows, bad_rows == 1 ? "" : "s");
  throw ValidationFailed(std::move(message), std::move(errors));
}

}  // namespace

BatchIntake::BatchIntake(const BatchTarget& target, std::string id, bool expand)
    : target_(target), id_(std::move(id)), expand_(expand) {
  if (!id_.empty()) check_batch_id(id_);
}

void BatchIntake::add_all(BatchRowSource& source) {
  std::vector<BatchRow> chunk;
  while (source.next(chunk, batch_chunk_rows)) add(chunk);
}

void BatchIntake::add_all(std::span<const BatchRow> rows) {
  for (std::size_t at = 0; at < rows.size(); at += batch_chunk_rows) {
    add(rows.subspan(at, std::min(batch_chunk_rows, rows.size() - at)));
  }
}

void BatchIntake::add(std::span<const BatchRow> rows) {
  if (rows.empty()) return;
  const Options& options = target_.options;
  // Against the write store, where the batch will be written: a lagging standby would refuse a
  // port just added, or pass one just removed.
  if (!equipment_ && std::any_of(rows.begin(), rows.end(),
                                 [](const BatchRow& row) { return !row.equipment.empty(); })) {
    equipment_ = target_.store.equipment();
  }
  const std::size_t first = rows_;
  rows_ += rows.size();
  const std::size_t before = errors_.size();
  validate_rows(rows, first, target_.geography(),
                equipment_ ? *equipment_ : std::vector<std::string>(), options, errors_, unlisted_,
                counts_);
  const RateTable rates = [&] {
    std::optional<Date> from, to;
    const std::vector<std::string> currencies = currencies_of(rows, from, to);
    if (currencies.empty()) return RateTable();
    if (!currencies_) currencies_ = target_.store.currencies();
    // The rates of every currency named, over the chunk's days and the age limit before them,
    // in one read.
    RateTable table =
        from ? RateTable(target_.store.exchange_rates(
                             currencies, *from - std::chrono::days{options.max_rate_age_days}, *to),
                         options.max_rate_age_days)
             : RateTable();
    check_currencies(rows, first, table, *currencies_, options, errors_, unlisted_);
    return table;
  }();
  std::stable_sort(errors_.begin() + std::ptrdiff_t(before), errors_.end(),
                   [](const RowError& a, const RowError& b) { return a.row < b.row; });
  // A batch refused as a whole (too many prices) is not expanded any further. Every chunk is
  // checked in full whatever came before it, so that where chunks begin changes no error.
  std::vector<RowError> whole;
  if (expand_ && errors_.empty() && check_counts(counts_, options, whole)) {
    expander_.add(rows, rates);
  }
}

std::vector<RowError> BatchIntake::errors() {
  std::int64_t unlisted_rows = 0;
  return errors(unlisted_rows);
}

std::vector<RowError> BatchIntake::errors(std::int64_t& unlisted_rows) {
  unlisted_rows = 0;
  if (rows_ == 0) return {{0, "batch", "the batch has no rows"}};
  std::vector<RowError> errors = errors_;
  check_counts(counts_, target_.options, errors);
  count_unlisted(unlisted_, errors, unlisted_rows);
  return errors;
}

BatchResult BatchIntake::apply(const Progress& progress) {
  Store& store = target_.store;
  std::int64_t unlisted_rows = 0;
  if (auto errors = this->errors(unlisted_rows); !errors.empty()) {
    refuse(id_, std::int64_t(rows_), std::move(errors), unlisted_rows, started_);
  }
  ExpandedBatch expanded = std::move(expander_).finish();
  const std::vector<Price>& prices = expanded.prices;
  BatchRecord record{id_,
                     expanded.digest,
                     std::int64_t(rows_),
                     std::int64_t(prices.size() + expanded.contracts.size()),
                     utc_now_iso(),
                     std::move(expanded.rates_used)};
  if (record.id.empty()) record.id = "content-" + record.digest;

  const auto replay = [&](const BatchRecord& first) {
    if (first.digest != record.digest) {
      record_batch(BatchOutcome::conflict, 0, 0);
      throw BatchConflict(
          fmt::format("batch id {} was applied on {} with different rows; the first batch stands",
                      quoted_value(first.id), first.applied_at));
    }
    record_batch(BatchOutcome::replayed, 0, 0);
    return result_of(first, true);
  };
  if (auto first = store.find_batch(record.id)) {
    target_.wrote();  // the caller may have written it a moment ago, through another process
    return replay(*first);
  }
  const ApplyOutcome outcome = store.apply_batch(record, prices, expanded.contracts, progress);
  target_.wrote();
  if (outcome.already_applied) return replay(outcome.record);
  record_batch(BatchOutcome::applied, record.rows, record.prices);
  log_batch(record.id, record.rows, record.prices, 0, std::chrono::steady_clock::now() - started_);
  return result_of(outcome.record, false);
}

}  // namespace prkl::detail
