// SPDX-License-Identifier: MIT
#pragma once

// Questions that need prices answer from the store's rows or from the copy's prices: a test
// that checks such answers runs once each way.

#include <catch2/catch.hpp>
#include <prkl/options.hpp>

namespace prkl::test {

/// Options in two Catch sections: prices read from the store at each question
/// (Options::max_copied_prices = 0), and prices kept in the in-memory copy (the default).
inline Options store_or_copy(Options options = {}) {
  SECTION("prices read from the store") {
    options.max_copied_prices = 0;
  }
  SECTION("prices kept in the copy") {}
  return options;
}

}  // namespace prkl::test
