// SPDX-License-Identifier: MIT
// A thread-safe pool of Databases on one store: each thread borrows one and gives it back.
#include "prkl/pool.hpp"

#include <fmt/format.h>

#include "prkl/error.hpp"
#include "prkl/url.hpp"

namespace prkl {

namespace {

bool private_memory_store(std::string_view url) {
  return url.starts_with("sqlite:") && url.find(":memory:") != std::string_view::npos;
}

}  // namespace

Pool::Pool(std::string url, PoolOptions options) : url_(std::move(url)), options_(options) {
  if (options_.max_size == 0) throw InvalidArgument("a pool's max_size must be at least 1");
  if (private_memory_store(url_)) options_.max_size = 1;
  idle_.push_back({std::make_unique<Database>(
                       Database::open(url_, options_.read_url, options_.mode, options_.options)),
                   std::chrono::steady_clock::now()});
  open_ = 1;
}

Pool::~Pool() = default;

Pool::Lease Pool::borrow() {
  const auto deadline = std::chrono::steady_clock::now() + options_.borrow_timeout;
  std::unique_lock lock(mutex_);
  for (;;) {
    if (closed_) throw Error(fmt::format("the pool on {} is closed", redact_url(url_)));
    if (!idle_.empty()) {
      Idle idle = std::move(idle_.back());
      idle_.pop_back();
      const bool check = std::chrono::steady_clock::now() - idle.since >= options_.check_after_idle;
      if (!check) return Lease(*this, std::move(idle.db));
      lock.unlock();
      try {
        // One cheap query where it reads: a write store that is down (a primary failing over)
        // does not stop the reads a standby can serve.
        idle.db->version();
        if (idle.db->read_store()) {
          try {
            idle.db->store().version();  // reconnects a write connection a restart dropped
          } catch (const StorageError&) {
            // The primary is down: the reads still work, and a write reconnects when it can.
          }
        }
        return Lease(*this, std::move(idle.db));
      } catch (const StorageError&) {
        // Gone (a restarted server, a dropped idle connection): close it and open another.
        idle.db.reset();
        lock.lock();
        --open_;
        continue;
      }
    }
    if (open_ < options_.max_size) {
      ++open_;
      lock.unlock();
      try {
        return Lease(*this, std::make_unique<Database>(Database::open(
                                url_, options_.read_url, OpenMode::existing, options_.options)));
      } catch (...) {
        lock.lock();
        --open_;
        returned_.notify_one();  // a waiter may open one in its place
        throw;
      }
    }
    if (returned_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= options_.max_size && !closed_) {
      throw StorageError(
          fmt::format("no connection to {} came free within {} ms: all {} of the pool's are in use",
                      redact_url(url_), options_.borrow_timeout.count(), options_.max_size));
    }
  }
}

Pool::Lease::~Lease() {
  if (db_) pool_->give_back(std::move(db_), broken_);
}

void Pool::give_back(std::unique_ptr<Database> db, bool broken) {
  {
    std::lock_guard lock(mutex_);
    if (closed_ || broken) {
      --open_;
    } else {
      idle_.push_back({std::move(db), std::chrono::steady_clock::now()});
    }
  }
  returned_.notify_one();
  // `db`, when not given back, closes here, outside the lock.
}

void Pool::close() {
  std::vector<Idle> closing;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    open_ -= idle_.size();
    closing.swap(idle_);
  }
  returned_.notify_all();
}

bool Pool::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

std::size_t Pool::size() const {
  std::lock_guard lock(mutex_);
  return open_;
}

}  // namespace prkl
