// SPDX-License-Identifier: MIT
// Richer answers on every backend: percentiles, week and month buckets, matrices and
// currencies, checked against PostgreSQL's own SQL (percentile_cont, date_trunc) on the test
// server and against conversions worked out by hand.

#include <fmt/format.h>

#include <unistd.h>
#include <cmath>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <prkl/prkl.hpp>

#include "context.hpp"
#include "hooked_store.hpp"
#include "postgres_server.hpp"
#include "price_source.hpp"

using namespace prkl;

namespace {

Date day(std::string_view text) {
  return parse_date(text);
}

// The data in a plain PostgreSQL database, where the reference SQL runs on plain tables.
struct Reference {
  std::string url = test::new_postgres_url();

  explicit Reference(const Dataset& data) { Database::open(url, OpenMode::create).load(data); }

  // One row per bucket: label, count, average, min, max, the average as the operations-task
  // app gives it (`float(AVG(price))`, the double nearest PostgreSQL's numeric average), then
  // each percentile, as PostgreSQL computes and prints them.
  std::vector<std::vector<std::string>> answer(const RatesQuery& q) const {
    const std::string unit = std::string(to_string(q.bucket));
    const auto text = [&](std::string_view expression) {
      return fmt::format("CASE WHEN count(p.price) >= {} THEN {}::text ELSE 'null' END",
                         q.min_count, expression);
    };
    std::string columns = fmt::format(
        "b.b::text, count(p.price)::text, {}, coalesce(min(p.price)::text, 'null'), "
        "coalesce(max(p.price)::text, 'null'), {}",
        text(fmt::format("round(avg(p.price), {})", q.scale)), text("avg(p.price)"));
    for (const double percent : q.percentiles) {
      columns += ", " + text(fmt::format("round((percentile_cont({} / 100.0) WITHIN GROUP (ORDER "
                                         "BY p.price))::numeric, {})",
                                         percent, q.scale));
    }
    const std::string sql = fmt::format(R"(
WITH RECURSIVE
  o_regions AS (SELECT slug FROM regions WHERE slug = '{0}'
                UNION SELECT r.slug FROM regions r JOIN o_regions o ON r.parent_slug = o.slug),
  d_regions AS (SELECT slug FROM regions WHERE slug = '{1}'
                UNION SELECT r.slug FROM regions r JOIN d_regions d ON r.parent_slug = d.slug),
  o_ports AS (SELECT code FROM ports WHERE code = '{0}' OR parent_slug IN (SELECT slug FROM o_regions)),
  d_ports AS (SELECT code FROM ports WHERE code = '{1}' OR parent_slug IN (SELECT slug FROM d_regions)),
  buckets AS (SELECT DISTINCT date_trunc('{4}', d)::date AS b
              FROM generate_series(DATE '{2}', DATE '{3}', interval '1 day') AS d),
  p AS (SELECT date_trunc('{4}', day)::date AS b, price FROM prices
        WHERE day BETWEEN '{2}' AND '{3}'
          AND orig_code IN (SELECT code FROM o_ports) AND dest_code IN (SELECT code FROM d_ports))
SELECT {5} FROM buckets b LEFT JOIN p ON p.b = b.b GROUP BY b.b ORDER BY b.b)",
                                        q.origin, q.destination, format_date(q.date_from),
                                        format_date(q.date_to), unit, columns);
    std::vector<std::vector<std::string>> out;
    for (const auto& row : test::postgres_sql(url, sql)) {
      auto& line = out.emplace_back();
      for (const auto& value : row) line.push_back(value.value_or("NULL"));
      if (line[5] != "null") line[5] = fmt::format("{}", std::strtod(line[5].c_str(), nullptr));
    }
    return out;
  }
};

// Two ports in one region, for the small hand-worked cases.
Dataset shanghai_oslo() {
  Dataset d;
  d.regions = {{"world", "World", std::nullopt}};
  d.ports = {{"CNSHA", "Shanghai", "world"}, {"NOOSL", "Oslo", "world"}};
  return d;
}

std::vector<std::vector<std::string>> as_rows(const std::vector<RateDay>& days) {
  std::vector<std::vector<std::string>> out;
  const auto text = [](const auto& v) { return v ? fmt::format("{}", *v) : "null"; };
  for (const RateDay& d : days) {
    auto& line = out.emplace_back();
    line = {format_date(d.day),
            std::to_string(d.count),
            d.average ? d.average->to_string() : "null",
            text(d.min),
            text(d.max),
            text(d.average_double)};
    for (const Percentile& p : d.percentiles) {
      line.push_back(p.value ? p.value->to_string() : "null");
    }
  }
  return out;
}

