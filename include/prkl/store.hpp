// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The storage seam. A Store is a backend: it keeps ports, regions, prices, per-lane daily
/// aggregates of the prices (kept in the same transaction as the prices, whoever writes them)
/// and the batch ledger. Everything with rules in it (location resolution, validation,
/// arithmetic, rounding, answering rates from the aggregates) lives in the core
/// (prkl::Database), once for every backend.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>
#include "prkl/export.hpp"

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
  /// The exchange rates its prices were converted with: currency, the rate's own day (the
  /// price's day or up to Options::max_rate_age_days before) and the rate, as used then.
  std::vector<ExchangeRate> rates_used;
};

/// Result of Store::apply_batch.
struct ApplyOutcome {
  /// The ledger record: the new one, or the existing one when the id was already there.
  BatchRecord record;
  /// True when the id was already in the ledger and nothing was written.
  bool already_applied = false;
};

/// Where a store stands, read in one round trip. Callers cache what they read and reload only
/// when a number moves.
struct StoreVersion {
  /// Moves whenever ports or regions change, by anyone.
  std::int64_t geography = 0;
  /// Moves with every committed change to prices, by anyone; commits move it in commit order.
  std::int64_t data = 0;
  /// A random number drawn whenever the lane-day aggregates are rebuilt from scratch (import,
  /// TRUNCATE, a new store): data versions compare only within one epoch.
  std::int64_t epoch = 0;
  friend bool operator==(const StoreVersion&, const StoreVersion&) = default;
};

/// The schema this prkl creates and needs. `prkl init` brings a store to it by adding only
/// (tables, columns, indexes, triggers, rows of prkl_meta), so a store it migrated keeps
/// serving the previous versions that it still says can read it (StoreHealth::readable_from).
inline constexpr std::int64_t schema_version = 3;

/// What a readiness check asks of a store.
struct StoreHealth {
  /// The schema `prkl init` last brought the store to (prkl_meta); 0 when it never recorded one.
  std::int64_t schema_version = 0;
  /// The oldest schema version whose prkl can still serve from the store as it is.
  std::int64_t readable_from = 0;
  /// A read-only standby (a PostgreSQL server in recovery).
  bool standby = false;
  /// On a standby: how far its replay is behind, in seconds (0 when it has replayed everything
  /// it received).
  std::optional<double> replay_lag_seconds;
};

/// Count, sum, min and max of the prices of one lane on one day, as the store keeps them in the
/// same transaction as the prices. A count of 0 says the lane-day lost all its prices.
struct LaneDay {
  std::string_view origin;
  std::string_view destination;
  Date day;
  std::int64_t count = 0;
  std::int64_t sum = 0;
  std::int32_t min = 0;
  std::int32_t max = 0;
};

/// Receives lane-days from Store::read_lane_days().
class PRKL_EXPORT LaneDayReceiver {
 public:
  virtual ~LaneDayReceiver() = default;
  /// Called once, before any row: `complete` when the rows are every lane-day with prices,
  /// otherwise they are the lane-days changed since the version asked for.
  virtual void start(bool complete) = 0;
  virtual void row(const LaneDay& lane_day) = 0;
};

/// One lane: an origin and a destination port code.
struct LaneKey {
  std::string_view origin;
  std::string_view destination;
};

/// Receives prices from Store::read_prices().
class PRKL_EXPORT PriceReceiver {
 public:
  virtual ~PriceReceiver() = default;
  /// `lane` is the price's lane's index in the span given to read_prices().
  virtual void price(std::size_t lane, Date day, std::int32_t price) = 0;
};

/// What a filter asks of a stored price or contract: its equipment code (empty for none), its
/// term and the day it was received, each as stored.
struct Dimensions {
  std::string_view equipment;
  std::optional<Term> term;
  std::optional<Date> received;
};

