// SPDX-License-Identifier: MIT
// Python arguments as prkl's values: dates, batch rows from paths, bytes or rows, rates options,
// and the version token a cache tags an answer with.
#include "arguments.hpp"

#include <fmt/format.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <fstream>
#include <istream>
#include <iterator>
#include <prkl/prkl.hpp>

namespace prkl::python {

py::handle python_object(const char* module, const char* name) {
  return py::object(py::module_::import(module).attr(name)).release();
}

Date date_argument(const py::handle& value, const char* what) {
  if (py::isinstance<py::str>(value)) return parse_date(value.cast<std::string>(), what);
  static const py::handle date_type = python_object("datetime", "date");
  if (py::isinstance(value, date_type)) {
    const auto y = value.attr("year").cast<int>();
    const auto mo = value.attr("month").cast<unsigned>();
    const auto d = value.attr("day").cast<unsigned>();
    return Date{std::chrono::year{y} / std::chrono::month{mo} / std::chrono::day{d}};
  }
  throw InvalidArgument(fmt::format("{}: expected a datetime.date or a 'YYYY-MM-DD' string, got {}",
                                    what, py::repr(value).cast<std::string>()));
}

namespace {

// A field of a batch row as text: str as is, int as digits, date as YYYY-MM-DD, None as empty.
std::string field_text(const py::handle& value, const char* what) {
  if (value.is_none()) return {};
  if (py::isinstance<py::str>(value)) return value.cast<std::string>();
  if (py::isinstance<py::bool_>(value)) {
    throw InvalidArgument(
        fmt::format("{}: {} is not a valid value", what, py::repr(value).cast<std::string>()));
  }
  if (py::isinstance<py::int_>(value)) return py::str(value).cast<std::string>();
  static const py::handle date_type = python_object("datetime", "date");
  if (py::isinstance(value, date_type)) return format_date(date_argument(value, what));
  // Anything else (a float, a Decimal) goes through its text, and validation judges it.
  return py::str(value).cast<std::string>();
}

BatchRow row_from_dict(const py::dict& d, std::size_t index) {
  BatchRow row;
  for (const auto& [key, value] : d) {
    const auto name = py::str(key).cast<std::string>();
    const auto member = batch_field(name);
    if (!member) {
      throw InvalidArgument(fmt::format("row {}: unknown key {}", index + 1, quoted_value(name)));
    }
    row.*member = field_text(value, name.c_str());
  }
  return row;
}

BatchRow row_from_sequence(const py::sequence& s, std::size_t index) {
  BatchRow row;
  const auto n = py::len(s);
  if (n == 4) {
    row = {field_text(s[0], "origin"),
           field_text(s[1], "destination"),
           field_text(s[2], "day"),
           {},
           {},
           field_text(s[3], "price"),
           0};
  } else if (n == 5) {
    row = {field_text(s[0], "origin"),
           field_text(s[1], "destination"),
           {},
           field_text(s[2], "date_from"),
           field_text(s[3], "date_to"),
           field_text(s[4], "price"),
           0};
  } else {
    throw InvalidArgument(fmt::format(
        "row {}: a tuple row is (origin, destination, day, price) or (origin, destination, "
        "date_from, date_to, price); this one has {} items",
        index + 1, n));
  }
  return row;
}

// The bytes of a Python bytes object as a stream, without a copy (bytes are immutable, and the
// caller holds the object).
struct BytesBuffer : std::streambuf {
  BytesBuffer(char* data, std::size_t size) { setg(data, data, data + size); }
};

}  // namespace

std::vector<BatchRow> iterable_rows(const py::object& rows, std::int64_t max_rows) {
  std::vector<BatchRow> out;
  for (const auto& item : rows) {
    // An iterable may be a generator without end: it is not drawn past the limit.
    if (std::int64_t(out.size()) == max_rows) {
      throw InvalidArgument(
          fmt::format("more than {} rows; a batch holds at most "
                      "Options::max_batch_prices prices: split it",
                      max_rows));
    }
    if (py::isinstance<py::dict>(item)) {
      out.push_back(row_from_dict(item.cast<py::dict>(), out.size()));
    } else if (py::isinstance<py::sequence>(item) && !py::isinstance<py::str>(item)) {
      out.push_back(row_from_sequence(item.cast<py::sequence>(), out.size()));
    } else {
      throw InvalidArgument(fmt::format("row {}: expected a dict or a tuple, got {}",
                                        out.size() + 1, py::repr(item).cast<std::string>()));
    }
  }
  return out;
}

namespace {

// Rows already drawn, handed over in chunks.
class HeldRows final : public BatchRowSource {
 public:
  explicit HeldRows(std::vector<BatchRow> rows) : rows_(std::move(rows)) {}
  bool next(std::vector<BatchRow>& rows, std::size_t most) override {
    rows.clear();
    const std::size_t end = std::min(rows_.size(), at_ + most);
    std::move(rows_.begin() + std::ptrdiff_t(at_), rows_.begin() + std::ptrdiff_t(end),
              std::back_inserter(rows));
    at_ = end;
    return !rows.empty();
  }