// Questions that start mid-week and mid-month and cross a month end, at three scales. At scale 2
// a whole percentile's exact value is already a 2-digit decimal, and at scale 3 one of tenths
// (0.1, 2.5, 99.9) is a 3-digit one: nothing is rounded, so PostgreSQL's double-precision
// percentile_cont, printed at 15 digits, must give the same.
void check_against_reference(Database& db, const Reference& reference,
                             const std::vector<std::pair<std::string, std::string>>& lanes,
                             Date from, Date to) {
  for (const auto& [origin, destination] : lanes) {
    for (const Bucket bucket : {Bucket::day, Bucket::week, Bucket::month}) {
      for (const auto& [scale, percentiles] :
           {std::pair{0, std::vector<double>{25, 50, 75}},
            std::pair{2, std::vector<double>{1, 10, 33, 50, 90, 99}},
            std::pair{3, std::vector<double>{0.1, 2.5, 25, 50, 75, 97.5, 99.9}}}) {
        RatesQuery q{from, to, origin, destination, 3, scale, bucket, percentiles};
        INFO(origin << " -> " << destination << " by " << to_string(bucket) << " at scale "
                    << scale);
        const auto expected = reference.answer(q);
        CHECK(as_rows(db.rates(q)) == expected);
        // Without percentiles the answer comes from the aggregates: the same figures.
        q.percentiles.clear();
        auto without = expected;
        for (auto& row : without) row.resize(6);
        CHECK(as_rows(db.rates(q)) == without);
      }
    }
  }
}

}  // namespace

TEST_CASE("percentiles and week and month buckets match PostgreSQL's SQL on generated data",
          "[conformance][answers][reference]") {
  GeneratorOptions options;
  options.seed = 11;
  options.ports = 80;
  options.lanes = 600;
  options.days = 75;
  options.first_day = day("2024-01-01");
  const Dataset data = generate(options);
  Database db = Database::open(test::new_store_url(), OpenMode::create);
  db.load(data);
  const Reference reference(data);
  const std::string busy_origin = data.prices.front().origin;
  check_against_reference(db, reference,
                          {{"world", "world"},
                           {"china", "north_europe"},
                           {busy_origin, "world"},
                           {busy_origin, data.prices.front().destination}},
                          day("2024-01-10"), day("2024-03-13"));
}

TEST_CASE("percentiles and buckets match PostgreSQL's SQL on the real dump",
          "[conformance][answers][reference][xeneta]") {
  const Dataset data = read_dump(test::xeneta_dir() / "ratestask-2016.sql");
  Database db = Database::open(test::new_store_url(), OpenMode::create);
  db.load(data);
  const Reference reference(data);
  // Jan 4 holds the dump's one price of 100500, which drags the average but not the median.
  check_against_reference(db, reference,
                          {{"china_main", "northern_europe"}, {"CNSGH", "north_europe_main"}},
                          day("2016-01-03"), day("2016-02-10"));
  // A matrix over the same lanes gives each pair the reference's answer.
  const std::vector<std::string> origins = {"china_main", "CNSGH"};
  const std::vector<std::string> destinations = {"northern_europe", "north_europe_main", "NLRTM"};
  for (const auto& percentiles : {std::vector<double>{}, std::vector<double>{50, 90}}) {
    const auto lanes = db.rates_matrix({day("2016-01-03"),
                                        day("2016-02-10"),
                                        origins,
                                        destinations,
                                        {3, 2, Bucket::week, percentiles}});
    REQUIRE(lanes.size() == 6);
    for (const LaneRates& lane : lanes) {
      INFO(lane.origin << " -> " << lane.destination);
      CHECK(as_rows(lane.days) ==
            reference.answer({day("2016-01-03"), day("2016-02-10"), lane.origin, lane.destination,
                              3, 2, Bucket::week, percentiles}));
    }
  }
}

