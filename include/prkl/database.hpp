// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// prkl::Database: the library's front door. It owns a Store and holds every rule: location
/// resolution, validation, exact averages and rounding.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>
#include "prkl/export.hpp"

#include "prkl/batch.hpp"
#include "prkl/error.hpp"
#include "prkl/market.hpp"
#include "prkl/model.hpp"
#include "prkl/options.hpp"
#include "prkl/store.hpp"

namespace prkl {

class Generator;

namespace detail {
class CheckedLoad;
class Geography;
struct BatchTarget;
struct SharedLaneDays;
}  // namespace detail

/// What a dump import loaded.
struct ImportSummary {
  std::int64_t regions = 0;
  std::int64_t ports = 0;
  std::int64_t prices = 0;
  std::int64_t contracts = 0;
};

/// The in-memory copy of the lane-day aggregates that rates are answered from.
struct CacheStats {
  std::int64_t lanes = 0;
  std::int64_t lane_days = 0;
  /// Memory the copy's aggregates hold, allocated capacity included.
  std::int64_t bytes = 0;
  /// Prices and contracts the copy keeps for questions that need them (Options::
  /// max_copied_prices), and the memory they hold.
  std::int64_t prices = 0;
  std::int64_t price_bytes = 0;
};

/// Whether a Database can serve: what a `/ready` health check answers.
struct Readiness {
  bool ready = false;
  /// Why not, naming what to do about it; empty when ready.
  std::string reason;
  /// What the store said (all zero when it did not answer).
  StoreHealth store;
};

/// Not thread-safe: use one Database per thread (each opens its own connection). Databases of
/// one process opened on the same URL share one in-memory copy of the lane-day aggregates.
///
/// A Database may read from a second store, a standby of the first (see open() with a read
/// URL): questions go there, while batches (validation included), exchange rates, loads and
/// init go to the write store. A read never sees the data older than a write made through any
/// Database of the process that reads through the same URL: it waits for the standby to replay
/// that write (up to Options::replica_wait), or reads from the write store.
/// Text from outside (locations, codes, search text, batch ids, batch rows, loaded names and
/// slugs) must be valid UTF-8 without control characters; other text is refused with an
/// InvalidArgument (or a RowError) naming it, before anything is written.
class Database {
  // Members are exported one by one, so the private ones that name the core's internals stay
  // inside the library.
 public:
  /// Opens `url` (see open_store()). Writers pass OpenMode::create.
  PRKL_EXPORT static Database open(std::string_view url, OpenMode mode = OpenMode::existing,
                                   Options options = {});
  /// Writes to `url` and reads from `read_url`: a hot standby of it, or a libpq multi-host
  /// string such as `host=standby,primary target_session_attrs=prefer-standby`. With
  /// OpenMode::create, the read store is given Options::replica_wait to receive the new schema.
  /// An empty `read_url` reads from `url`.
  PRKL_EXPORT static Database open(std::string_view url, std::string_view read_url,
                                   OpenMode mode = OpenMode::existing, Options options = {});

  PRKL_EXPORT explicit Database(std::unique_ptr<Store> store, Options options = {});
  /// Writes to `store`, reads from `read_store` (which reports its replay of `store`'s log
  /// through Store::has_replayed()).
  PRKL_EXPORT Database(std::unique_ptr<Store> store, std::unique_ptr<Store> read_store,
                       Options options = {});
  PRKL_EXPORT Database(Database&&) noexcept;
  PRKL_EXPORT Database& operator=(Database&&) noexcept;
  PRKL_EXPORT ~Database();

  /// The store writes go to (and reads, without a read store).
  Store& store() noexcept { return *store_; }
  /// The store reads go to; nullptr without one.
  Store* read_store() noexcept { return read_store_.get(); }
  const Options& options() const noexcept { return options_; }

  /// Creates the missing parts of the schema; returns what it added.
  PRKL_EXPORT std::vector<std::string> init();

  /// One entry per day of the range, ascending. Throws InvalidArgument for a reversed or too
  /// long range, a bad min_count or scale; NotFound for an unknown origin or destination.
  /// Answered from an in-memory copy of the store's lane-day aggregates, brought up to date
  /// first with whatever anyone committed since (one cheap version read when nothing did).
  PRKL_EXPORT std::vector<RateDay> rates(const RatesQuery& query);