/// Receives every price and contract of some lanes from Store::read_lanes().
class PRKL_EXPORT LaneReceiver {
 public:
  virtual ~LaneReceiver() = default;
  /// `lane` is the lane's index in the span given to read_lanes(); a lane's prices come in
  /// order of day, then price.
  virtual void price(std::size_t lane, Date day, std::int32_t price,
                     const Dimensions& dimensions) = 0;
  /// A lane's contracts come in order of valid_from.
  virtual void contract(std::size_t lane, Date valid_from, Date valid_to, std::int32_t price,
                        const Dimensions& dimensions) = 0;
};

/// Gives `receiver` a contract's price once for each day of [valid_from, valid_to] within
/// [from, to] on which it counts under `filter`'s age (received defaults to valid_from); the
/// store's query has applied the equipment and term.
PRKL_EXPORT void deliver_contract(PriceReceiver& receiver, std::size_t lane, Date valid_from,
                                  Date valid_to, std::optional<Date> received, std::int32_t price,
                                  Date from, Date to, const PriceFilter& filter);

/// All ports and regions as of one moment, with the generation they belong to.
struct GeographySnapshot {
  std::int64_t generation = 0;
  std::vector<Region> regions;
  std::vector<Port> ports;
};

/// How to open a store.
enum class OpenMode {
  /// The store must exist. Opening it changes nothing in it, so reads work on a read-only store.
  existing,
  /// Create the store and its schema if it does not exist, and set it up for concurrent use
  /// (SQLite: WAL mode).
  create,
};

/// Whether a load may replace data already in the store.
enum class LoadMode { into_empty, replace };

/// A load under way (Store::begin_load): one write transaction that rows stream into, in any
/// order and in chunks, so a load of any size holds only a chunk in memory. Foreign keys are
/// checked at finish(), not row by row. Nothing is seen before finish() commits: SQLite's
/// readers read the old data meanwhile, PostgreSQL's wait (the load holds its tables' locks from
/// begin_load, as TRUNCATE must), so a slow source (a pipe) keeps them waiting. A Loader
/// destroyed without finish() rolls back and leaves the store as it was.
class PRKL_EXPORT Loader {
 public:
  virtual ~Loader() = default;
  Loader() = default;
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  virtual void add(std::span<const Region> regions) = 0;
  virtual void add(std::span<const Port> ports) = 0;
  virtual void add(std::span<const Price> prices) = 0;
  /// Removes the prices added so far on `day` (a dump's `DELETE FROM prices WHERE day = ...`)
  /// and returns how many there were.
  virtual std::int64_t remove_prices_on(Date day) = 0;
  /// Contracts, after the regions and ports they name or before them; each counts in the
  /// lane-day aggregates on every day of its validity.
  virtual void add(std::span<const Contract> contracts) = 0;
  /// Adds `contracts` as add() does, builds the lane index and the lane-day aggregates under a
  /// new epoch, and commits.
  virtual void finish(std::span<const Contract> contracts) = 0;
};

class PRKL_EXPORT Store {
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

  /// Where the store stands, in one round trip.
  virtual StoreVersion version() = 0;
  /// Its schema and replication state, in one round trip; throws StorageError when it does not
  /// answer. A store that does not override this answers version() and says it is current.
  virtual StoreHealth health();
  /// Where the store's write-ahead log ends now, in bytes from its start: every commit made
  /// before the call lies before it. 0 for a backend without replicas (SQLite).
  virtual std::uint64_t log_position();
  /// Whether this store holds everything its primary committed before `position` (a
  /// log_position() of the primary): a standby that has replayed that far, or a store that is
  /// not a standby (a primary holds all it committed, a promoted standby all it replayed).
  virtual bool has_replayed(std::uint64_t position);
  /// Moves whenever the store's connection is replaced: a new connection through a multi-host
  /// URL may be to another server, which has replayed less. 0 for a store that never reconnects.
  virtual std::uint64_t connection_generation() const noexcept { return 0; }
  /// Every region and port, read from one consistent snapshot.
  virtual GeographySnapshot geography() = 0;
  /// True when the store holds no ports, regions or prices.
  virtual bool empty() = 0;

  /// From one consistent snapshot: every lane-day changed after `since` (emptied ones included,
  /// with count 0) when `since` is given and of the store's current epoch, otherwise every
  /// lane-day with prices. Returns the version the snapshot is at.
  virtual StoreVersion read_lane_days(const std::optional<StoreVersion>& since,
                                      LaneDayReceiver& receiver) = 0;

