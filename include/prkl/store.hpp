#pragma once

/// \file
/// The storage seam. A Store is a backend: it keeps ports, regions, prices and the batch ledger
/// and answers set-based questions about them. Everything with rules in it (location resolution,
/// validation, arithmetic, rounding) lives in the core (prkl::Database), once for every backend.
/// A backend is free to answer from tables, per-lane daily aggregates or memory.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "prkl/model.hpp"

namespace prkl {

/// Called now and then during long writes with the work done so far and the total.
using Progress = std::function<void(std::int64_t done, std::int64_t total)>;

/// A batch as the ledger remembers it.
struct BatchRecord {
  std::string id;
  /// Hex digest of the batch's expanded prices; tells a retry from a different batch.
  std::string digest;
  std::int64_t rows = 0;
  std::int64_t prices = 0;
  std::string applied_at;
};

/// Result of Store::apply_batch.
struct ApplyOutcome {
  /// The ledger record: the new one, or the existing one when the id was already there.
  BatchRecord record;
  /// True when the id was already in the ledger and nothing was written.
  bool already_applied = false;
};

/// Numbers that change whenever the geography, or the set of lanes with prices, changes, by
/// anyone. Callers cache what they read and reload only when a number moves.
struct Generations {
  std::int64_t geography = 0;
  std::int64_t lanes = 0;
  friend bool operator==(const Generations&, const Generations&) = default;
};

/// An origin/destination pair of ports.
struct Lane {
  std::string origin;
  std::string destination;
  friend bool operator==(const Lane&, const Lane&) = default;
};

/// Every lane that has (or had) prices, with the lanes generation it belongs to.
struct LaneSnapshot {
  std::int64_t generation = 0;
  std::vector<Lane> lanes;
};

/// All ports and regions as of one moment, with the generation they belong to.
struct GeographySnapshot {
  std::int64_t generation = 0;
  std::vector<Region> regions;
  std::vector<Port> ports;
};

/// How to open a store.
enum class OpenMode {
  /// The store must exist (reads).
  existing,
  /// Create the store and its schema if it does not exist (writes).
  create,
};

class Store {
 public:
  virtual ~Store() = default;
  Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  /// "sqlite", "postgresql", ...
  virtual std::string_view backend() const noexcept = 0;

  /// Creates whatever of the schema is missing; never drops or rewrites data. Returns one line
  /// per object it added (empty when the schema was complete).
  virtual std::vector<std::string> init() = 0;

  /// Both generations, in one round trip.
  virtual Generations generations() = 0;
  /// Every region and port, read from one consistent snapshot.
  virtual GeographySnapshot geography() = 0;
  /// Every lane with prices, read from one consistent snapshot. A lane whose prices were all
  /// deleted may stay listed; a lane with prices is never missing.
  virtual LaneSnapshot lanes() = 0;

  /// True when the store holds no ports, regions or prices.
  virtual bool empty() = 0;

  /// Per-day count, sum, min and max of the prices on `lanes` (all distinct) for days in
  /// [from, to]. Only days with prices, ascending by day.
  virtual std::vector<DailyAggregate> daily_aggregates(std::span<const Lane> lanes, Date from,
                                                       Date to) = 0;

  /// Replaces all ports, regions, prices and the batch ledger with `data`, in one transaction.
  /// The data was validated by the core.
  virtual void replace_all(const Dataset& data, const Progress& progress) = 0;

  virtual std::optional<BatchRecord> find_batch(std::string_view id) = 0;

  /// In one transaction: if `record.id` is in the ledger, return it and write nothing; otherwise
  /// insert every price and the ledger record. Readers see all of it or none of it.
  virtual ApplyOutcome apply_batch(const BatchRecord& record, std::span<const Price> prices,
                                   const Progress& progress) = 0;
};

/// Opens a backend from a URL: `sqlite:PATH`, `sqlite::memory:`, `sqlite:///abs/path`.
/// Throws InvalidArgument for an unknown scheme and NotFound when mode is `existing` and the
/// store does not exist.
std::unique_ptr<Store> open_store(std::string_view url, OpenMode mode);

}  // namespace prkl