  /// Every origin with every destination (origins outer, each a port or a region), under one
  /// version check and, with percentiles, one read of the prices. At most
  /// Options::max_matrix_lanes pairs; more is an InvalidArgument naming the limit.
  PRKL_EXPORT std::vector<LaneRates> rates_matrix(const MatrixQuery& query);

  /// The market's band per day (or bucket): count, low (2.5th percentile), mid-low (25th),
  /// median, mean, mid-high (75th) and high (97.5th), each null below min_count; with
  /// `fallback`, from one region level up at a time while the lane is thin (see MarketQuery).
  /// Errors as rates() gives them.
  PRKL_EXPORT MarketAnswer market(const MarketQuery& query);

  /// Where `query.price` stands among the lane's prices of each day (or bucket). Errors as
  /// rates() gives them; InvalidArgument for a price not above 0.
  PRKL_EXPORT std::vector<RankDay> rank(const RankQuery& query);

  /// The data version that reads are answered at now (see StoreVersion), read where the next
  /// read would be: one round trip.
  PRKL_EXPORT StoreVersion version();

  /// The data version the last read of this Database (rates, rates_matrix, a geography call or
  /// version()) read, without reading it again: its answer is at that version or a newer one,
  /// so a cache tags that answer with it (an HTTP ETag), as it would with version() read just
  /// before the call. Zero before the first read.
  PRKL_EXPORT StoreVersion last_version() const noexcept { return last_version_; }

  /// Size of the in-memory copy of the aggregates (loaded by the first rates call).
  PRKL_EXPORT CacheStats cache_stats();

  /// Asks the store a trivial question: ready when it answers, its schema is one this prkl can
  /// serve from (at least prkl::schema_version, and not migrated past what this prkl reads),
  /// and, on a standby, its replay is at most `max_replay_lag` behind. The store asked is the
  /// read store when there is one: it serves the questions, and a primary that is down (during a
  /// failover, say) stops only the writes. Never throws for the store's sake: a store that does
  /// not answer is a reason.
  PRKL_EXPORT Readiness
  readiness(std::chrono::duration<double> max_replay_lag = std::chrono::seconds{30});

  /// The port codes a location stands for: the port itself, or every port of a region and of
  /// its sub-regions at any depth. Sorted. Throws NotFound when it is neither.
  PRKL_EXPORT std::vector<std::string> resolve(std::string_view location);

  /// Throws NotFound for an unknown code.
  PRKL_EXPORT Port port(std::string_view code);
  /// Every port of the region and its sub-regions, by code. Throws NotFound.
  PRKL_EXPORT std::vector<Port> ports_in_region(std::string_view slug);
  /// Ports whose code or name contains `text`, ignoring case (Unicode simple case folding for
  /// Latin, Greek and Cyrillic letters), by code; all ports when `text` is empty; only the ports
  /// of `region` (at any depth) when it is given. Throws NotFound for an unknown region.
  PRKL_EXPORT std::vector<Port> search_ports(std::string_view text, std::int64_t limit = 100,
                                             std::int64_t offset = 0, std::string_view region = {});
  /// The region forest, roots and children ordered by slug.
  PRKL_EXPORT std::vector<RegionNode> region_tree();

  /// Checks every row; returns every problem (empty when the batch is good). Does not write.
  PRKL_EXPORT std::vector<RowError> validate(const Batch& batch);
  /// Validates, then writes the whole batch in one transaction. Throws ValidationFailed with
  /// every bad row (nothing written), BatchConflict when the id was applied with other content.
  /// An id applied before returns its first result with `replayed` set.
  PRKL_EXPORT BatchResult apply(const Batch& batch, const Progress& progress = {});
  /// The same for the rows of batch `id` read from `rows` a chunk at a time (a CSV file as it is
  /// read: BatchCsvReader): memory holds a chunk of rows, and to apply them the prices they
  /// become, not the batch's rows.
  PRKL_EXPORT std::vector<RowError> validate(const std::string& id, BatchRowSource& rows);
  PRKL_EXPORT BatchResult apply(const std::string& id, BatchRowSource& rows,
                                const Progress& progress = {});