  /// From one consistent snapshot, every price of `lanes` on a day in [from, to] that counts
  /// under `filter` (see PriceFilter; the core has checked it), in no particular order; a
  /// contract once for each such day of its validity (see deliver_contract()).
  /// Returns the version of that snapshot.
  virtual StoreVersion read_prices(std::span<const LaneKey> lanes, Date from, Date to,
                                   const PriceFilter& filter, PriceReceiver& receiver) = 0;

  /// From one consistent snapshot, every price and contract of `lanes`, whatever their day,
  /// with their dimensions (see LaneReceiver for the order). Returns the snapshot's version.
  virtual StoreVersion read_lanes(std::span<const LaneKey> lanes, LaneReceiver& receiver) = 0;

  /// The equipment codes prices may carry, sorted (a new store is seeded with
  /// default_equipment).
  virtual std::vector<std::string> equipment() = 0;
  /// Adds codes (checked by the core) to the known ones; returns how many were new.
  virtual std::int64_t add_equipment(std::span<const std::string> codes) = 0;

  /// The stored exchange rates of `currencies` on days in [from, to], in no particular order.
  virtual std::vector<ExchangeRate> exchange_rates(std::span<const std::string> currencies,
                                                   Date from, Date to) = 0;
  /// Every currency that has at least one exchange rate, sorted.
  virtual std::vector<std::string> currencies() = 0;
  /// In one transaction, stores `rates`. A (currency, day) already stored with another rate is
  /// refused with InvalidArgument naming it, and nothing is written, unless `replace` is set.
  /// Returns how many rates were new or changed.
  virtual std::int64_t put_exchange_rates(std::span<const ExchangeRate> rates, bool replace) = 0;

  /// Starts replacing all ports, regions, prices, contracts and the batch ledger: the returned
  /// Loader takes the new rows, validated by the core, and commits them at finish(). With
  /// LoadMode::into_empty, a store that holds ports, regions or prices is refused with
  /// InvalidArgument and nothing is written; the check is made inside the write transaction, so
  /// of two loads racing into an empty store one is refused.
  virtual std::unique_ptr<Loader> begin_load(LoadMode mode) = 0;

  virtual std::optional<BatchRecord> find_batch(std::string_view id) = 0;

  /// In one transaction: if `record.id` is in the ledger, return it and write nothing; otherwise
  /// insert every price and contract, bring the lane-day aggregates up to date (a contract
  /// counts on each day of its validity), and insert the ledger record. Readers see all of it
  /// or none of it.
  virtual ApplyOutcome apply_batch(const BatchRecord& record, std::span<const Price> prices,
                                   std::span<const Contract> contracts,
                                   const Progress& progress) = 0;
};

/// How long connecting to a PostgreSQL server may take by default before it gives up.
inline constexpr std::chrono::seconds default_connect_timeout{10};
/// How long a SQLite writer waits for another connection's write lock before it gives up.
inline constexpr std::chrono::milliseconds default_busy_timeout{30'000};

/// What opening a store may wait for; each backend reads its own (see Options).
struct StoreOptions {
  /// Each attempt to reach a PostgreSQL server (0: wait for ever; libpq takes 1 as 2) unless the
  /// URL sets its own `connect_timeout`; an attempt that fails throws ConnectionLost.
  std::chrono::seconds connect_timeout = default_connect_timeout;
  /// How long a SQLite write waits for another writer before it fails.
  std::chrono::milliseconds busy_timeout = default_busy_timeout;
};

/// Opens a backend from a URL: `sqlite:PATH`, `sqlite::memory:`, `sqlite:///abs/path`,
/// `postgresql://...` or a libpq key=value string. Throws InvalidArgument for an unknown scheme
/// or a file that is not a SQLite database, and NotFound when mode is `existing` and the store
/// does not exist.
PRKL_EXPORT std::unique_ptr<Store> open_store(std::string_view url, OpenMode mode,
                                              const StoreOptions& options = {});

}  // namespace prkl
