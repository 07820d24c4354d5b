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
std::vector<std::string> currencies_of(const std::vector<BatchRow>& rows,
                                       std::optional<Date>& first, std::optional<Date>& last) {
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
[[noreturn]] void refuse(const Batch& batch, std::vector<RowError> errors,
                         std::int64_t unlisted_rows,
                         std::chrono::steady_clock::time_point started) {
  std::set<std::int64_t> listed_rows;
  for (const RowError& e : errors) {
    if (e.row > 0) listed_rows.insert(e.row);
  }
  const std::int64_t bad_rows = std::int64_t(listed_rows.size()) + unlisted_rows;
  record_batch(BatchOutcome::refused, 0, 0);
  log_batch(batch.id, std::int64_t(batch.rows.size()), 0, bad_rows,
            std::chrono::steady_clock::now() - started);
  const std::string name =
      batch.id.empty() ? std::string() : fmt::format(" {}", quoted_value(batch.id));
  // A batch refused as a whole (no rows, too many prices) says why in its message.
  std::string message = bad_rows == 0 ? fmt::format("batch{} is refused: {}; nothing was written",
                                                    name, errors.front().message)
                                      : fmt::format("batch{} has {} bad row{}; nothing was written",
                                                    name, bad_rows, bad_rows == 1 ? "" : "s");
  throw ValidationFailed(std::move(message), std::move(errors));
}

}  // namespace

std::vector<RowError> check_batch(const Batch& batch, const BatchTarget& target, RateTable& rates,
                                  std::int64_t& unlisted_rows) {
  Store& store = target.store;
  const Options& options = target.options;
  unlisted_rows = 0;
  if (!batch.id.empty()) check_batch_id(batch.id);
  if (batch.rows.empty()) return {{0, "batch", "the batch has no rows"}};
  // Against the write store, where the batch will be written: a lagging standby would refuse a
  // port just added, or pass one just removed.
  std::vector<bool> unlisted;
  const bool names_equipment =
      std::any_of(batch.rows.begin(), batch.rows.end(),
                  [](const BatchRow& row) { return !row.equipment.empty(); });
  const std::vector<std::string> equipment =
      names_equipment ? store.equipment() : std::vector<std::string>();
  std::vector<RowError> errors =
      validate_rows(batch.rows, target.geography(), equipment, options, unlisted);
  // A batch refused as a whole (too many prices) is not converted day by day first.
  if (std::any_of(errors.begin(), errors.end(), [](const RowError& e) { return e.row == 0; })) {
    count_unlisted(unlisted, errors, unlisted_rows);
    return errors;
  }
  // Prices in other currencies: the rates of every currency named, over the batch's days and
  // the age limit before them, in one read.
  std::optional<Date> first, last;
  const std::vector<std::string> currencies = currencies_of(batch.rows, first, last);
  if (currencies.empty()) {
    count_unlisted(unlisted, errors, unlisted_rows);
    return errors;
  }
  if (first) {
    rates = RateTable(store.exchange_rates(
                          currencies, *first - std::chrono::days{options.max_rate_age_days}, *last),
                      options.max_rate_age_days);
  }
  const std::vector<std::string> known = store.currencies();
  check_currencies(batch.rows, rates, known, options, errors, unlisted);
  std::stable_sort(errors.begin(), errors.end(),
                   [](const RowError& a, const RowError& b) { return a.row < b.row; });
  count_unlisted(unlisted, errors, unlisted_rows);
  return errors;
}

BatchResult apply_batch(const Batch& batch, const BatchTarget& target, const Progress& progress) {
  Store& store = target.store;
  const auto started = std::chrono::steady_clock::now();
  RateTable rates;
  std::int64_t unlisted_rows = 0;
  if (auto errors = check_batch(batch, target, rates, unlisted_rows); !errors.empty()) {
    refuse(batch, std::move(errors), unlisted_rows, started);
  }
  ExpandedBatch expanded = expand_rows(batch.rows, rates);
  const std::vector<Price>& prices = expanded.prices;
  BatchRecord record{batch.id,
                     expanded.digest,
                     std::int64_t(batch.rows.size()),
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
    target.wrote();  // the caller may have written it a moment ago, through another process
    return replay(*first);
  }
  const ApplyOutcome outcome = store.apply_batch(record, prices, expanded.contracts, progress);
  target.wrote();
  if (outcome.already_applied) return replay(outcome.record);
  record_batch(BatchOutcome::applied, record.rows, record.prices);
  log_batch(record.id, record.rows, record.prices, 0, std::chrono::steady_clock::now() - started);
  return result_of(outcome.record, false);
}

}  // namespace prkl::detail
