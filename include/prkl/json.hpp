// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Values as their fields and as JSON text. fields() is the one description of how each value
/// type is shown, shared by the CLI's formats, the Python binding's to_dict() and the web
/// examples. rates_json() writes the same keys in one pass without building a document: what a
/// web handler sends as its body.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "prkl/batch.hpp"
#include "prkl/error.hpp"
#include "prkl/export.hpp"
#include "prkl/model.hpp"

namespace prkl {

/// A field's value: null, a whole number, an exact decimal, text or a flag. Days are text
/// ("YYYY-MM-DD"), and so are exchange rates ("0.91"), as they are written everywhere.
using FieldValue = std::variant<std::monostate, std::int64_t, Decimal, std::string, bool>;

/// One named field of a value.
struct Field {
  std::string name;
  FieldValue value;
  friend bool operator==(const Field&, const Field&) = default;
};

/// day, average_price, count, min, max, then p25, p50, ... for the asked percentiles.
PRKL_EXPORT std::vector<Field> fields(const RateDay& day);
/// code, name, region.
PRKL_EXPORT std::vector<Field> fields(const Port& port);
/// slug, name, parent (null for a root).
PRKL_EXPORT std::vector<Field> fields(const Region& region);
/// row, field, message.
PRKL_EXPORT std::vector<Field> fields(const RowError& error);
/// currency, day, rate (units of the currency per USD, as text).
PRKL_EXPORT std::vector<Field> fields(const ExchangeRate& rate);
/// batch_id, rows, prices, applied_at, replayed. The exchange rates used are a list, which each
/// front end nests in its own way as `rates_used`.
PRKL_EXPORT std::vector<Field> fields(const BatchResult& result);

/// Appends `value` as JSON: a decimal as a number with all its digits, text as an escaped string.
PRKL_EXPORT void append_json(std::string& out, const FieldValue& value);
/// Appends `{"name": value, ...}` in the order given.
PRKL_EXPORT void append_json(std::string& out, std::span<const Field> fields);

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