 private:
  std::vector<BatchRow> rows_;
  std::size_t at_ = 0;
};

}  // namespace

void with_batch_rows(const py::object& rows, std::int64_t max_rows,
                     const std::function<void(BatchRowSource&)>& use) {
  static const py::handle path_like = python_object("os", "PathLike");
  if (py::isinstance<py::bytes>(rows)) {
    char* data = nullptr;
    Py_ssize_t size = 0;
    if (PyBytes_AsStringAndSize(rows.ptr(), &data, &size) != 0) throw py::error_already_set();
    py::gil_scoped_release release;
    BytesBuffer buffer(data, std::size_t(size));
    std::istream in(&buffer);
    BatchCsvReader reader(in, "CSV", max_rows);
    return use(reader);
  }
  if (py::isinstance<py::str>(rows) || py::isinstance(rows, path_like)) {
    const auto path = py::str(py::module_::import("os").attr("fspath")(rows)).cast<std::string>();
    py::gil_scoped_release release;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      throw InvalidArgument(fmt::format("cannot read batch file {}", quoted_value(path)));
    }
    BatchCsvReader reader(in, path, max_rows);
    return use(reader);
  }
  HeldRows held(iterable_rows(rows, max_rows));
  py::gil_scoped_release release;
  use(held);
}

PriceFilter price_filter(const py::object& equipment, const std::optional<std::string>& term,
                         std::optional<std::int64_t> max_age_days) {
  PriceFilter filter{{}, {}, max_age_days};
  if (py::isinstance<py::str>(equipment)) {
    filter.equipment.push_back(equipment.cast<std::string>());
  } else if (!equipment.is_none()) {
    // A list or tuple of codes; a bare int or a dict is refused with its repr.
    if (!py::isinstance<py::sequence>(equipment)) {
      throw InvalidArgument(fmt::format("equipment {} must be a code or a list of codes",
                                        py::repr(equipment).cast<std::string>()));
    }
    filter.equipment = equipment.cast<std::vector<std::string>>();
  }
  if (term) filter.term = parse_term(*term);
  return filter;
}

RatesOptions rates_options(std::int64_t min_count, int scale, const std::string& bucket,
                           const std::optional<std::vector<double>>& percentiles,
                           const std::string& currency, PriceFilter filter) {
  return {min_count,
          scale,
          parse_bucket(bucket),
          percentiles.value_or(std::vector<double>{}),
          currency,
          std::move(filter)};
}

RatesQuery rates_query(const py::object& date_from, const py::object& date_to,
                       const std::string& origin, const std::string& destination,
                       const RatesOptions& o) {
  return {date_argument(date_from, "date_from"),
          date_argument(date_to, "date_to"),
          origin,
          destination,
          o.min_count,
          o.scale,
          o.bucket,
          o.percentiles,
          o.currency,
          o.filter};
}

std::string version_token(const StoreVersion& v) {
  return fmt::format("{}.{}.{}", v.epoch, v.data, v.geography);
}

py::object maybe_versioned(py::object answer, bool with_version, const StoreVersion& at) {
  if (!with_version) return answer;
  return py::make_tuple(std::move(answer), version_token(at));
}

std::vector<RateField> rate_fields(const std::vector<std::string>& names) {
  std::vector<RateField> keys;
  for (const std::string& name : names) keys.push_back(rate_field(name));
  return keys;
}

py::object exact_object(const std::optional<Decimal>& value) {
  if (!value) return py::none();
  if (value->scale == 0) return py::int_(value->units);
  static const py::handle decimal_type = python_object("decimal", "Decimal");
  return decimal_type(value->to_string());
}

}  // namespace prkl::python