TEST_CASE("buckets: labels, partial edges and empty buckets", "[conformance][answers]") {
  Database db = Database::open(test::new_store_url(), OpenMode::create);
  Dataset d = shanghai_oslo();
  // Sunday 2024-03-03 ends ISO week 9; prices before the range must not count.
  d.prices = {{"CNSHA", "NOOSL", day("2024-02-26"), 1},  {"CNSHA", "NOOSL", day("2024-03-01"), 10},
              {"CNSHA", "NOOSL", day("2024-03-03"), 20}, {"CNSHA", "NOOSL", day("2024-03-04"), 30},
              {"CNSHA", "NOOSL", day("2024-03-31"), 40}, {"CNSHA", "NOOSL", day("2024-05-02"), 50}};
  db.load(d);
  RatesQuery q{day("2024-02-28"), day("2024-05-01"), "CNSHA", "NOOSL", 1, 0, Bucket::month};
  const auto months = db.rates(q);
  REQUIRE(months.size() == 4);
  CHECK(format_date(months[0].day) == "2024-02-01");  // labelled by the 1st, though the range
  CHECK(months[0].count == 0);                        // starts on the 28th
  CHECK(months[1].count == 4);
  CHECK(months[1].average == Decimal{25, 0});
  CHECK(months[2].count == 0);
  CHECK_FALSE(months[2].average);
  CHECK(format_date(months[3].day) == "2024-05-01");
  CHECK(months[3].count == 0);  // May 2 is after the range

  q.bucket = Bucket::week;
  q.date_from = day("2024-02-27");
  q.date_to = day("2024-03-04");
  const auto weeks = db.rates(q);
  REQUIRE(weeks.size() == 2);
  CHECK(format_date(weeks[0].day) == "2024-02-26");  // a Monday before the range
  CHECK(weeks[0].count == 2);                        // the 26th's price is outside it
  CHECK(format_date(weeks[1].day) == "2024-03-04");
  CHECK(weeks[1].count == 1);
  CHECK(bucket_start(Bucket::week, day("2024-03-03")) == day("2024-02-26"));
  CHECK(bucket_start(Bucket::week, day("2024-03-04")) == day("2024-03-04"));
  CHECK(bucket_start(Bucket::month, day("2024-02-29")) == day("2024-02-01"));
  CHECK(parse_bucket("week") == Bucket::week);
  CHECK_THROWS_MATCHES(
      parse_bucket("fortnight"), InvalidArgument,
      Catch::Matchers::Message("unknown bucket 'fortnight' (expected day, week or month)"));
}

TEST_CASE("a matrix answers each pair as rates() does, and refuses more than the limit",
          "[conformance][answers]") {
  GeneratorOptions options;
  options.seed = 3;
  options.ports = 60;
  options.lanes = 300;
  options.days = 20;
  const Dataset data = generate(options);
  Options limits;
  limits.max_matrix_lanes = 6;
  const std::string url = test::new_store_url();
  Database db = Database::open(url, OpenMode::create, limits);
  db.load(data);
  const Date from = options.first_day + std::chrono::days{2};
  const Date to = from + std::chrono::days{15};
  const std::vector<std::string> origins = {"china", data.prices.front().origin};
  const std::vector<std::string> destinations = {"world", "north_europe",
                                                 data.prices.back().destination};
  for (const auto& percentiles : {std::vector<double>{}, std::vector<double>{50, 90}}) {
    const RatesOptions shared{2, 1, Bucket::week, percentiles};
    const auto lanes = db.rates_matrix({from, to, origins, destinations, shared});
    REQUIRE(lanes.size() == 6);
    for (std::size_t i = 0; i < lanes.size(); ++i) {
      const LaneRates& lane = lanes[i];
      CHECK(lane.origin == origins[i / 3]);
      CHECK(lane.destination == destinations[i % 3]);
      CHECK(lane.days ==
            db.rates({from, to, lane.origin, lane.destination, 2, 1, Bucket::week, percentiles}));
    }
  }
  CHECK_THROWS_MATCHES(
      db.rates_matrix({from, to, {"china", "world", "europe"}, destinations, {}}), InvalidArgument,
      Catch::Matchers::Message(
          "3 origins x 3 destinations is 9 lanes, more than the maximum of 6 per call"));
  CHECK_THROWS_AS(db.rates_matrix({from, to, {}, destinations, {}}), InvalidArgument);
  CHECK_THROWS_MATCHES(db.rates_matrix({from, to, {"china", "world", "china"}, {"world"}, {}}),
                       InvalidArgument, Catch::Matchers::Message("origin 'china' is given twice"));

  // Percentiles hold their prices in memory, once per cell: the copy counts them first.
  Options small = limits;
  small.max_percentile_prices = 100;
  Database capped = Database::open(url, OpenMode::existing, small);
  const RatesOptions median{3, 0, Bucket::day, {50}};
  CHECK_THROWS_WITH(capped.rates_matrix({from, to, {"world"}, {"world"}, median}),
                    Catch::StartsWith("percentiles over ") &&
                        Catch::Contains("more than the maximum of 100 "
                                        "(Options::max_percentile_prices)"));
  CHECK_NOTHROW(capped.rates_matrix({from, to, {"world"}, {"world"}, {}}));
  Options bad = limits;
  bad.max_rate_age_days = -1;
  CHECK_THROWS_MATCHES(
      Database::open(url, OpenMode::existing, bad), InvalidArgument,
      Catch::Matchers::Message("Options::max_rate_age_days is -1, outside 0..3660"));
  CHECK_THROWS_MATCHES(
      db.rates_matrix({from, to, {"china"}, {"atlantis"}, {}}), NotFound,
      Catch::Matchers::Message("unknown location 'atlantis': not a port code or region slug"));
}

