// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Rates as JSON text, written in one pass without building a document: what a web handler
/// sends as its body.

#include <span>
#include <string>
#include <string_view>
#include "prkl/export.hpp"

#include "prkl/model.hpp"

namespace prkl {

/// The keys a RateDay is written with.
/// `percentiles` stands for one key per asked percentile: "p25", "p50", ...
enum class RateField { day, count, average_price, min, max, percentiles };

/// The field a key names ("day", "count", "average_price", "min", "max", "percentiles");
/// throws InvalidArgument naming any other.
PRKL_EXPORT RateField rate_field(std::string_view name);

/// A JSON array with one object per day, each with `fields` in the order given. Days are
/// "YYYY-MM-DD"; average_price is the exact decimal (a JSON number with the query's scale) or
/// null; min and max are null on days without prices. `newest_first` lists the days in reverse.
PRKL_EXPORT std::string rates_json(std::span<const RateDay> days, std::span<const RateField> fields,
                                   bool newest_first = false);

/// `{"lanes": [{"origin": ..., "destination": ..., "rates": [...]}, ...]}`, each lane's rates
/// as rates_json() writes them.
PRKL_EXPORT std::string rates_matrix_json(std::span<const LaneRates> lanes,
                                          std::span<const RateField> fields);

}  // namespace prkl
