// SPDX-License-Identifier: MIT
// Database's loads: a data set, a generator's chunks or a dump streamed into the write store,
// each row checked as it passes (io/dataset's CheckedLoad), in one transaction.
#include <fstream>

#include "io/dataset.hpp"
#include "prkl/database.hpp"
#include "prkl/dump.hpp"
#include "prkl/generator.hpp"
#include "util/metrics.hpp"

namespace prkl {

ImportSummary Database::load(const Dataset& data, bool replace, const Progress& progress) {
  return loaded(
      replace, [&](detail::CheckedLoad& load) { return load.load(data); }, progress,
      std::int64_t(data.prices.size()));
}

ImportSummary Database::load(Generator& generator, bool replace, const Progress& progress) {
  return loaded(
      replace, [&](detail::CheckedLoad& load) { return load.load(generator); }, progress);
}

ImportSummary Database::import_dump(const std::filesystem::path& path, bool replace,
                                    const Progress& progress) {
  std::int64_t size = 0;
  std::ifstream in = detail::open_dump(path, size);
  return import_dump(in, replace, progress, size);
}

ImportSummary Database::import_dump(std::istream& in, bool replace, const Progress& progress,
                                    std::int64_t total_bytes) {
  return loaded(replace, [&](detail::CheckedLoad& load) {
    read_dump(in, load, progress, total_bytes);
    return load.finish();
  });
}

template <typename Feed>
ImportSummary Database::loaded(bool replace, Feed feed, const Progress& progress,
                               std::int64_t total_prices) {
  return detail::measured(detail::Operation::load, [&]() -> ImportSummary {
    const auto loader = store_->begin_load(replace ? LoadMode::replace : LoadMode::into_empty);
    detail::CheckedLoad load(*loader, options_, progress, total_prices);
    const ImportSummary summary = feed(load);
    note_write();
    return summary;
  });
}

}  // namespace prkl
