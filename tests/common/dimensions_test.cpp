// SPDX-License-Identifier: MIT
// Prices' dimensions on every backend: equipment, term and received stored with a price, the
// filters every answer takes checked against PostgreSQL's own aggregates over the rows a WHERE
// keeps, the store's table of equipment codes, and the typed errors of bad filters and rows.

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <catch2/catch.hpp>
#include <prkl/prkl.hpp>

#include "context.hpp"
#include "postgres_server.hpp"
#include "price_source.hpp"
#include "reference.hpp"

using namespace prkl;

namespace {

Date day(std::string_view text) {
  return parse_date(text);
}

// Generated prices with every mix of dimensions: some without equipment, term or received (as
// an adopted ratestask row), received up to 119 days before the price's day.
Dataset dimensioned_data() {
  GeneratorOptions options;
  options.seed = 11;
  options.ports = 40;
  options.lanes = 300;
  options.days = 40;
  options.first_day = day("2024-01-01");
  Dataset data = generate(options);
  const char* codes[] = {"20DC", "40DC", "40HC", "20RE"};
  for (std::size_t i = 0; i < data.prices.size(); ++i) {
    Price& p = data.prices[i];
    if (i % 5 != 0) p.equipment = codes[i % 4];
    if (i % 3 != 2) p.term = i % 3 == 0 ? Term::short_term : Term::long_term;
    if (i % 4 != 0) p.received = p.day - std::chrono::days(std::int64_t(i * 7 % 120));
  }
  return data;
}

const std::vector<PriceFilter> filters = {
    {{"40HC"}, {}, {}}, {{"40HC", "20DC"}, Term::long_term, {}}, {{}, Term::short_term, {}},
    {{}, {}, 30},       {{"20DC"}, Term::short_term, 60},
};

}  // namespace

TEST_CASE("a filtered answer is PostgreSQL's over the rows the filter keeps",
          "[conformance][dimensions][reference]") {
  const Dataset data = dimensioned_data();
  Database db = Database::open(test::new_store_url(), OpenMode::create, test::store_or_copy());
  db.load(data);
  const std::string reference = test::new_postgres_url();
  Database::open(reference, OpenMode::create).load(data);
  const Date from = day("2024-01-03"), to = day("2024-02-06");
  const std::string port = data.prices.front().origin;
  for (const PriceFilter& filter : filters) {
    for (const auto& [origin, destination] :
         {std::pair<std::string, std::string>{"world", "world"}, {port, "world"}}) {
      INFO(origin << " -> " << destination << ", " << test::describe(filter));
      const auto sql = [&](const std::string& columns) {
        return test::reference_sql(origin, destination, from, to, filter, columns);
      };
      const auto band = test::reference_rows(reference, sql(test::band_columns()));
      REQUIRE(!band.empty());
      MarketQuery m{from, to, origin, destination, 1, 3};
      m.filter = filter;
      CHECK(test::band_rows(db, m) == band);
      RatesQuery r{from, to, origin, destination, 1, 3};
      r.filter = filter;
      CHECK(test::rate_rows(db, r) == test::reference_rows(reference, sql(test::rate_columns())));
      const std::string price = band.front()[4];  // a median: ties and interpolations
      RankQuery k{from, to, origin, destination, parse_decimal(price)};
      k.filter = filter;
      CHECK(test::rank_rows(db, k) ==
            test::reference_rows(reference, sql(test::rank_columns(price))));
    }
  }
  // No filter is every price, dimensioned or not: the aggregates' answer.
  RatesQuery all{from, to, "world", "world", 1, 3};
  std::int64_t total = 0;
  for (const RateDay& d : db.rates(all)) total += d.count;
  const auto counted = test::postgres_sql(
      reference, fmt::format("SELECT count(*)::text FROM prices WHERE day BETWEEN '{}' AND '{}'",
                             format_date(from), format_date(to)));
  CHECK(std::to_string(total) == counted.at(0).at(0).value());
}

