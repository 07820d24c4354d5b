// SPDX-License-Identifier: MIT
// prkl.Database: the C++ Database behind a small connection pool, so that one object serves
// many threads. Arguments are converted while holding the GIL; the store work runs without it.
// This file holds the class, its life cycle and the store's own calls, and connect(); each area
// of questions binds its methods in its own file.

#include <fmt/format.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <prkl/pool.hpp>
#include <prkl/prkl.hpp>

#include "arguments.hpp"
#include "bindings.hpp"

namespace prkl::python {

namespace {

void def_url(DatabaseClass& db) {
  db.def_property_readonly(
      "url", [](const Pool& pool) { return redact_url(pool.url()); },
      "The store's URL with any password shown as ***.");
}

void def_close(DatabaseClass& db) {
  db.def(
      "close",
      [](Pool& pool) {
        py::gil_scoped_release release;  // a connection may take a moment to close
        pool.close();
      },
      "Close every connection; later calls raise prkl.Error. Closing again does nothing.");
}

void def_closed(DatabaseClass& db) {
  db.def_property_readonly("closed", &Pool::closed);
}

void def_enter(DatabaseClass& db) {
  db.def("__enter__", [](py::object self) { return self; });
}

void def_exit(DatabaseClass& db) {
  db.def(
      "__exit__",
      [](Pool& pool, const py::object&, const py::object&, const py::object&) {
        py::gil_scoped_release release;
        pool.close();
        return false;  // exceptions from the block go on
      },
      "`with prkl.connect(url) as db:` closes db at the end of the block, as duckdb and "
      "psycopg connections do.");
}

void def_repr(DatabaseClass& db) {
  db.def("__repr__", [](Pool& pool) {
    return fmt::format(
        "<prkl.Database url='{}'{}{}>", redact_url(pool.url()),
        pool.read_url().empty() ? "" : fmt::format(" read_url='{}'", redact_url(pool.read_url())),
        pool.closed() ? " closed" : "");
  });
}

void def_backend(DatabaseClass& db) {
  db.def_property_readonly("backend", [](Pool& pool) {
    py::gil_scoped_release release;
    return std::string(pool.borrow()->store().backend());
  });
}

void def_init(DatabaseClass& db) {
  db.def(
      "init",
      [](Pool& pool) {
        py::gil_scoped_release release;
        return pool.borrow()->init();
      },
      "Creates what is missing of the schema; returns what was added.");
}

void def_import_dump(DatabaseClass& db) {
  db.def(
      "import_dump",
      [](Pool& pool, const std::filesystem::path& path, bool replace) {
        py::gil_scoped_release release;
        const auto summary = pool.borrow()->import_dump(path, replace);
        return std::tuple{summary.regions, summary.ports, summary.prices};
      },
      py::arg("path"), py::arg("replace") = false,
      "Loads a plain-SQL pg_dump file in one transaction; returns (regions, ports, prices).");
}

void def_readiness(DatabaseClass& db) {
  db.def(
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
        out["reason"] = r.reason.empty() ? py::object(py::none()) : py::object(py::str(r.reason));
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
      "the store's sake.");
}

void def_data_version(DatabaseClass& db) {
  db.def(
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
      "loads do not move it.");
}

void def_ping(DatabaseClass& db) {
  db.def(
      "ping",
      [](Pool& pool) {
        py::gil_scoped_release release;
        pool.borrow()->store().version();
      },
      "Raises StorageError unless the store answers.");
}

std::unique_ptr<Pool> connect(const std::string& url, bool create, std::size_t pool_size,
                              std::int64_t max_range_days, std::int64_t max_price,
                              std::int64_t max_rate_age_days, std::int64_t max_matrix_lanes,
                              std::int64_t max_percentile_prices, std::int64_t connect_timeout,
                              double busy_timeout, std::int64_t max_region_depth,
                              double pool_timeout, const std::optional<std::string>& read_url,
                              double replica_wait, std::int64_t max_batch_prices,
                              std::int64_t max_answer_values, std::int64_t max_batch_contracts,
                              std::int64_t max_copied_prices) {
  if (pool_size < 1) throw InvalidArgument(fmt::format("pool_size {} is below 1", pool_size));
  // Seconds, as Python's own sqlite3.connect(timeout=) takes them; NaN fails the test too.
  constexpr double most_seconds = std::numeric_limits<int>::max() / 1000.0;
  for (const auto& [name, seconds] :
       {std::pair{"busy_timeout", busy_timeout}, std::pair{"pool_timeout", pool_timeout},
        std::pair{"replica_wait", replica_wait}}) {
    if (!(seconds >= 0 && seconds <= most_seconds)) {
      throw InvalidArgument(
          fmt::format("{} {} is outside 0..{} seconds", name, seconds, std::int64_t(most_seconds)));
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
  options.max_batch_contracts = max_batch_contracts;
  options.max_copied_prices = max_copied_prices;
  PoolOptions pool;
  pool.read_url = read_url.value_or(std::string());
  pool.max_size = pool_size;
  pool.borrow_timeout = std::chrono::milliseconds(std::llround(pool_timeout * 1000));
  pool.mode = create ? OpenMode::create : OpenMode::existing;
  pool.options = options;
  py::gil_scoped_release release;
  return std::make_unique<Pool>(url, pool);
}

}  // namespace

void bind_database(py::module_& m) {
  DatabaseClass db(m, "Database",
                   "A prkl store. Safe to share between threads: each call borrows one of up to "
                   "`pool_size` connections and releases the GIL while it works.");
  def_url(db);
  def_close(db);
  def_closed(db);
  def_enter(db);
  def_exit(db);
  def_repr(db);
  def_backend(db);
  def_init(db);
  def_import_dump(db);
  def_readiness(db);
  def_data_version(db);
  def_ping(db);
  bind_rates(db);
  bind_ports(db);
  bind_batches(db);
  bind_fx(db);
  bind_market(m, db);
  m.def(
      "connect", &connect, py::arg("url"), py::arg("create") = false, py::arg("pool_size") = 8,
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
      py::arg("max_batch_contracts") = Options{}.max_batch_contracts,
      py::arg("max_copied_prices") = Options{}.max_copied_prices,
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
      "max_answer_values: most values an answer may hold (AnswerTooLarge past it); "
      "max_batch_contracts: most contracts (rows with valid_from and valid_to) a batch may "
      "write; max_copied_prices: most prices and contracts the process's in-memory copy keeps "
      "for questions that need prices (percentiles, market, rank, filters), 16-20 bytes each, "
      "0 for none.");
}

}  // namespace prkl::python