TEST_CASE("bad percentiles are typed errors that name the value", "[conformance][answers]") {
  Database db = Database::open(test::new_store_url(), OpenMode::create);
  Dataset d = shanghai_oslo();
  db.load(d);
  const auto ask = [&](std::vector<double> percentiles) {
    return db.rates({day("2024-03-01"), day("2024-03-02"), "CNSHA", "NOOSL", 3, 0, Bucket::day,
                     std::move(percentiles)});
  };
  using Catch::Matchers::Message;
  CHECK_THROWS_MATCHES(ask({0}), InvalidArgument,
                       Message("percentile 0 is not strictly between 0 and 100"));
  CHECK_THROWS_MATCHES(ask({50, 100}), InvalidArgument,
                       Message("percentile 100 is not strictly between 0 and 100"));
  CHECK_THROWS_MATCHES(ask({-2.5}), InvalidArgument,
                       Message("percentile -2.5 is not strictly between 0 and 100"));
  CHECK_THROWS_MATCHES(ask({std::nan("")}), InvalidArgument,
                       Message("percentile nan is not strictly between 0 and 100"));
  CHECK_THROWS_MATCHES(ask({100.0 / 3}), InvalidArgument,
                       Message("percentile 33.333333333333336 has more than 6 fraction digits"));
  CHECK_THROWS_MATCHES(ask({1e-7}), InvalidArgument,
                       Message("percentile 1e-07 has more than 6 fraction digits"));
  CHECK_THROWS_MATCHES(ask({50, 50}), InvalidArgument, Message("percentile 50 is asked for twice"));
  CHECK_THROWS_MATCHES(ask({2.5, 2.5}), InvalidArgument,
                       Message("percentile 2.5 is asked for twice"));
  const auto days = ask({50, 99.999999});
  REQUIRE(days.size() == 2);
  CHECK(days[0].percentiles ==
        std::vector<Percentile>{{50, std::nullopt}, {99.999999, std::nullopt}});
}

TEST_CASE("percentiles of any fraction interpolate exactly between the closest ranks",
          "[conformance][answers]") {
  Database db = Database::open(test::new_store_url(), OpenMode::create);
  Dataset d = shanghai_oslo();
  db.load(d);
  // 101 prices on one day: 0, 10, ..., 1000; rank p/100 * 100 = p.
  Batch batch{"ramp", {}};
  for (int i = 0; i <= 100; ++i)
    batch.rows.push_back(BatchRow::single("CNSHA", "NOOSL", day("2024-03-01"), 1 + 10 * i));
  db.apply(batch);
  const auto days = db.rates({day("2024-03-01"),
                              day("2024-03-01"),
                              "CNSHA",
                              "NOOSL",
                              3,
                              3,
                              Bucket::day,
                              {0.1, 2.5, 50, 97.5, 99.999999}});
  REQUIRE(days.size() == 1);
  std::vector<std::string> values;
  for (const Percentile& p : days[0].percentiles) values.push_back(p.value->to_string());
  // 1 + 10 * rank: 2, 26, 501, 976, 1000.99999 -> 1001.000 at scale 3.
  CHECK(values == std::vector<std::string>{"2.000", "26.000", "501.000", "976.000", "1001.000"});
}

