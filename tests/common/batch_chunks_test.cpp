// SPDX-License-Identifier: MIT
// A batch read a chunk of rows at a time is checked, numbered, converted and recognised exactly
// as the same rows given whole.
#include <catch2/catch.hpp>
#include <prkl/prkl.hpp>
#include <sstream>
#include <string>

#include "context.hpp"

using namespace prkl;

namespace {

Date day(std::string_view text) {
  return parse_date(text);
}

// Hands rows over three at a time, whatever is asked: the chunks never line up with anything.
class ThreeAtATime final : public BatchRowSource {
 public:
  explicit ThreeAtATime(std::vector<BatchRow> rows) : rows_(std::move(rows)) {}
  bool next(std::vector<BatchRow>& rows, std::size_t most) override {
    rows.clear();
    while (rows.size() < std::min<std::size_t>(most, 3) && at_ < rows_.size()) {
      rows.push_back(rows_[at_++]);
    }
    return !rows.empty();
  }

 private:
  std::vector<BatchRow> rows_;
  std::size_t at_ = 0;
};

Database world(const Options& options = {}) {
  auto db = Database::open(test::new_store_url(), OpenMode::create, options);
  Dataset d;
  d.regions = {{"world", "World", std::nullopt}};
  d.ports = {{"CNSHA", "Shanghai", "world"}, {"NOOSL", "Oslo", "world"}};
  db.load(d);
  const ExchangeRate rates[] = {{"EUR", day("2024-03-01"), 900'000'000'000},
                                {"EUR", day("2024-03-04"), 800'000'000'000}};
  db.save_exchange_rates(rates);
  return db;
}

// Ten rows: single days, a range, a contract and prices in euros across the chunks.
std::vector<BatchRow> good_rows() {
  std::vector<BatchRow> rows;
  for (int i = 0; i < 6; ++i) {
    rows.push_back(
        BatchRow::single("CNSHA", "NOOSL", day("2024-03-01") + std::chrono::days{i}, 100 + i));
  }
  rows.push_back(BatchRow{"CNSHA", "NOOSL", "", "2024-03-03", "2024-03-05", "450", 0, "EUR"});
  rows.push_back(BatchRow{"CNSHA", "NOOSL", "2024-03-02", "", "", "900", 0, "EUR"});
  BatchRow contract{"NOOSL", "CNSHA", "", "", "", "700", 0};
  contract.valid_from = "2024-03-01";
  contract.valid_to = "2024-03-31";
  rows.push_back(contract);
  rows.push_back(BatchRow::range("NOOSL", "CNSHA", day("2024-03-01"), day("2024-03-02"), 5));
  return rows;
}

}  // namespace

TEST_CASE("a batch in chunks is applied as the same rows given whole", "[conformance][batch]") {
  Database whole = world(), chunked = world();
  const BatchResult expected = whole.apply({"", good_rows()});
  ThreeAtATime source(good_rows());
  const BatchResult got = chunked.apply("", source);
  CHECK(got.batch_id == expected.batch_id);  // the content's digest, across chunks
  CHECK(got.rows == 10);
  CHECK(got.prices == expected.prices);
  CHECK(got.rates_used == expected.rates_used);
  const RatesQuery month{day("2024-03-01"), day("2024-03-31"), "world", "world", 1, 0};
  CHECK(chunked.rates(month) == whole.rates(month));
  // The same content again, whole, is recognised as the batch already applied.
  CHECK(chunked.apply({"", good_rows()}).replayed);
}

TEST_CASE("a batch in chunks is checked as the same rows given whole", "[conformance][batch]") {
  Options options;
  std::vector<BatchRow> rows = good_rows();
  SECTION("bad rows, numbered across the chunks") {
    rows[1].origin = "XXXXX";
    rows[4].price = "-3";
    rows[7].currency = "SEK";  // no rate was ever loaded for it
    rows[8].valid_to = "2024-02-01";
  }
  SECTION("more prices than the batch may hold, counted across the chunks") {
    options.max_batch_prices = 8;
  }
  Database db = world(options);
  const std::vector<RowError> expected = db.validate({"b", rows});
  REQUIRE_FALSE(expected.empty());
  ThreeAtATime source(rows);
  CHECK(db.validate("b", source) == expected);
  ThreeAtATime again(rows);
  try {
    db.apply("b", again);
    FAIL("a bad batch applied");
  } catch (const ValidationFailed& e) {
    CHECK(e.errors() == expected);
  }
  CHECK_FALSE(db.batch("b"));
}

TEST_CASE("a CSV batch read as it is applied stops at the row limit", "[conformance][batch]") {
  Database db = world();
  std::string csv = "origin,destination,day,price\n";
  for (int i = 0; i < 10'000; ++i) csv += "CNSHA,NOOSL,2024-03-01,100\n";
  std::istringstream in(csv);
  BatchCsvReader reader(in, "big.csv", 9'999);
  CHECK_THROWS_WITH(db.apply("big", reader),
                    Catch::StartsWith("big.csv: more than 9999 rows (line 10001 is one too many)"));
  CHECK_FALSE(db.batch("big"));
  std::istringstream all(csv);
  BatchCsvReader whole(all, "big.csv", 10'000);
  CHECK(db.apply("big", whole).prices == 10'000);
}