TEST_CASE("a filter's bad value is an InvalidArgument naming it, on every question",
          "[conformance][dimensions]") {
  Database db = Database::open(test::new_store_url(), OpenMode::create);
  db.load(dimensioned_data());
  const Date from = day("2024-01-03"), to = day("2024-01-09");
  const auto refused = [&](const PriceFilter& filter, const std::string& named) {
    INFO(named);
    RatesQuery r{from, to, "world", "world"};
    r.filter = filter;
    CHECK_THROWS_WITH(db.rates(r), Catch::Contains(named));
    MarketQuery m{from, to, "world", "world"};
    m.filter = filter;
    CHECK_THROWS_AS(db.market(m), InvalidArgument);
    RankQuery k{from, to, "world", "world", Decimal{100, 0}};
    k.filter = filter;
    CHECK_THROWS_AS(db.rank(k), InvalidArgument);
    MatrixQuery x{from, to, {"world"}, {"world"}, RatesOptions{}};
    x.options.filter = filter;
    CHECK_THROWS_AS(db.rates_matrix(x), InvalidArgument);
  };
  refused({{"45XX"}, {}, {}}, "'45XX'");  // well formed, but not in the store's table
  refused({{"40hc"}, {}, {}}, "'40hc'");  // codes are capitals
  refused({{"40HC", ""}, {}, {}}, "''");
  refused({{}, {}, -1}, "-1");
  refused({{}, {}, max_age_limit + 1}, std::to_string(max_age_limit + 1));
  CHECK_THROWS_WITH(parse_term("medium"), Catch::Contains("'medium'"));
  CHECK_THROWS_AS(parse_term("Short"), InvalidArgument);
}

TEST_CASE("batch rows carry dimensions; a bad one is a row error and nothing is written",
          "[conformance][dimensions]") {
  Database db = Database::open(test::new_store_url(), OpenMode::create);
  Dataset d;
  d.regions = {{"world", "World", std::nullopt}};
  d.ports = {{"CNSHA", "Shanghai", "world"}, {"NOOSL", "Oslo", "world"}};
  db.load(d);
  const auto row = [](std::string price, std::string equipment, std::string term,
                      std::string received) {
    BatchRow r = BatchRow::single("CNSHA", "NOOSL", day("2024-03-10"), 0);
    r.price = std::move(price);
    r.equipment = std::move(equipment);
    r.term = std::move(term);
    r.received = std::move(received);
    return r;
  };
  Batch bad{"bad",
            {row("100", "40HC", "short", "2024-03-01"), row("200", "99ZZ", "", ""),
             row("300", "", "medium", ""), row("400", "", "", "2024-3-1"),
             row("500", "", "", "2024-03-11")}};
  try {
    db.apply(bad);
    FAIL("applied");
  } catch (const ValidationFailed& e) {
    // Row 5, received after its day (a price reported late), is not an error.
    std::vector<std::int64_t> rows;
    std::string all;
    for (const RowError& error : e.errors()) {
      rows.push_back(error.row);
      all += error.message + "\n";
    }
    CHECK(rows == std::vector<std::int64_t>{2, 3, 4});
    CHECK_THAT(all, Catch::Contains("'99ZZ'") && Catch::Contains("'medium'") &&
                        Catch::Contains("'2024-3-1'"));
  }
  CHECK(db.rates({day("2024-03-10"), day("2024-03-10"), "world", "world", 1}).at(0).count == 0);

  Batch good{"good",
             {row("100", "40HC", "short", "2024-03-01"), row("200", "40HC", "long", ""),
              row("300", "20DC", "", "2024-01-01"), row("400", "", "", "")}};
  CHECK(db.apply(good).prices == 4);
  const auto count = [&](const PriceFilter& filter) {
    RatesQuery q{day("2024-03-10"), day("2024-03-10"), "CNSHA", "NOOSL", 1};
    q.filter = filter;
    return db.rates(q).at(0).count;
  };
  CHECK(count({}) == 4);
  CHECK(count({{"40HC"}, {}, {}}) == 2);
  CHECK(count({{"40HC"}, Term::long_term, {}}) == 1);
  CHECK(count({{}, {}, 9}) == 3);  // received 2024-03-01 is 9 days before; 2024-01-01 is 69
  CHECK(count({{}, {}, 8}) == 2);  // the two priced on their own day
  CHECK(count({{}, {}, 69}) == 4);

  // A code the store did not know becomes one a row may carry once added.
  Batch later{"later", {row("700", "45G1", "", "")}};
  CHECK_THROWS_AS(db.apply(later), ValidationFailed);
  CHECK_THROWS_WITH(db.add_equipment(std::vector<std::string>{"45G1", "bad"}),
                    Catch::Contains("'bad'"));
  CHECK(db.add_equipment(std::vector<std::string>{"45G1", "40HC"}) == 1);
  const auto codes = db.equipment();
  CHECK(std::is_sorted(codes.begin(), codes.end()));
  CHECK(std::count(codes.begin(), codes.end(), "45G1") == 1);
  CHECK(codes.size() == std::size(default_equipment) + 1);
  CHECK(db.apply(later).prices == 1);
  CHECK(count({{"45G1"}, {}, {}}) == 1);
}