namespace {

// A small world for currency tests, with EUR and GBP rates on some days.
Database currency_db() {
  Database db = Database::open(test::new_store_url(), OpenMode::create);
  Dataset d = shanghai_oslo();
  db.load(d);
  const ExchangeRate rates[] = {{"EUR", day("2024-03-01"), 900'000'000'000},
                                {"EUR", day("2024-03-04"), 800'000'000'000},
                                {"GBP", day("2024-03-02"), 750'000'000'000}};
  CHECK(db.save_exchange_rates(rates) == 3);
  return db;
}

}  // namespace

TEST_CASE("prices in other currencies are stored in USD at their own day's rate",
          "[conformance][answers][currency]") {
  Database db = currency_db();
  Batch batch{"eur-1",
              {BatchRow{"CNSHA", "NOOSL", "2024-03-02", "", "", "900", 0, "EUR"},
               BatchRow{"CNSHA", "NOOSL", "", "2024-03-03", "2024-03-04", "450", 0, "EUR"},
               BatchRow{"CNSHA", "NOOSL", "2024-03-05", "", "", "100", 0, "EUR"},
               BatchRow{"CNSHA", "NOOSL", "2024-03-05", "", "", "3", 0, "GBP"},
               BatchRow{"CNSHA", "NOOSL", "2024-03-05", "", "", "777", 0, ""},
               BatchRow{"CNSHA", "NOOSL", "2024-03-05", "", "", "778", 0, "USD"}}};
  const BatchResult result = db.apply(batch);
  CHECK(result.prices == 7);
  // 900 / 0.9 = 1000; 450 / 0.9 = 500 (Mar 3 uses Mar 1's rate); 450 / 0.8 = 562.5 -> 563;
  // 100 / 0.8 = 125; 3 / 0.75 = 4.
  const auto day_of = [&](std::string_view d) {
    const auto rates = db.rates({day(d), day(d), "CNSHA", "NOOSL", 1});
    return std::tuple{rates[0].count, rates[0].min, rates[0].max, rates[0].average};
  };
  CHECK(day_of("2024-03-02") == std::tuple{1, 1000, 1000, std::optional<Decimal>{{1000, 0}}});
  CHECK(day_of("2024-03-03") == std::tuple{1, 500, 500, std::optional<Decimal>{{500, 0}}});
  CHECK(day_of("2024-03-04") == std::tuple{1, 563, 563, std::optional<Decimal>{{563, 0}}});
  const auto fifth = db.rates(
      {day("2024-03-05"), day("2024-03-05"), "CNSHA", "NOOSL", 1, 0, Bucket::day, {1, 99}});
  CHECK(fifth[0].count == 4);
  CHECK(fifth[0].min == 4);
  CHECK(fifth[0].max == 778);
  CHECK(fifth[0].average == Decimal{421, 0});  // (125 + 4 + 777 + 778) / 4 = 421

  const std::vector<ExchangeRate> used = {{"EUR", day("2024-03-01"), 900'000'000'000},
                                          {"EUR", day("2024-03-04"), 800'000'000'000},
                                          {"GBP", day("2024-03-02"), 750'000'000'000}};
  CHECK(result.rates_used == used);
  const auto ledger = db.batch("eur-1");
  REQUIRE(ledger);
  CHECK(ledger->rates_used == used);
  CHECK(ledger->prices == 7);
  CHECK_FALSE(db.batch("never"));
  // The same rows again replay, even once a newer rate has arrived for one of their days: a
  // batch is named by its amounts, not by the dollars they became.
  const ExchangeRate newer[] = {{"EUR", day("2024-03-05"), 700'000'000'000}};
  db.save_exchange_rates(newer);
  const BatchResult again = db.apply(batch);
  CHECK(again.replayed);
  CHECK(again.rates_used == used);
  CHECK(db.rates({day("2024-03-05"), day("2024-03-05"), "CNSHA", "NOOSL", 1})[0].count == 4);
}

TEST_CASE("bad currencies and missing rates are row errors, and nothing is written",
          "[conformance][answers][currency]") {
  Options options;
  options.max_price = 2000;
  Database db = Database::open(test::new_store_url(), OpenMode::create, options);
  Dataset d = shanghai_oslo();
  db.load(d);
  const ExchangeRate rates[] = {{"EUR", day("2024-03-01"), 900'000'000'000}};
  db.save_exchange_rates(rates);
  Batch batch{"bad-fx",
              {BatchRow{"CNSHA", "NOOSL", "2024-03-02", "", "", "900", 0, "EUR"},
               BatchRow{"CNSHA", "NOOSL", "2024-03-02", "", "", "900", 0, "eur"},
               BatchRow{"CNSHA", "NOOSL", "2024-03-02", "", "", "900", 0, "XYZ"},
               BatchRow{"CNSHA", "NOOSL", "2024-02-28", "", "", "900", 0, "EUR"},
               BatchRow{"CNSHA", "NOOSL", "", "2024-03-07", "2024-03-09", "900", 0, "EUR"},
               BatchRow{"CNSHA", "NOOSL", "2024-03-02", "", "", "1900", 0, "EUR"},
               BatchRow{"CNSHA", "NOOSL", "2024-03-02", "", "", "9000000000000000000", 0, "EUR"}}};
  const std::vector<RowError> expected{
      {2, "currency", "currency 'eur' is not an ISO 4217 code (three capital letters)"},
      {3, "currency",
       "unknown currency 'XYZ': no exchange rate was ever loaded for it (prkl fx import)"},
      {4, "currency", "no EUR exchange rate for 2024-02-28 or the 7 days before it"},
      {5, "currency", "no EUR exchange rate for 2024-03-09 or the 7 days before it"},
      {6, "price",
       "price 1900 EUR on 2024-03-02 is 2111 USD at 0.9 EUR per USD, above the maximum of "
       "2000"},
      {7, "price",
       "price 9000000000000000000 EUR on 2024-03-02 is too large once converted to USD at 0.9 "
       "EUR per USD"}};
  CHECK(db.validate(batch) == expected);
  CHECK_THROWS_AS(db.apply(batch), ValidationFailed);
  CHECK_FALSE(db.batch("bad-fx"));
  CHECK(db.rates({day("2024-03-01"), day("2024-03-09"), "world", "world", 1})[1].count == 0);
}

TEST_CASE("answers in another currency convert each day at its own rate",
          "[conformance][answers][currency]") {
  Database db = currency_db();
  db.apply({"usd",
            {BatchRow::single("CNSHA", "NOOSL", day("2024-03-03"), 1000),
             BatchRow::single("CNSHA", "NOOSL", day("2024-03-03"), 1001),
             BatchRow::single("CNSHA", "NOOSL", day("2024-03-04"), 1000),
             BatchRow::single("CNSHA", "NOOSL", day("2024-03-20"), 1000)}});
  RatesQuery q{day("2024-03-02"), day("2024-03-04"), "CNSHA", "NOOSL", 1, 2};
  q.currency = "EUR";
  const auto days = db.rates(q);
  REQUIRE(days.size() == 3);
  CHECK(days[0].count == 0);
  // Mar 3 at Mar 1's 0.9: 900 and 900.9, average 900.45; Mar 4 at 0.8: 800.
  CHECK(days[1].average == Decimal{90045, 2});
  CHECK(days[1].min == 900);
  CHECK(days[1].max == 901);  // 900.9, rounded half away from zero to whole euros
  CHECK(days[2].average == Decimal{80000, 2});
  // The unrounded average as a double: 900.45 is exact, so the double is the literal's.
  CHECK(days[1].average_double == 900.45);
  // A month converts each day at its own rate before summing: (900 + 900.9 + 800) / 3 =
  // 866.966..., and its median is Mar 3's 900.
  q.bucket = Bucket::month;
  q.percentiles = {50};
  const auto month = db.rates(q);
  REQUIRE(month.size() == 1);
  CHECK(month[0].average == Decimal{86697, 2});
  CHECK(month[0].average_double == 26009.0 / 30.0);  // both exact: IEEE rounds the quotient once
  CHECK(month[0].percentiles == std::vector<Percentile>{{50, Decimal{90000, 2}}});
  // Mar 20 is more than 7 days after the last EUR rate.
  q.bucket = Bucket::day;
  q.date_to = day("2024-03-20");
  CHECK_THROWS_MATCHES(
      db.rates(q), NotFound,
      Catch::Matchers::Message("no EUR exchange rate for 2024-03-20 or the 7 days before it"));
  q.currency = "XYZ";
  CHECK_THROWS_MATCHES(
      db.rates(q), NotFound,
      Catch::Matchers::Message("unknown currency 'XYZ': no exchange rate was ever loaded for it"));
  q.currency = "euro";
  CHECK_THROWS_AS(db.rates(q), InvalidArgument);
}

TEST_CASE("exchange-rate files load exactly, atomically, and refuse silent changes",
          "[conformance][answers][currency]") {
  Database db = currency_db();
  const auto dir = std::filesystem::temp_directory_path() /
                   fmt::format("prkl-fx-{}-{}", test::backend_name(), ::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
    return dir / name;
  };
  write("2024-03-05.json",
        R"({"disclaimer": "x", "base": "USD", "timestamp": 1709683199,)"
        R"( "rates": {"USD": 1, "EUR": 0.921437, "JPY": 150.1, "BTC": 1.5e-05}})");
  write("2024-03-06.json", R"({"base": "USD", "rates": {"EUR": 0.92}})");
  write("notes.txt", "not a rate file");
  CHECK(db.import_exchange_rates(dir) == 4);
  CHECK(db.import_exchange_rates(dir) == 0);  // the same rates again change nothing
  const auto stored = db.store().exchange_rates(std::vector<std::string>{"BTC", "EUR", "JPY"},
                                                day("2024-03-05"), day("2024-03-06"));
  CHECK(stored.size() == 4);
  for (const ExchangeRate& r : stored) {
    if (r.currency == "BTC") CHECK(format_rate(r.units) == "0.000015");
    if (r.currency == "JPY") CHECK(format_rate(r.units) == "150.1");
    if (r.currency == "EUR" && r.day == day("2024-03-05")) {
      CHECK(r.units == 921'437'000'000);
    }
  }

  // Another rate for a stored day is refused, and the file's other rates are not stored.
  const auto changed =
      write("2024-03-06.json", R"({"base": "USD", "rates": {"EUR": 0.93, "GBP": 0.8}})");
  CHECK_THROWS_MATCHES(
      db.import_exchange_rates(changed), InvalidArgument,
      Catch::Matchers::Message("the EUR rate for 2024-03-06 is stored as 0.92, not 0.93; nothing "
                               "was stored (replace it explicitly to change it)"));
  CHECK(db.store()
            .exchange_rates(std::vector<std::string>{"GBP"}, day("2024-03-06"), day("2024-03-06"))
            .empty());
  CHECK(db.import_exchange_rates(changed, true) == 2);

  const auto bad = [&](const std::string& text) { return write("2024-04-01.json", text); };
  const std::string path = (dir / "2024-04-01.json").string();
  const std::string quoted = "'" + path + "'";  // as messages name a path
  CHECK_THROWS_MATCHES(
      db.import_exchange_rates(bad(R"({"base": "USD", "rates": {"EUR": 0}})")), InvalidArgument,
      Catch::Matchers::Message(quoted + ": key 'rates.EUR': rate '0' is not above 0"));
  CHECK_THROWS_WITH(db.import_exchange_rates(bad(R"({"base": "USD", "rates": {"EUR": -0.9}})")),
                    quoted + ": key 'rates.EUR': rate '-0.9' is not above 0");
  CHECK_THROWS_WITH(db.import_exchange_rates(bad(R"({"base": "USD", "rates": {"EUR": "0.9"}})")),
                    quoted + ": key 'rates.EUR' holds a string, not a number");
  CHECK_THROWS_WITH(
      db.import_exchange_rates(bad(R"({"base": "USD", "rates": {"EUR": 0.1234567890123}})")),
      quoted + ": key 'rates.EUR': rate '0.1234567890123' has more than 12 fraction digits");
  CHECK_THROWS_WITH(db.import_exchange_rates(bad(R"({"base": "EUR", "rates": {"USD": 1.1}})")),
                    quoted + ": base is 'EUR', not USD");
  CHECK_THROWS_WITH(
      db.import_exchange_rates(bad(R"({"base": "USD", "rates": {"eur": 0.9}})")),
      quoted + ": key 'rates.eur': 'eur' is not a currency code (three capital letters)");
  CHECK_THROWS_WITH(db.import_exchange_rates(bad(R"({"base": "USD", "rates": {"EUR": 0.9})")),
                    Catch::Contains(quoted + ": malformed JSON"));
  CHECK_THROWS_WITH(db.import_exchange_rates(bad(R"({"base": "USD"})")),
                    quoted + ": no 'rates' object");
  CHECK_THROWS_WITH(db.import_exchange_rates(write("march.json", "{}")),
                    Catch::Contains("an exchange-rate file is named for its day, YYYY-MM-DD.json"));
  std::filesystem::remove_all(dir);
}

namespace {

// A new store of one region, "world", with Shanghai, Ningbo, Oslo and `more_ports` ports
// XX000.. of no prices, and two prices Shanghai -> Oslo on 2024-03-01.
std::string two_prices_in_the_world(int more_ports = 0) {
  const std::string url = test::new_store_url();
  Database setup = Database::open(url, OpenMode::create);
  Dataset d;
  d.regions = {{"world", "World", std::nullopt}};
  d.ports = {
      {"CNSHA", "Shanghai", "world"}, {"CNNGB", "Ningbo", "world"}, {"NOOSL", "Oslo", "world"}};
  for (int i = 0; i < more_ports; ++i)
    d.ports.push_back({fmt::format("XX{:03}", i), "New", "world"});
  d.prices = {{"CNSHA", "NOOSL", day("2024-03-01"), 100},
              {"CNSHA", "NOOSL", day("2024-03-01"), 200}};
  setup.load(d);
  return url;
}

}  // namespace

TEST_CASE("a lane written between the copy's refresh and the price read is not missed",
          "[conformance][answers]") {
  const std::string url = two_prices_in_the_world();
  // From the store each time, or into the copy's prices: both must see the new lane.
  const Options options = test::store_or_copy();
  // Another client opens a new lane, Ningbo -> Oslo, after prkl listed the lanes to read.
  auto store = std::make_unique<test::HookedStore>(open_store(url, OpenMode::existing));
  store->before_read_prices = [&] {
    test::run_sql(url,
                  "INSERT INTO prices (orig_code, dest_code, day, price) VALUES "
                  "('CNNGB', 'NOOSL', '2024-03-01', 900)");
  };
  test::HookedStore& watched = *store;
  Database db(std::move(store), options);
  const auto days =
      db.rates({day("2024-03-01"), day("2024-03-01"), "world", "NOOSL", 1, 0, Bucket::day, {50}});
  CHECK(watched.reads == 2);  // the first read's snapshot was newer than the copy: read again
  REQUIRE(days.size() == 1);
  CHECK(days[0].count == 3);
  CHECK(days[0].max == 900);
  CHECK(days[0].percentiles == std::vector<Percentile>{{50, Decimal{200, 0}}});
}

TEST_CASE(
    "percentiles under steady writes: a newer snapshot of the same lanes answers, new lanes "
    "every time are Busy",
    "[conformance][answers]") {
  const std::string url = two_prices_in_the_world(10);
  const Options options = test::store_or_copy();
  const RatesQuery question{
      day("2024-03-01"), day("2024-03-01"), "world", "NOOSL", 1, 0, Bucket::day, {50}};
  {
    // A writer adds to a lane the question already reads, between every listing and read.
    auto store = std::make_unique<test::HookedStore>(open_store(url, OpenMode::existing));
    int written = 0;
    store->before_each_read_prices = [&] {
      test::run_sql(url, fmt::format("INSERT INTO prices (orig_code, dest_code, day, price) "
                                     "VALUES ('CNSHA', 'NOOSL', '2024-03-01', {})",
                                     300 + written++));
    };
    test::HookedStore& watched = *store;
    Database db(std::move(store), options);
    const auto days = db.rates(question);
    CHECK(watched.reads == 1);  // the snapshot is newer, its lanes the same: its answer stands
    REQUIRE(days.size() == 1);
    CHECK(days[0].count == 3);
    CHECK(days[0].max == 300);
    CHECK(days[0].percentiles == std::vector<Percentile>{{50, Decimal{200, 0}}});
  }
  {
    // A writer opens a new lane of the question between every listing and read.
    auto store = std::make_unique<test::HookedStore>(open_store(url, OpenMode::existing));
    int opened = 0;
    store->before_each_read_prices = [&] {
      test::run_sql(url, fmt::format("INSERT INTO prices (orig_code, dest_code, day, price) "
                                     "VALUES ('XX{:03}', 'NOOSL', '2024-03-01', 7)",
                                     opened++));
    };
    test::HookedStore& watched = *store;
    Database db(std::move(store), options);
    CHECK_THROWS_AS(db.rates(question), Busy);
    // Five reads from the store; before them, when the copy keeps prices, three into the copy
    // (the lanes changed each time before they could be kept).
    CHECK(watched.reads == (options.max_copied_prices == 0 ? 5 : 3 + 5));
  }
}
