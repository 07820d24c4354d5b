#pragma once

/// \file
/// A deterministic generator of realistic sample data, for demos and scale tests.

#include <cstdint>

#include "prkl/model.hpp"

namespace prkl {

struct GeneratorOptions {
  std::uint64_t seed = 1;
  /// Number of ports, spread over a region tree of several levels.
  std::int64_t ports = 200;
  /// Number of origin/destination lanes that have prices.
  std::int64_t lanes = 2'000;
  /// Days of prices, starting at `first_day`.
  std::int64_t days = 31;
  Date first_day = Date{std::chrono::year{2024} / 1 / 1};
  /// Mean prices per lane and day; some lane-days get none, some many.
  std::int64_t prices_per_day = 3;
};

/// The same options give the same data on every platform and compiler.
Dataset generate(const GeneratorOptions& options);

}  // namespace prkl
