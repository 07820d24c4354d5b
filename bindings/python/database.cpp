// SPDX-License-Identifier: MIT
// prkl.Database: the C++ Database behind a small connection pool, so that one object serves
// many threads. Arguments are converted while holding the GIL; the store work runs without it.

#include <fmt/format.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <chrono>
#include <cmath>
#include <istream>
#include <limits>
#include <prkl/pool.hpp>
#include <prkl/prkl.hpp>

#include "bindings.hpp"

namespace prkl::python {

namespace {

Date date_argument(const py::handle& value, const char* what) {
  if (py::isinstance<py::str>(value)) return parse_date(value.cast<std::string>(), what);
  static const py::object date_type = py::module_::import("datetime").attr("date");
  if (py::isinstance(value, date_type)) {
    const auto y = value.attr("year").cast<int>();
    const auto mo = value.attr("month").cast<unsigned>();
    const auto d = value.attr("day").cast<unsigned>();
    return Date{std::chrono::year{y} / std::chrono::month{mo} / std::chrono::day{d}};
  }
  throw InvalidArgument(fmt::format("{}: expected a datetime.date or a 'YYYY-MM-DD' string, got {}",
                                    what, py::repr(value).cast<std::string>()));
}

// A field of a batch row as text: str as is, int as digits, date as YYYY-MM-DD, None as empty.
std::string field_text(const py::handle& value, const char* what) {
  if (value.is_none()) return {};
  if (py::isinstance<py::str>(value)) return value.cast<std::string>();
  if (py::isinstance<py::bool_>(value)) {
    throw InvalidArgument(
        fmt::format("{}: {} is not a valid value", what, py::repr(value).cast<std::string>()));
  }
  if (py::isinstance<py::int_>(value)) return py::str(value).cast<std::string>();
  static const py::object date_type = py::module_::import("datetime").attr("date");
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

// Rows from a CSV path (str or os.PathLike) or CSV text (bytes, named "CSV" in messages), read
// no further than `max_rows` by prkl's one CSV reader, or an iterable of dicts and tuples.
std::vector<BatchRow> batch_rows(const py::object& rows, std::int64_t max_rows) {
  static const py::object path_like = py::module_::import("os").attr("PathLike");
  if (py::isinstance<py::bytes>(rows)) {
    char* data = nullptr;
    Py_ssize_t size = 0;
    if (PyBytes_AsStringAndSize(rows.ptr(), &data, &size) != 0) throw py::error_already_set();
    py::gil_scoped_release release;
    BytesBuffer buffer(data, std::size_t(size));
    std::istream in(&buffer);
    return read_batch_csv(in, "CSV", max_rows);
  }
  if (py::isinstance<py::str>(rows) || py::isinstance(rows, path_like)) {
    const auto path = py::str(py::module_::import("os").attr("fspath")(rows)).cast<std::string>();
    py::gil_scoped_release release;
    return read_batch_csv(path, max_rows);
  }
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

RatesOptions rates_options(std::int64_t min_count, int scale, const std::string& bucket,
                           const std::optional<std::vector<double>>& percentiles,
                           const std::string& currency) {
  return {min_count, scale, parse_bucket(bucket), percentiles.value_or(std::vector<double>{}),
          currency};
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
          o.currency};
}

// What data_version() returns, and with_version=True calls return with their answer.
std::string version_token(const StoreVersion& v) {
  return fmt::format("{}.{}.{}", v.epoch, v.data, v.geography);
}

// `answer`, or (answer, the version token it was read at) with `with_version`: what an HTTP
// cache tags it with, without a second read of the version.
py::object maybe_versioned(py::object answer, bool with_version, const StoreVersion& at) {
  if (!with_version) return answer;
  return py::make_tuple(std::move(answer), version_token(at));
}

std::vector<RateField> rate_fields(const std::vector<std::string>& names) {
  std::vector<RateField> keys;
  for (const std::string& name : names) keys.push_back(rate_field(name));
  return keys;
}

}  // namespace

void bind_database(py::module_& m) {
  py::class_<Pool>(m, "Database",
                   "A prkl store. Safe to share between threads: each call borrows one of up to "
                   "`pool_size` connections and releases the GIL while it works.")
      .def_property_readonly(
          "url", [](const Pool& pool) { return redact_url(pool.url()); },
          "The store's URL with any password shown as ***.")
      .def(
          "close",
          [](Pool& pool) {
            py::gil_scoped_release release;  // a connection may take a moment to close
            pool.close();
          },
          "Close every connection; later calls raise prkl.Error. Closing again does nothing.")
      .def_property_readonly("closed", &Pool::closed)
      .def("__enter__", [](py::object self) { return self; })
      .def(
          "__exit__",
          [](Pool& pool, const py::object&, const py::object&, const py::object&) {
            py::gil_scoped_release release;
            pool.close();
            return false;  // exceptions from the block go on
          },
          "`with prkl.connect(url) as db:` closes db at the end of the block, as duckdb and "
          "psycopg connections do.")
      .def("__repr__",
           [](Pool& pool) {
             return fmt::format("<prkl.Database url='{}'{}{}>", redact_url(pool.url()),
                                pool.read_url().empty()
                                    ? ""
                                    : fmt::format(" read_url='{}'", redact_url(pool.read_url())),
                                pool.closed() ? " closed" : "");
           })
      .def_property_readonly("backend",
                             [](Pool& pool) {
                               py::gil_scoped_release release;
                               return std::string(pool.borrow()->store().backend());
                             })
      .def(
          "rates",
          [](Pool& pool, const py::object& date_from, const py::object& date_to,
             const std::string& origin, const std::string& destination, std::int64_t min_count,
             int scale, const std::string& bucket,
             const std::optional<std::vector<double>>& percentiles, const std::string& currency,
             bool with_version) {
            const RatesQuery query =
                rates_query(date_from, date_to, origin, destination,
                            rates_options(min_count, scale, bucket, percentiles, currency));
            std::vector<RateDay> days;
            StoreVersion at;
            {
              py::gil_scoped_release release;
              auto db = pool.borrow();
              days = db->rates(query);
              at = db->last_version();
            }
            return maybe_versioned(py::cast(std::move(days)), with_version, at);
          },
          py::arg("date_from"), py::arg("date_to"), py::arg("origin"), py::arg("destination"),
          py::arg("min_count") = 3, py::arg("scale") = 0, py::arg("bucket") = "day",
          py::arg("percentiles") = py::none(), py::arg("currency") = "USD",
          py::arg("with_version") = false,
          "One RateDay per day (or per week or month: bucket='week'|'month', each labelled by "
          "its calendar start) from date_from to date_to inclusive, ascending. origin and "
          "destination are port codes or region slugs (regions include sub-regions at any "
          "depth). Dates are datetime.date or 'YYYY-MM-DD'. percentiles=[25, 50, 75] adds "
          "day.percentiles; currency='EUR' converts at each day's exchange rate. "
          "with_version=True returns (days, token), as rates_json().")
      .def(
          "rates_json",
          [](Pool& pool, const py::object& date_from, const py::object& date_to,
             const std::string& origin, const std::string& destination, std::int64_t min_count,
             int scale, const std::vector<std::string>& fields, bool newest_first,
             const std::string& bucket, const std::optional<std::vector<double>>& percentiles,
             const std::string& currency, bool with_version) {
            const RatesQuery query =
                rates_query(date_from, date_to, origin, destination,
                            rates_options(min_count, scale, bucket, percentiles, currency));
            const std::vector<RateField> keys = rate_fields(fields);
            std::string text;
            StoreVersion at;
            {
              py::gil_scoped_release release;
              auto db = pool.borrow();
              text = rates_json(db->rates(query), keys, newest_first);
              at = db->last_version();
            }
            return maybe_versioned(py::str(text), with_version, at);
          },
          py::arg("date_from"), py::arg("date_to"), py::arg("origin"), py::arg("destination"),
          py::arg("min_count") = 3, py::arg("scale") = 0,
          py::arg("fields") =
              std::vector<std::string>{"day", "count", "average_price", "min", "max"},
          py::arg("newest_first") = false, py::arg("bucket") = "day",
          py::arg("percentiles") = py::none(), py::arg("currency") = "USD",
          py::arg("with_version") = false,
          "The same answer as rates(), as JSON text ready to send: an array of objects with "
          "`fields` in the order given ('percentiles' adds p25, p50, ...), averages as exact "
          "decimals. Written in C++ without Python objects per day, for web handlers. "
          "with_version=True returns (text, token): the data_version() token the answer was "
          "read at (it is that version's or a newer one), to tag it with, with no second read.")
      .def(
          "rates_matrix",
          [](Pool& pool, const py::object& date_from, const py::object& date_to,
             const std::vector<std::string>& origins, const std::vector<std::string>& destinations,
             std::int64_t min_count, int scale, const std::string& bucket,
             const std::optional<std::vector<double>>& percentiles, const std::string& currency) {
            const MatrixQuery query{date_argument(date_from, "date_from"),
                                    date_argument(date_to, "date_to"), origins, destinations,
                                    rates_options(min_count, scale, bucket, percentiles, currency)};
            std::vector<LaneRates> lanes;
            {
              py::gil_scoped_release release;
              lanes = pool.borrow()->rates_matrix(query);
            }
            py::list out;
            for (LaneRates& lane : lanes) {
              out.append(
                  py::make_tuple(lane.origin, lane.destination, py::cast(std::move(lane.days))));
            }
            return out;
          },
          py::arg("date_from"), py::arg("date_to"), py::arg("origins"), py::arg("destinations"),
          py::arg("min_count") = 3, py::arg("scale") = 0, py::arg("bucket") = "day",
          py::arg("percentiles") = py::none(), py::arg("currency") = "USD",
          "rates() for every origin with every destination in one call: a list of (origin, "
          "destination, [RateDay]), origins outer. At most max_matrix_lanes (connect(); 100 by "
          "default) pairs.")
      .def(
          "rates_matrix_json",
          [](Pool& pool, const py::object& date_from, const py::object& date_to,
             const std::vector<std::string>& origins, const std::vector<std::string>& destinations,
             std::int64_t min_count, int scale, const std::vector<std::string>& fields,
             const std::string& bucket, const std::optional<std::vector<double>>& percentiles,
             const std::string& currency, bool with_version) {
            const MatrixQuery query{date_argument(date_from, "date_from"),
                                    date_argument(date_to, "date_to"), origins, destinations,
                                    rates_options(min_count, scale, bucket, percentiles, currency)};
            const std::vector<RateField> keys = rate_fields(fields);
            std::string text;
            StoreVersion at;
            {
              py::gil_scoped_release release;
              auto db = pool.borrow();
              text = rates_matrix_json(db->rates_matrix(query), keys);
              at = db->last_version();
            }
            return maybe_versioned(py::str(text), with_version, at);
          },
          py::arg("date_from"), py::arg("date_to"), py::arg("origins"), py::arg("destinations"),
          py::arg("min_count") = 3, py::arg("scale") = 0,
          py::arg("fields") =
              std::vector<std::string>{"day", "count", "average_price", "min", "max"},
          py::arg("bucket") = "day", py::arg("percentiles") = py::none(),
          py::arg("currency") = "USD", py::arg("with_version") = false,
          "rates_matrix() as JSON text: {\"lanes\": [{\"origin\", \"destination\", "
          "\"rates\": [...]}]}; with_version=True: (text, token), as rates_json().")
      .def(
          "resolve",
          [](Pool& pool, const std::string& location) {
            py::gil_scoped_release release;
            return pool.borrow()->resolve(location);
          },
          py::arg("location"), "The sorted port codes a port code or region slug stands for.")
      .def(
          "port",
          [](Pool& pool, const std::string& code, bool with_version) {
            Port found;
            StoreVersion at;
            {
              py::gil_scoped_release release;
              auto db = pool.borrow();
              found = db->port(code);
              at = db->last_version();
            }
            return maybe_versioned(py::cast(std::move(found)), with_version, at);
          },
          py::arg("code"), py::arg("with_version") = false,
          "The port with this code; NotFound otherwise. with_version=True: (port, token), as "
          "rates_json().")
      .def(
          "ports",
          [](Pool& pool, const std::optional<std::string>& region,
             const std::optional<std::string>& search, std::int64_t limit, std::int64_t offset,
             bool with_version) {
            std::vector<Port> found;
            StoreVersion at;
            {
              py::gil_scoped_release release;
              auto db = pool.borrow();
              found = db->search_ports(search.value_or(""), limit, offset, region.value_or(""));
              at = db->last_version();
            }
            return maybe_versioned(py::cast(std::move(found)), with_version, at);
          },
          py::arg("region") = py::none(), py::arg("search") = py::none(), py::arg("limit") = 100,
          py::arg("offset") = 0, py::arg("with_version") = false,
          "Ports by code: all of them, those of a region (at any depth), and/or those whose "
          "code or name contains `search`, ignoring case. with_version=True: (ports, token), as "
          "rates_json().")
      .def(
          "region_tree",
          [](Pool& pool, bool with_version) {
            std::vector<RegionNode> roots;
            StoreVersion at;
            {
              py::gil_scoped_release release;
              auto db = pool.borrow();
              roots = db->region_tree();
              at = db->last_version();
            }
            return maybe_versioned(py::cast(std::move(roots)), with_version, at);
          },
          py::arg("with_version") = false,
          "The region forest: RegionNode roots with their sub-regions and ports. "
          "with_version=True: (roots, token), as rates_json().")
      .def(
          "validate",
          [](Pool& pool, const py::object& rows) {
            Batch batch{"", batch_rows(rows, pool.database_options().max_batch_prices)};
            py::gil_scoped_release release;
            return pool.borrow()->validate(batch);
          },
          py::arg("rows"),
          "Every problem of every row, as RowError objects (empty when the batch is good). "
          "rows: a CSV path, CSV text as bytes, or dicts/tuples. Writes nothing.")
      .def(
          "apply",
          [](Pool& pool, const py::object& rows, const std::optional<std::string>& batch_id) {
            Batch batch{batch_id.value_or(""),
                        batch_rows(rows, pool.database_options().max_batch_prices)};
            py::gil_scoped_release release;
            return pool.borrow()->apply(batch);
          },
          py::arg("rows"), py::arg("batch_id") = py::none(),
          "Validates, then writes every row in one transaction, or nothing (ValidationError "
          "lists every bad row). Applying a batch_id again returns the first result with "
          "replayed=True; without a batch_id the content names the batch.")
      .def(
          "batch",
          [](Pool& pool, const std::string& batch_id) {
            py::gil_scoped_release release;
            return pool.borrow()->batch(batch_id);
          },
          py::arg("batch_id"),
          "The ledger's BatchResult for an applied batch id (with the exchange rates it used), "
          "or None.")
      .def(
          "import_exchange_rates",
          [](Pool& pool, const std::filesystem::path& path, bool replace) {
            py::gil_scoped_release release;
            return pool.borrow()->import_exchange_rates(path, replace);
          },
          py::arg("path"), py::arg("replace") = false,
          "Loads openexchangerates-style YYYY-MM-DD.json files (one file or a directory) in "
          "one transaction; returns how many rates were new or changed. A day stored before "
          "with other rates is refused unless replace=True.")
      .def(
          "import_dump",
          [](Pool& pool, const std::filesystem::path& path, bool replace) {
            py::gil_scoped_release release;
            const auto summary = pool.borrow()->import_dump(path, replace);
            return std::tuple{summary.regions, summary.ports, summary.prices};
          },
          py::arg("path"), py::arg("replace") = false,
          "Loads a plain-SQL pg_dump file in one transaction; returns (regions, ports, prices).")
      .def(
          "init",
          [](Pool& pool) {
            py::gil_scoped_release release;
            return pool.borrow()->init();
          },
          "Creates what is missing of the schema; returns what was added.")
      .def(
          "readiness",
          [](Pool& pool, double max_replay_lag) {
            Readiness r;
            {
              py::gil_scoped_release release;
              try {
                r = pool.borrow()->readiness(std::chrono::duration<double>(max_replay_lag));
              } catch (const StorageError& e) {
                // No Database to ask: the pool could not open a connection.
                r.reason = fmt::format("the store does not answer: {}", e.what());
              }
            }
            py::dict out;
            out["ready"] = r.ready;
            out["reason"] =
                r.reason.empty() ? py::object(py::none()) : py::object(py::str(r.reason));
            out["schema_version"] = r.store.schema_version;
            out["readable_from"] = r.store.readable_from;
            out["standby"] = r.store.standby;
            out["replay_lag_seconds"] = r.store.replay_lag_seconds
                                            ? py::object(py::float_(*r.store.replay_lag_seconds))
                                            : py::object(py::none());
            return out;
          },
          py::arg("max_replay_lag") = 30.0,
          "Whether the store can serve: it answers, its schema is one this prkl serves from, and "
          "a standby is at most max_replay_lag seconds behind. A dict: ready, reason (None when "
          "ready), schema_version, readable_from, standby, replay_lag_seconds. Never raises for "
          "the store's sake.")
      .def(
          "data_version",
          [](Pool& pool) {
            StoreVersion v;
            {
              py::gil_scoped_release release;
              v = pool.borrow()->version();
            }
            return version_token(v);
          },
          "A token that moves with every committed change to prices, ports or regions, by prkl "
          "or by any SQL client (one round trip): equal tokens, equal answers in USD. "
          "Exchange-rate "
          "loads do not move it.")
      .def(
          "ping",
          [](Pool& pool) {
            py::gil_scoped_release release;
            pool.borrow()->store().version();
          },
          "Raises StorageError unless the store answers.");

  m.def(
      "connect",
      [](const std::string& url, bool create, std::size_t pool_size, std::int64_t max_range_days,
         std::int64_t max_price, std::int64_t max_rate_age_days, std::int64_t max_matrix_lanes,
         std::int64_t max_percentile_prices, std::int64_t connect_timeout, double busy_timeout,
         std::int64_t max_region_depth, double pool_timeout,
         const std::optional<std::string>& read_url, double replica_wait,
         std::int64_t max_batch_prices, std::int64_t max_answer_values) {
        if (pool_size < 1) throw InvalidArgument(fmt::format("pool_size {} is below 1", pool_size));
        // Seconds, as Python's own sqlite3.connect(timeout=) takes them; NaN fails the test too.
        constexpr double most_seconds = std::numeric_limits<int>::max() / 1000.0;
        for (const auto& [name, seconds] :
             {std::pair{"busy_timeout", busy_timeout}, std::pair{"pool_timeout", pool_timeout},
              std::pair{"replica_wait", replica_wait}}) {
          if (!(seconds >= 0 && seconds <= most_seconds)) {
            throw InvalidArgument(fmt::format("{} {} is outside 0..{} seconds", name, seconds,
                                              std::int64_t(most_seconds)));
          }
        }
        Options options;
        options.max_range_days = max_range_days;
        options.max_price = max_price;
        options.max_rate_age_days = max_rate_age_days;
        options.max_matrix_lanes = max_matrix_lanes;
        options.max_percentile_prices = max_percentile_prices;
        options.connect_timeout = std::chrono::seconds{connect_timeout};
        options.busy_timeout = std::chrono::milliseconds(std::llround(busy_timeout * 1000));
        options.max_region_depth = max_region_depth;
        options.replica_wait = std::chrono::milliseconds(std::llround(replica_wait * 1000));
        options.max_batch_prices = max_batch_prices;
        options.max_answer_values = max_answer_values;
        PoolOptions pool;
        pool.read_url = read_url.value_or(std::string());
        pool.max_size = pool_size;
        pool.borrow_timeout = std::chrono::milliseconds(std::llround(pool_timeout * 1000));
        pool.mode = create ? OpenMode::create : OpenMode::existing;
        pool.options = options;
        py::gil_scoped_release release;
        return std::make_unique<Pool>(url, pool);
      },
      py::arg("url"), py::arg("create") = false, py::arg("pool_size") = 8,
      py::arg("max_range_days") = Options{}.max_range_days,
      py::arg("max_price") = Options{}.max_price,
      py::arg("max_rate_age_days") = Options{}.max_rate_age_days,
      py::arg("max_matrix_lanes") = Options{}.max_matrix_lanes,
      py::arg("max_percentile_prices") = Options{}.max_percentile_prices,
      py::arg("connect_timeout") = Options{}.connect_timeout.count(),
      py::arg("busy_timeout") = std::chrono::duration<double>(Options{}.busy_timeout).count(),
      py::arg("max_region_depth") = Options{}.max_region_depth,
      py::arg("pool_timeout") = std::chrono::duration<double>(PoolOptions{}.borrow_timeout).count(),
      py::arg("read_url") = py::none(),
      py::arg("replica_wait") = std::chrono::duration<double>(Options{}.replica_wait).count(),
      py::arg("max_batch_prices") = Options{}.max_batch_prices,
      py::arg("max_answer_values") = Options{}.max_answer_values,
      "Opens a store: 'sqlite:PATH', 'sqlite::memory:', 'postgresql://...' or a libpq "
      "key=value string. create=True makes the store and its schema if missing. "
      "connect_timeout: seconds each attempt to reach a PostgreSQL server may take (0: no "
      "limit) unless the URL sets its own; ConnectionLost when it cannot. busy_timeout: "
      "seconds a SQLite write waits for another writer before StorageError. pool_size: "
      "connections shared by the threads using this Database; pool_timeout: seconds a call "
      "waits for one of them before StorageError. read_url: a standby of url (or a libpq "
      "multi-host string with target_session_attrs=prefer-standby) that answers the questions "
      "while writes go to url; a read after a write through this process waits up to "
      "replica_wait seconds for the standby to replay it, then reads from url. "
      "max_batch_prices: most prices a batch may write (CSV and rows are read no further); "
      "max_answer_values: most values an answer may hold (AnswerTooLarge past it).");
}

}  // namespace prkl::python
