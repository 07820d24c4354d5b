// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// A thread-safe pool of Databases on one store, for servers that answer many requests at once:
/// each thread borrows a Database, uses it alone, and gives it back when the lease ends.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "prkl/database.hpp"
#include "prkl/export.hpp"

namespace prkl {

struct PoolOptions {
  /// Most Databases open at once. An in-memory SQLite store is private to its connection, so a
  /// pool on `sqlite::memory:` holds exactly one whatever this says.
  std::size_t max_size = 8;
  /// How long borrow() waits for a Database another thread holds before it throws.
  std::chrono::milliseconds borrow_timeout{30'000};
  /// A Database that sat idle longer than this is checked before it is lent (one cheap query,
  /// to the store it reads from): one that no longer answers is closed and replaced, so a
  /// server restart or an idle timeout on the way costs no request. Zero checks every borrow.
  std::chrono::milliseconds check_after_idle{1'000};
  /// How the first Database opens the store (later ones open it as `existing`).
  OpenMode mode = OpenMode::existing;
  /// Where the Databases read from, when not from the pool's URL: a standby (see
  /// Database::open()). Writes made through any of them are seen by the reads of all.
  std::string read_url;
  Options options{};
};

class Pool {
 public:
  class Lease;

  /// Opens the first Database now, so a wrong URL fails here rather than on the first borrow.
  /// Throws InvalidArgument for a max_size of 0.
  PRKL_EXPORT explicit Pool(std::string url, PoolOptions options = {});
  PRKL_EXPORT ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  /// An idle Database (checked if it idled long), a new one while fewer than max_size are open,
  /// or the first one given back within borrow_timeout. Throws StorageError naming the pool's
  /// size when none came back in time, Error once the pool is closed, and what opening a
  /// Database throws.
  PRKL_EXPORT Lease borrow();

  /// Closes the idle Databases now and each lent one when it comes back; borrow() throws from
  /// now on. Closing again does nothing.
  PRKL_EXPORT void close();
  PRKL_EXPORT bool closed() const;
  /// Databases open now, lent or idle.
  PRKL_EXPORT std::size_t size() const;
  /// The URL, as given (redact_url() to show it).
  const std::string& url() const noexcept { return url_; }
  /// The read URL, as given; empty when the Databases read from url().
  const std::string& read_url() const noexcept { return options_.read_url; }
  /// What every Database of the pool is opened with.
  const Options& database_options() const noexcept { return options_.options; }

 private:
  struct Idle {
    std::unique_ptr<Database> db;
    std::chrono::steady_clock::time_point since;
  };
  void give_back(std::unique_ptr<Database> db, bool broken);

  std::string url_;
  PoolOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<Idle> idle_;
  std::size_t open_ = 0;
  bool closed_ = false;
};

/// One borrowed Database, given back to its pool when the lease ends. Move-only.
class Pool::Lease {
 public:
  Lease(Lease&& other) noexcept : pool_(other.pool_), db_(std::move(other.db_)) {}
  Lease& operator=(Lease&&) = delete;
  PRKL_EXPORT ~Lease();

  Database& operator*() const noexcept { return *db_; }
  Database* operator->() const noexcept { return db_.get(); }
  /// Closes this Database instead of giving it back (after a failure that may have left it
  /// unusable); the pool opens a fresh one when it needs one.
  void discard() noexcept { broken_ = true; }

 private:
  friend class Pool;
  Lease(Pool& pool, std::unique_ptr<Database> db) : pool_(&pool), db_(std::move(db)) {}
  Pool* pool_;
  std::unique_ptr<Database> db_;
  bool broken_ = false;
};

}  // namespace prkl