  /// The ledger's record of a batch id, with the exchange rates it converted prices at;
  /// nullopt when the id was never applied. Throws InvalidArgument for an id apply() refuses.
  PRKL_EXPORT std::optional<BatchResult> batch(std::string_view id);

  /// Reads exchange-rate files (see read_exchange_rates()) and stores them in one transaction.
  /// A day and currency stored before with another rate is refused, naming both rates, and
  /// nothing is stored, unless `replace` is set. Returns how many rates were new or changed.
  PRKL_EXPORT std::int64_t import_exchange_rates(const std::filesystem::path& path,
                                                 bool replace = false);
  /// Stores exchange rates the same way.
  PRKL_EXPORT std::int64_t save_exchange_rates(std::span<const ExchangeRate> rates,
                                               bool replace = false);

  /// The equipment codes prices may carry and answers may filter on, sorted.
  PRKL_EXPORT std::vector<std::string> equipment();
  /// Adds equipment codes (each four digits or capital letters; see check_equipment_code()) to
  /// the store's table, all or none. Returns how many were new.
  PRKL_EXPORT std::int64_t add_equipment(std::span<const std::string> codes);

  /// Loads a plain-SQL pg_dump file (see read_dump()) in one transaction, streaming: rows go
  /// to the store as they are read, so memory does not grow with the dump's prices (ports and
  /// regions, checked as a whole, are held; at most max_geography_rows of them). Every row is
  /// checked; a bad one (the first thousand are listed) or a malformed dump rolls the load back.
  /// Refuses a store that already holds data unless `replace` is set, in which case everything
  /// (batch ledger too) is replaced. `progress` hears the reading, in bytes.
  PRKL_EXPORT ImportSummary import_dump(const std::filesystem::path& path, bool replace = false,
                                        const Progress& progress = {});
  /// The same from a stream (standard input, a decompressor); `total_bytes` (0: unknown) is
  /// for `progress`.
  PRKL_EXPORT ImportSummary import_dump(std::istream& in, bool replace = false,
                                        const Progress& progress = {},
                                        std::int64_t total_bytes = 0);
  /// Loads a data set the same way (used by the sample generator). `progress` hears the
  /// writing, in prices.
  PRKL_EXPORT ImportSummary load(const Dataset& data, bool replace = false,
                                 const Progress& progress = {});
  /// Loads what `generator` makes the same way, a chunk at a time: memory does not grow with
  /// the prices or the contracts. `progress` hears the writing, in prices (total unknown).
  PRKL_EXPORT ImportSummary load(Generator& generator, bool replace = false,
                                 const Progress& progress = {});

 private:
  Database(std::unique_ptr<Store> store, std::unique_ptr<Store> read_store, Options options,
           std::shared_ptr<detail::SharedLaneDays> lane_days);
  /// Where the next read goes: the read store once it holds every write this process made
  /// through it (waiting for that up to Options::replica_wait after a write), else the write
  /// store.
  Store& reader();
  /// After a write: reads must not miss it.
  void note_write();
  /// `from`'s version; read with the other Databases sharing the copy when `from` is the store
  /// they all read from.
  StoreVersion version_of(Store& from);
  /// Reloads the cached geography if `from` says it changed; returns `from`'s version.
  StoreVersion refresh_geography(Store& from);
  const detail::Geography& geography(Store& from);
  /// Where batches are checked and written: the write store.
  detail::BatchTarget batch_target();
  /// Runs `feed` with a load into the write store, checked as it streams.
  template <typename Feed>
  ImportSummary loaded(bool replace, Feed feed, const Progress& progress = {},
                       std::int64_t total_prices = 0);

  std::unique_ptr<Store> store_;
  std::unique_ptr<Store> read_store_;
  /// How far the read store's connection (of this generation) was seen to have replayed.
  std::uint64_t replayed_ = 0;
  std::uint64_t replayed_generation_ = 0;
  Options options_;
  std::unique_ptr<detail::Geography> geography_;
  std::int64_t geography_generation_ = 0;
  std::shared_ptr<detail::SharedLaneDays> lane_days_;
  StoreVersion last_version_{};
};

}  // namespace prkl
