// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// A deterministic generator of realistic sample data, for demos and scale tests.

#include <cstdint>
#include <memory>
#include <vector>

#include "prkl/export.hpp"
#include "prkl/model.hpp"

namespace prkl {

/// The bounds of GeneratorOptions: beyond them the generator would run out of port codes, loop
/// or overflow.
inline constexpr std::int64_t max_generated_ports = 100'000;
inline constexpr std::int64_t max_generated_lanes = 10'000'000;
inline constexpr std::int64_t max_generated_days = 36'600;
inline constexpr std::int64_t max_generated_prices_per_day = 1'000;
/// Of lanes x days x prices_per_day, the mean number of prices made.
inline constexpr std::int64_t max_generated_prices = 100'000'000;

struct GeneratorOptions {
  std::uint64_t seed = 1;
  /// Number of ports, spread over a region tree of several levels: 2..max_generated_ports.
  std::int64_t ports = 200;
  /// Number of origin/destination lanes that have prices: 1..ports x (ports - 1), and at most
  /// max_generated_lanes.
  std::int64_t lanes = 2'000;
  /// Days of prices, starting at `first_day`: 1..max_generated_days, none after 9999-12-31.
  std::int64_t days = 31;
  Date first_day = Date{std::chrono::year{2024} / 1 / 1};
  /// Mean prices per lane and day, 1..max_generated_prices_per_day; some lane-days get none,
  /// some many.
  std::int64_t prices_per_day = 3;
  /// Give the prices the market's mix of dimensions (see add_dimensions): the same prices as
  /// without, each with an equipment code, a term and a received day.
  bool dimensions = false;
  /// Of the price rows drawn, this percentage (0..100) becomes a long-term contract instead:
  /// valid from the row's day for 90 to 365 days, one row counted on each of them.
  std::int64_t contracts_percent = 0;
};

/// The generator's data a chunk at a time, for data sets larger than memory: the regions and
/// ports whole (at most max_generated_ports), then the prices and the contracts drawn among
/// them in chunks. The same rows in the same order as generate(), whatever the chunk size;
/// memory is the chunk and the lanes (8 bytes each), not the data set.
class PRKL_EXPORT Generator {
 public:
  /// Throws InvalidArgument naming the option and its bounds when one is out of them.
  explicit Generator(const GeneratorOptions& options);
  ~Generator();
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;

  const std::vector<Region>& regions() const noexcept;
  const std::vector<Port>& ports() const noexcept;
  /// Replaces `prices` and `contracts` with the next `max_rows` rows drawn (fewer at the end;
  /// a contract is one of them); false, both empty, once every row was given.
  bool next(std::vector<Price>& prices, std::vector<Contract>& contracts, std::size_t max_rows);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// The whole data set at once (see Generator). The same options give the same data on every
/// platform and compiler. Throws InvalidArgument naming the option and its bounds when one is
/// out of them (see above).
PRKL_EXPORT Dataset generate(const GeneratorOptions& options);

}  // namespace prkl
