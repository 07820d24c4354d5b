// SPDX-License-Identifier: MIT
// Checking a rates question before anything is read: range, options, size of the answer,
// locations.
#include <fmt/format.h>

#include <algorithm>

#include "prkl/error.hpp"
#include "prkl/exchange.hpp"
#include "query/matrix.hpp"
#include "query/rates.hpp"
#include "util/text.hpp"

namespace prkl::detail {

namespace {

void check_range(const MatrixQuery& query, const Options& options) {
  if (query.date_from > query.date_to) {
    throw InvalidArgument(fmt::format("reversed range: date_from {} is after date_to {}",
                                      format_date(query.date_from), format_date(query.date_to)));
  }
  const std::int64_t days = (query.date_to - query.date_from).count() + 1;
  if (days > options.max_range_days) {
    throw InvalidArgument(fmt::format("range {}..{} is {} days, more than the maximum of {}",
                                      format_date(query.date_from), format_date(query.date_to),
                                      days, options.max_range_days));
  }
}

void check_rates_options(const RatesOptions& o) {
  if (o.min_count < 1) {
    throw InvalidArgument(fmt::format("min_count {} must be at least 1", o.min_count));
  }
  if (o.scale < 0 || o.scale > max_average_scale) {
    throw InvalidArgument(fmt::format("scale {} is outside 0..{}", o.scale, max_average_scale));
  }
  if (o.bucket != Bucket::day && o.bucket != Bucket::week && o.bucket != Bucket::month) {
    throw InvalidArgument(fmt::format("unknown bucket {}", int(o.bucket)));
  }
  for (std::size_t i = 0; i < o.percentiles.size(); ++i) {
    const double p = o.percentiles[i];
    if (!(p > 0 && p < 100)) {
      throw InvalidArgument(fmt::format("percentile {} is not strictly between 0 and 100", p));
    }
    if (!percentile_millionths(p)) {
      throw InvalidArgument(
          fmt::format("percentile {} has more than {} fraction digits", p, max_percentile_digits));
    }
    if (std::find(o.percentiles.begin(), o.percentiles.begin() + std::ptrdiff_t(i), p) !=
        o.percentiles.begin() + std::ptrdiff_t(i)) {
      throw InvalidArgument(fmt::format("percentile {} is asked for twice", p));
    }
  }
  if (!is_currency_code(o.currency)) {
    throw InvalidArgument(fmt::format("currency {} is not an ISO 4217 code (three capital letters)",
                                      quoted_value(o.currency)));
  }
}

void check_size(const MatrixQuery& query, const Options& options) {
  if (query.origins.empty() || query.destinations.empty()) {
    throw InvalidArgument("a rates matrix needs at least one origin and one destination");
  }
  const auto pairs = std::int64_t(query.origins.size() * query.destinations.size());
  if (pairs > options.max_matrix_lanes) {
    throw InvalidArgument(fmt::format(
        "{} origins x {} destinations is {} lanes, more than the maximum of {} per call",
        query.origins.size(), query.destinations.size(), pairs, options.max_matrix_lanes));
  }
  // What the answer will hold is known before anything is read: too much is refused now, not
  // after it has taken the memory.
  const RatesOptions& o = query.options;
  const auto buckets = std::int64_t(BucketPlan(o.bucket, query.date_from, query.date_to).size());
  const auto per_bucket = 5 + std::int64_t(o.percentiles.size());
  if (pairs * buckets * per_bucket > options.max_answer_values) {
    throw AnswerTooLarge(fmt::format(
        "the answer would hold {} values ({} lanes x {} buckets x {} values), more than the "
        "maximum of {} (Options::max_answer_values): ask fewer lanes, a shorter range, a "
        "coarser bucket or fewer percentiles",
        pairs * buckets * per_bucket, pairs, buckets, per_bucket, options.max_answer_values));
  }
}

// Each location is valid text and given once. Checked after the size, which bounds this
// quadratic look.
void check_locations(const MatrixQuery& query) {
  for (const auto& [locations, what] :
       {std::pair{&query.origins, "origin"}, std::pair{&query.destinations, "destination"}}) {
    for (std::size_t i = 0; i < locations->size(); ++i) {
      require_text(what, (*locations)[i]);
      const auto earlier = locations->begin() + std::ptrdiff_t(i);
      if (std::find(locations->begin(), earlier, (*locations)[i]) != earlier) {
        throw InvalidArgument(
            fmt::format("{} {} is given twice", what, quoted_value((*locations)[i])));
      }
    }
  }
}

}  // namespace

void check_rates_question(const MatrixQuery& query, const Options& options) {
  check_range(query, options);
  check_rates_options(query.options);
  check_size(query, options);
  check_locations(query);
}

}  // namespace prkl::detail
