// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// prkl::Options: the limits and timings a Database keeps. Every limit refuses a question or a
/// batch before any work, with an error naming the limit.

#include <chrono>
#include <cstdint>

#include "prkl/batch.hpp"
#include "prkl/store.hpp"

namespace prkl {

struct Options {
  /// Longest rates range, in days, that is answered; longer ones are refused, not run.
  std::int64_t max_range_days = 5 * 366;
  /// Highest price a batch may carry; higher is taken for a typo. Prices are whole dollars, and
  /// never more than a store's 32-bit price column holds, whatever this says.
  std::int64_t max_price = 1'000'000;
  /// Most prices one batch may write once its date ranges are expanded; a bigger batch is
  /// refused before anything is expanded or written, and a CSV reader given this limit stops
  /// reading at it. A batch given whole (Batch) costs about 400 bytes per row; one read as it
  /// is checked (BatchRowSource) holds a chunk of rows, and to be applied the prices it becomes
  /// (about 170 bytes each).
  std::int64_t max_batch_prices = default_max_batch_prices;
  /// Most contracts (rows with valid_from and valid_to) one batch may write; they do not count
  /// against max_batch_prices, however long they are valid.
  std::int64_t max_batch_contracts = default_max_batch_prices;
  /// How many days before a price's (or an answer's) day an exchange rate may be, when that
  /// day has none of its own; older is no rate at all.
  std::int64_t max_rate_age_days = 7;
  /// Most origin x destination pairs one rates_matrix call answers.
  std::int64_t max_matrix_lanes = 100;
  /// Most values one answer may hold: lanes x buckets x (the five of a day, plus one per
  /// percentile). A bigger question is refused with AnswerTooLarge before anything is read: a
  /// value costs about 50 bytes in memory and 15 in JSON, so the default keeps an answer, and a
  /// web worker that serves it, under 100 MB.
  std::int64_t max_answer_values = 1'000'000;
  /// Most prices a question with percentiles may hold in memory (each counted once per matrix
  /// cell it falls in); more is refused before any is read. 8 bytes each, plus what the store's
  /// client buffers.
  std::int64_t max_percentile_prices = 5'000'000;
  /// Most prices and contracts the in-memory copy keeps (16 bytes each, 20 a contract) so
  /// that questions needing prices (percentiles, the band, rank, filters) are answered without
  /// reading them from the store; it keeps a lane's once one is asked about, until it changes.
  /// Questions over lanes it has no room for read the store. 0 keeps none.
  std::int64_t max_copied_prices = 20'000'000;
  /// How long connecting to a PostgreSQL server (on open, and on reconnecting after a lost
  /// connection) may take before it fails with ConnectionLost, unless the URL sets its own
  /// `connect_timeout`. 0 waits for ever; libpq takes 1 as 2.
  std::chrono::seconds connect_timeout = default_connect_timeout;
  /// SQLite: how long a write waits for another connection's (or process's) write to finish
  /// before it fails with a StorageError saying so. 0 fails at once. PostgreSQL ignores it.
  std::chrono::milliseconds busy_timeout = default_busy_timeout;
  /// Most levels of the region tree, a root being level 1. Loading a deeper tree is refused
  /// naming the region row one level too deep; a store whose regions (written by other SQL)
  /// nest deeper, or in a cycle, is refused by every call that needs them. At most 256: every
  /// consumer of region_tree() (JSON encoders, Python) nests a level or two per region.
  std::int64_t max_region_depth = 64;
  /// With a read store (a standby): how long the first read after a write through this process
  /// waits for the standby to replay that write before it reads from the write store instead.
  /// Later reads do not wait: they read from the write store until the standby has caught up.
  std::chrono::milliseconds replica_wait{1'000};
};

}  // namespace prkl
