// SPDX-License-Identifier: MIT
// Backend-independent parts: dates, exact averages, dump and CSV reading, the generator.

#include <fmt/format.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <limits>
#include <map>
#include <prkl/format.hpp>
#include <prkl/prkl.hpp>
#include <sstream>

#include "core/replica.hpp"

using namespace prkl;

namespace {

// A file in the temp directory that is removed when the test ends.
struct TempFile {
  std::filesystem::path path;
  explicit TempFile(std::string_view content, std::string_view suffix = ".txt") {
    static int counter = 0;
    path = std::filesystem::temp_directory_path() /
           fmt::format("prkl-unit-{}-{}{}", getpid(), ++counter, suffix);
    std::ofstream(path, std::ios::binary) << content;
  }
  ~TempFile() { std::filesystem::remove(path); }
};

Dataset dump_of(std::string_view text) {
  std::istringstream in{std::string(text)};
  return read_dump(in);
}

}  // namespace

TEST_CASE("dates parse strictly and print back") {
  CHECK(format_date(parse_date("2016-01-31")) == "2016-01-31");
  CHECK(format_date(parse_date("2024-02-29")) == "2024-02-29");
  for (const char* bad : {"", "2016-1-31", "2016/01/31", "20160131", "2016-01-31 ", "2023-02-29",
                          "2016-13-01", "0000-01-01", "2016-01-3a", "+016-01-31"}) {
    INFO(bad);
    CHECK_THROWS_AS(parse_date(bad), InvalidArgument);
  }
  CHECK_THROWS_WITH(parse_date("2016-13-01", "date_to"),
                    "date_to: '2016-13-01' is not a calendar day");
}

TEST_CASE("exact averages round half away from zero") {
  CHECK(exact_average(2237, 2) == Decimal{1119, 0});  // 1118.5: PostgreSQL's round(), not 1118
  CHECK(exact_average(2235, 2) == Decimal{1118, 0});  // 1117.5
  CHECK(exact_average(-2237, 2) == Decimal{-1119, 0});
  CHECK(exact_average(10, 3) == Decimal{3, 0});
  CHECK(exact_average(11, 3) == Decimal{4, 0});
  CHECK(exact_average(10, 3, 2) == Decimal{333, 2});
  CHECK(exact_average(20, 3, 2) == Decimal{667, 2});
  CHECK(exact_average(1, 8, 2) == Decimal{13, 2});  // 0.125
  CHECK(exact_average(-1, 8, 2) == Decimal{-13, 2});
  // A sum near the 64-bit limit does not overflow on the way to the quotient.
  const auto big = std::numeric_limits<std::int64_t>::max();
  CHECK(exact_average(big, big) == Decimal{1, 0});
  CHECK(exact_average(big, 2).units == big / 2 + 1);  // ...903.5 rounds up
  CHECK_THROWS_AS(exact_average(big, 1, 1), InvalidArgument);
  CHECK_THROWS_AS(exact_average(1, 0), InvalidArgument);
  CHECK_THROWS_AS(exact_average(1, 1, 10), InvalidArgument);
}

TEST_CASE("decimals print with their scale") {
  CHECK(Decimal{1112, 0}.to_string() == "1112");
  CHECK(Decimal{111250, 2}.to_string() == "1112.50");
  CHECK(Decimal{-25, 2}.to_string() == "-0.25");
  CHECK(Decimal{5, 3}.to_string() == "0.005");
  CHECK(Decimal{std::numeric_limits<std::int64_t>::min(), 1}.to_string() ==
        "-922337203685477580.8");
}

TEST_CASE("store URLs are shown without their password") {
  CHECK(redact_url("postgresql://rates:s3cret@db.example:5432/rates?sslmode=require") ==
        "postgresql://rates:***@db.example:5432/rates?sslmode=require");
  CHECK(redact_url("postgres://rates:p@ss@db/rates") == "postgres://rates:***@db/rates");
  CHECK(redact_url("postgresql://db/rates?user=a&password=s3cret&sslmode=require") ==
        "postgresql://db/rates?user=a&password=***&sslmode=require");
  CHECK(redact_url("postgresql://rates@db/rates") == "postgresql://rates@db/rates");
  CHECK(redact_url("POSTGRESQL://u:pw@h") == "POSTGRESQL://u:***@h");
  CHECK(redact_url("host=db password=s3cret dbname=rates") == "host=db password=*** dbname=rates");
  // libpq quotes with '...' and escapes \' and \\ inside.
  CHECK(redact_url(R"(host=db password = 'it\'s \\ secret' dbname=rates)") ==
        "host=db password = *** dbname=rates");
  CHECK(redact_url("host=db passwordx=1 password='a b'") == "host=db passwordx=1 password=***");
  CHECK(redact_url("sqlite:/tmp/password=x.db") == "sqlite:/tmp/password=x.db");
  CHECK(redact_url("") == "");
  CHECK(redact_url("password=") == "password=***");
  CHECK(redact_url("=x password") == "=x password");
}

TEST_CASE("fmt formats decimals and rate days") {
  CHECK(fmt::format("{}", Decimal{111250, 2}) == "1112.50");
  CHECK(fmt::format("[{:>8}]", Decimal{-25, 2}) == "[   -0.25]");
  const RateDay day{parse_date("2016-01-05"),
                    24,
                    Decimal{1142, 0},
                    1001,
                    1300,
                    {{50, Decimal{1140, 0}}, {90, std::nullopt}}};
  CHECK(fmt::format("{}", day) ==
        "2016-01-05 count=24 average=1142 min=1001 max=1300 p50=1140 p90=null");
  const RateDay empty{parse_date("2016-01-03"), 0, std::nullopt, std::nullopt, std::nullopt, {}};
  CHECK(fmt::format("{:.10}", empty) == "2016-01-03");
  CHECK(fmt::format("{}", empty) == "2016-01-03 count=0 average=null min=null max=null");
}

#if PRKL_TEST_WITH_DUMP
TEST_CASE("dumps: COPY blocks, escapes, any order, trailing statements") {
  const Dataset d = dump_of(
      "--\n-- comment\n--\nSET client_encoding = 'UTF8';\n"
      "CREATE TABLE ports (\n    code text NOT NULL\n);\n"
      "COPY ports (name, code, parent_slug) FROM stdin;\n"
      "Tab\\there\tAAAAA\tr\n"
      "Back\\\\slash \\303\\245 \\x41\tBBBBB\tr\n\\.\n"
      "COPY public.regions (slug, name, parent_slug) FROM stdin;\n"
      "r\tR\t\\N\n\\.\n"
      "COPY \"public\".\"prices\" (orig_code, dest_code, day, price) FROM stdin;\n"
      "AAAAA\tBBBBB\t2016-01-03\t1\n"
      "AAAAA\tBBBBB\t2016-01-04\t2\n\\.\n"
      "ALTER TABLE ONLY prices\n    ADD CONSTRAINT x FOREIGN KEY (dest_code) REFERENCES "
      "ports(code);\n"
      "DELETE FROM prices WHERE day = date'2016-01-03';\n"
      "INSERT INTO prices VALUES ('BBBBB', 'AAAAA', date'2016-01-05', 100500), "
      "('AAAAA', 'BBBBB', '2016-01-06'::date, 7);\n"
      "INSERT INTO public.regions (slug, name) VALUES ('it''s', 'Quote');\n");
  REQUIRE(d.ports.size() == 2);
  CHECK(d.ports[0] == Port{"AAAAA", "Tab\there", "r"});
  CHECK(d.ports[1].name == "Back\\slash å A");
  REQUIRE(d.regions.size() == 2);
  CHECK(d.regions[0] == Region{"r", "R", std::nullopt});
  CHECK(d.regions[1] == Region{"it's", "Quote", std::nullopt});
  REQUIRE(d.prices.size() == 3);
  CHECK(d.prices[0] == Price{"AAAAA", "BBBBB", parse_date("2016-01-04"), 2});
  CHECK(d.prices[1] == Price{"BBBBB", "AAAAA", parse_date("2016-01-05"), 100500});
  CHECK(d.prices[2].price == 7);
  CHECK(d.price_lines == std::vector<std::int64_t>{17, 22, 22});
}

TEST_CASE("dumps: what cannot be understood is an error naming the line") {
  CHECK_THROWS_WITH(dump_of("SET x = 1;\nUPDATE prices SET price = 1;\n"),
                    Catch::StartsWith("dump line 2: UPDATE is not understood and may change data"));
  CHECK_THROWS_WITH(dump_of("DELETE FROM prices WHERE price > 5;\n"),
                    Catch::StartsWith("dump line 1: this DELETE (only 'DELETE FROM prices WHERE "
                                      "day = <date>;' is understood) is not understood"));
  CHECK_THROWS_WITH(dump_of("COPY prices (orig_code, dest_code, day, price) FROM stdin;\n"
                            "A\tB\t2016-01-01\tcheap\n\\.\n"),
                    "dump line 2: price 'cheap' is not a 32-bit integer");
  CHECK_THROWS_WITH(dump_of("COPY prices (orig_code, dest_code, day, price) FROM stdin;\n"
                            "A\tB\t2016-02-30\t1\n\\.\n"),
                    "dump line 2: day: '2016-02-30' is not a calendar day");
  CHECK_THROWS_WITH(dump_of("COPY ports (code, name, parent_slug) FROM stdin;\nA\tB\n\\.\n"),
                    "dump line 2: 2 fields for 3 columns");
  CHECK_THROWS_WITH(dump_of("COPY ports (code, name, parent_slug) FROM stdin;\nA\tB\tC\n"),
                    "dump line 1: COPY data is not ended by '\\.'");
  CHECK_THROWS_WITH(dump_of("INSERT INTO ports VALUES ('A', 'B', 'C')"),
                    "dump line 1: statement is not terminated by ';'");
  // Tables prkl does not know are skipped, data and all.
  const Dataset d = dump_of(
      "COPY audit (x) FROM stdin;\nanything\n\\.\nINSERT INTO audit VALUES (1);\n"
      "COPY regions (slug, name, parent_slug) FROM stdin;\nr\tR\t\\N\n\\.\n");
  CHECK(d.regions.size() == 1);
  CHECK(d.prices.empty());
}

namespace {

// The smallest data a dump must show to be one.
constexpr std::string_view one_region =
    "COPY regions (slug, name, parent_slug) FROM stdin;\n"
    "r\tR\t\\N\n\\.\n";

std::string with_data(std::string_view statements) {
  return std::string(one_region) + std::string(statements);
}

}  // namespace

TEST_CASE("dumps: a file that does not show it is a dump is refused") {
  for (const char* text : {"", "\n\n", "-- just a comment\n", "/* a comment */\n",
                           "SET client_encoding = 'UTF8';\nCREATE TABLE prices (x int);\n",
                           "COPY audit (x) FROM stdin;\n1\n\\.\n"}) {
    INFO(text);
    CHECK_THROWS_WITH(dump_of(text),
                      "not a ratestask dump: it has no COPY or INSERT into "
                      "regions, ports or prices");
  }
  // pg_dump brackets its output with two comments; without the second the file was cut short.
  const std::string header = "--\n-- PostgreSQL database dump\n--\n\n" + std::string(one_region);
  CHECK_THROWS_WITH(dump_of(header), Catch::StartsWith("dump line 7: the file ends before "
                                                       "pg_dump's closing"));
  CHECK(dump_of(header + "\n--\n-- PostgreSQL database dump complete\n--\n").regions.size() == 1);
  const TempFile directory_marker("", "");
  const auto directory = directory_marker.path.string() + "-dir";
  std::filesystem::create_directory(directory);
  CHECK_THROWS_WITH(read_dump(directory),
                    fmt::format("'{}' is a directory, not a dump file", directory));
  std::filesystem::remove(directory);
  CHECK_THROWS_WITH(read_dump("/dev/null"), Catch::StartsWith("not a ratestask dump"));
}

TEST_CASE("dumps: statements are cut where PostgreSQL cuts them") {
  // Two statements on a line, a comment after one, ';' inside quotes and comments.
  const Dataset d = dump_of(with_data(
      "INSERT INTO regions VALUES ('a', 'A', NULL); INSERT INTO regions VALUES ('b', 'B', 'a');\n"
      "INSERT INTO regions VALUES ('c', 'C;--', NULL); -- a note; with a semicolon\n"
      "/* a ; comment /* nested ; */ still ; */ INSERT INTO regions VALUES (E'd\\'; x', $$D;$$, "
      "$t$a$t$);\n"
      "INSERT INTO \"regions\" (\"slug\", name) VALUES ('e''s', U&'\\0045');\n"
      "SET search_path = public; DELETE FROM prices WHERE day = '2016-01-02';\n"
      "INSERT INTO prices VALUES ('X', 'Y', '2016-01-01', -5), ('X', 'Y', '2016-01-02', 0);\n"
      "CREATE FUNCTION f() RETURNS void AS $$ INSERT INTO prices VALUES ('A', 'B', "
      "'2016-01-01', 1); $$ LANGUAGE sql;\n"
      "CREATE FUNCTION g() RETURNS void AS $body$\n  DELETE FROM prices;\n$body$ LANGUAGE sql;\n"
      "SELECT pg_catalog.set_config('search_path', '', false);\n"
      "SELECT pg_catalog.setval('public.s', 1, false);\n"
      "BEGIN; COMMIT;\n"));
  REQUIRE(d.regions.size() == 6);
  CHECK(d.regions[1] == Region{"a", "A", std::nullopt});
  CHECK(d.regions[2] == Region{"b", "B", "a"});
  CHECK(d.regions[3] == Region{"c", "C;--", std::nullopt});
  CHECK(d.regions[4] == Region{"d'; x", "D;", "a"});
  CHECK(d.regions[5] == Region{"e's", "E", std::nullopt});
  CHECK(d.region_lines == std::vector<std::int64_t>{2, 4, 4, 5, 6, 7});
  // The prices of the INSERT; the DELETE before them and the function bodies change nothing.
  REQUIRE(d.prices.size() == 2);
  CHECK(d.prices[0].price == -5);  // refused later, by the same rule as batches (Database::load)
  CHECK(d.prices[1].price == 0);
}

TEST_CASE("dumps: statements that would change data some other way are refused") {
  using namespace std::string_literals;
  const std::vector<std::pair<std::string, std::string>> cases{
      {"SELECT 1; UPDATE prices SET price = 2;\n", "dump line 4: UPDATE is not understood"},
      {"WITH gone AS (DELETE FROM prices RETURNING *) SELECT 1;\n",
       "dump line 4: a SELECT that reads or writes tables is not understood"},
      {"WITH gone AS (DELETE FROM prices RETURNING *) INSERT INTO prices SELECT * FROM gone;\n",
       "dump line 4: INSERT with WITH is not understood"},
      {"INSERT INTO prices SELECT * FROM prices;\n",
       "dump line 4: INSERT of anything but a VALUES list is not understood"},
      {"INSERT INTO prices VALUES ('A', 'B', now(), 1);\n",
       "dump line 4: a value that is not a constant is not understood"},
      {"INSERT INTO audit VALUES (purge_prices());\n",
       "dump line 4: INSERT with a function call or a nested statement is not understood"},
      {"INSERT INTO ports VALUES ('A', 'B', 'r') ON CONFLICT DO NOTHING;\n",
       "dump line 4: INSERT ... ON CONFLICT is not understood"},
      {"TRUNCATE prices;\n", "dump line 4: TRUNCATE is not understood"},
      {"DO $$ BEGIN DELETE FROM prices; END $$;\n", "dump line 4: DO is not understood"},
      {"SELECT purge();\n", "dump line 4: a call of function 'purge' is not understood"},
      {"ROLLBACK;\n", "dump line 4: transaction control (TRANS_STMT_ROLLBACK) is not understood"},
      {"DROP TABLE public.regions;\n", "dump line 4: DROP of 'regions' after its data"},
      {"ALTER TABLE prices ALTER COLUMN price TYPE bigint USING price * 2;\n",
       "dump line 4: ALTER TABLE prices (AT_AlterColumnType) is not understood"},
      {"CREATE TABLE more () INHERITS (public.prices);\n",
       "dump line 4: a table that inherits from 'prices' is not understood"},
      {"CREATE TRIGGER t BEFORE INSERT ON prices FOR EACH ROW EXECUTE FUNCTION f();\n",
       "dump line 4: CREATE on table 'prices' is not understood"},
      {"ALTER TABLE prices RENAME TO old_prices;\n",
       "dump line 4: ALTER on table 'prices' is not understood"},
      {"COPY prices FROM '/tmp/prices.txt';\n", "dump line 4: COPY from a file or a program"},
      {"COPY prices FROM stdin WITH (FORMAT csv);\n", "dump line 4: COPY option 'format'"},
      {"COPY regions FROM stdin; SELECT 1;\n",
       "dump line 4: text after 'COPY ... FROM stdin;' on the same line"},
      {"SET client_encoding = 'LATIN1';\n",
       "dump line 4: client_encoding 'LATIN1': only UTF8 dumps are read"},
      {"SET standard_conforming_strings = off;\n",
       "dump line 4: standard_conforming_strings = off: only dumps with it on are read"},
      {"\\connect other\n", "dump line 4: psql meta-command '\\connect' is not understood"},
      {"\\.\n", "dump line 4: psql meta-command '\\.' is not understood"},
      {"INSERT INTO regions VALUES ('x', 'X\n", "dump line 4: string literal is not closed"},
      {"CREATE FUNCTION f() AS $q$ body;\n", "dump line 4: dollar-quoted string $q$ is not closed"},
      {"/* open\n", "dump line 4: comment is not closed"},
      {"INSERT INTO regions VALUES (('x'), 'X', NULL) x;\n",
       "dump line 4: PostgreSQL's parser refuses the statement: syntax error at or near \"x\""},
      {"SELECT 1;\0 DELETE FROM prices;\n"s, "dump line 4: NUL byte in the dump"},
      // Found by fuzz/fuzz_dump.cpp: an escape that spells a NUL, which write_dump cannot write.
      {"COPY regions (slug, name, parent_slug) FROM stdin;\nr\tR\t\\00-\n\\.\n",
       "dump line 5: parent_slug: a NUL character, which PostgreSQL text cannot hold"},
      {"INSERT INTO regions VALUES (E'a\\000', 'A', NULL);\n",
       "dump line 4: PostgreSQL's parser refuses the statement: invalid byte sequence for "
       "encoding \"UTF8\": 0x00"},
  };
  for (const auto& [statements, message] : cases) {
    INFO(statements);
    CHECK_THROWS_WITH(dump_of(with_data(statements)), Catch::StartsWith(message));
  }
  // pg_dump --clean drops the tables before it creates and fills them.
  CHECK(
      dump_of("DROP TABLE IF EXISTS public.regions;\n" + std::string(one_region)).regions.size() ==
      1);
}

TEST_CASE("dumps: CRLF line ends, a byte order mark and pg_dump's \\restrict lines") {
  const std::string dump =
      "\xEF\xBB\xBF--\r\n-- PostgreSQL database dump\r\n--\r\n\r\n\\restrict AbC123\r\n\r\n"
      "SET client_encoding = 'UTF8';\r\n"
      "COPY public.regions (slug, name, parent_slug) FROM stdin;\r\n"
      "top\tTop\t\\N\r\nsub\tSub\ttop\r\n\\.\r\n"
      "INSERT INTO public.regions VALUES ('more', 'More', NULL);\r\n"
      "\r\n--\r\n-- PostgreSQL database dump complete\r\n--\r\n\r\n\\unrestrict AbC123\r\n";
  const Dataset d = dump_of(dump);
  REQUIRE(d.regions.size() == 3);
  CHECK(d.regions[0] == Region{"top", "Top", std::nullopt});
  CHECK(d.regions[1] == Region{"sub", "Sub", "top"});
  CHECK(d.regions[2] == Region{"more", "More", std::nullopt});
  // Without the BOM handling the first line is not a comment, and "\N" must not become "N".
  CHECK(dump_of("\xEF\xBB\xBF" + std::string(one_region)).regions[0].parent_slug == std::nullopt);
}

TEST_CASE("write_dump and read_dump round-trip") {
  GeneratorOptions options;
  options.ports = 30;
  options.lanes = 50;
  options.days = 5;
  Dataset original = generate(options);
  original.ports[0].name = "Tab\tand \\ backslash";
  std::stringstream text;
  write_dump(text, original);
  const Dataset back = read_dump(text);
  CHECK(back.regions == original.regions);
  CHECK(back.ports == original.ports);
  CHECK(back.prices == original.prices);
}

#else
TEST_CASE("dumps: a build without the reader says so, naming the option") {
  CHECK_THROWS_WITH(dump_of("COPY public.regions (slug, name, parent_slug) FROM stdin;\n\\.\n"),
                    Catch::Contains("PRKL_WITH_DUMP=OFF"));
}
#endif

TEST_CASE("the generator is deterministic and makes loadable data") {
  GeneratorOptions options;
  options.seed = 42;
  const Dataset a = generate(options);
  const Dataset b = generate(options);
  CHECK(a.prices == b.prices);
  CHECK(a.ports == b.ports);
  options.seed = 43;
  CHECK(generate(options).prices != a.prices);
  CHECK(a.ports.size() == 200);
  // Mean 3 prices per lane-day over 2000 lanes and 31 days, give or take.
  CHECK(a.prices.size() > 150'000);
  CHECK(a.prices.size() < 220'000);
  Database db = Database::open("sqlite::memory:", OpenMode::create);
  CHECK(db.load(a).prices == std::int64_t(a.prices.size()));
  CHECK(db.resolve("world").size() == 200);
  CHECK_THROWS_AS(generate({1, 3, 10, 1, parse_date("2024-01-01"), 1}), InvalidArgument);
}

TEST_CASE("the generator's dimensions are the market's mix over the same prices") {
  GeneratorOptions options;
  options.seed = 42;
  const Dataset plain = generate(options);
  options.dimensions = true;
  const Dataset mixed = generate(options);
  REQUIRE(mixed.prices.size() == plain.prices.size());
  std::map<std::string, std::int64_t> equipment;
  std::int64_t none = 0, short_term = 0, oldest_short = 0, oldest_long = 0;
  for (std::size_t i = 0; i < mixed.prices.size(); ++i) {
    const Price& p = mixed.prices[i];
    Price without = p;
    without.equipment.clear();
    without.term.reset();
    without.received.reset();
    REQUIRE(without == plain.prices[i]);
    if (!p.has_dimensions()) {
      ++none;
      continue;
    }
    REQUIRE((p.term && p.received && !p.equipment.empty()));
    ++equipment[p.equipment];
    const auto age = (p.day - *p.received).count();
    if (*p.term == Term::short_term) {
      ++short_term;
      oldest_short = std::max<std::int64_t>(oldest_short, age);
    } else {
      oldest_long = std::max<std::int64_t>(oldest_long, age);
    }
  }
  const auto share = [&](std::int64_t n) { return double(n) / double(mixed.prices.size()); };
  CHECK(share(none) == Approx(0.10).margin(0.01));
  CHECK(share(short_term) == Approx(0.63).margin(0.01));
  CHECK(share(equipment["40HC"]) == Approx(0.36).margin(0.01));
  CHECK(equipment.size() == 6);
  CHECK((oldest_short == 29 && oldest_long == 179));
  Database db = Database::open("sqlite::memory:", OpenMode::create);
  db.load(mixed);
  RatesQuery q{options.first_day, options.first_day, "world", "world", 1};
  q.filter.equipment = {"40HC"};
  CHECK(db.rates(q).at(0).count > 0);
}

TEST_CASE("the generator turns a share of the rows into contracts, the rest unchanged") {
  GeneratorOptions options;
  options.seed = 42;
  const Dataset plain = generate(options);
  options.contracts_percent = 20;
  const Dataset mixed = generate(options);
  REQUIRE(mixed.prices.size() + mixed.contracts.size() == plain.prices.size());
  CHECK(double(mixed.contracts.size()) / double(plain.prices.size()) == Approx(0.20).margin(0.01));
  // The rows kept are the plain data's, in its order: a subsequence of it.
  std::size_t at = 0;
  for (const Price& p : mixed.prices) {
    while (at < plain.prices.size() && !(plain.prices[at] == p)) ++at;
    REQUIRE(at < plain.prices.size());
    ++at;
  }
  for (const Contract& c : mixed.contracts) {
    const auto days = (c.valid_to - c.valid_from).count() + 1;
    REQUIRE((days >= 90 && days <= 365 && c.term == Term::long_term));
  }
  CHECK(generate(options).contracts == mixed.contracts);
  options.contracts_percent = 101;
  CHECK_THROWS_WITH(generate(options), Catch::Contains("contracts_percent is 101, outside 0..100"));
}

TEST_CASE("the generator gives the same rows in chunks of any size as whole") {
  const GeneratorOptions options{
      .seed = 5, .ports = 20, .lanes = 60, .days = 9, .dimensions = true, .contracts_percent = 30};
  const Dataset whole = generate(options);
  for (const std::size_t chunk : {std::size_t(1), std::size_t(7), std::size_t(1) << 20}) {
    Generator generator(options);
    CHECK(generator.regions() == whole.regions);
    CHECK(generator.ports() == whole.ports);
    std::vector<Price> prices, all_prices;
    std::vector<Contract> contracts, all_contracts;
    std::size_t chunks = 0;
    while (generator.next(prices, contracts, chunk)) {
      REQUIRE(prices.size() + contracts.size() <= chunk);
      all_prices.insert(all_prices.end(), prices.begin(), prices.end());
      all_contracts.insert(all_contracts.end(), contracts.begin(), contracts.end());
      ++chunks;
    }
    CHECK((prices.empty() && contracts.empty()));
    CHECK(all_prices == whole.prices);
    CHECK(all_contracts == whole.contracts);
    CHECK(chunks == (whole.prices.size() + whole.contracts.size() + chunk - 1) / chunk);
  }
  CHECK_THROWS_AS(Generator({1, 3, 10, 1, parse_date("2024-01-01"), 1}), InvalidArgument);
}

TEST_CASE("CSV batches: header names the columns") {
  TempFile file(
      "price,day,destination,origin,date_from,date_to\n"
      "100,2024-01-01,NOOSL,CNSHA,,\n"
      "\"2,5\",,\"NO\"\"X\",CNSHA,2024-01-01,2024-01-03\n",
      ".csv");
  const auto rows = read_batch_csv(file.path);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].origin == "CNSHA");
  CHECK(rows[0].price == "100");
  CHECK(rows[0].day == "2024-01-01");
  CHECK(rows[0].source_line == 2);
  CHECK(rows[1].destination == "NO\"X");
  CHECK(rows[1].price == "2,5");
  CHECK(rows[1].date_to == "2024-01-03");

  TempFile aliases("\xEF\xBB\xBForig_code,dest_code,day,price\r\nCNSHA,NOOSL,2024-01-01,5\r\n",
                   ".csv");
  CHECK(read_batch_csv(aliases.path).at(0).destination == "NOOSL");
}

TEST_CASE("CSV batches: bad files are refused with a reason") {
  TempFile unknown("origin,destination,day,prize\nA,B,2024-01-01,1\n", ".csv");
  CHECK_THROWS_WITH(read_batch_csv(unknown.path), Catch::Contains("unknown column 'prize'"));
  TempFile no_day("origin,destination,price\nA,B,1\n", ".csv");
  CHECK_THROWS_WITH(read_batch_csv(no_day.path), Catch::Contains("neither 'day'"));
  TempFile twice("origin,orig_code,destination,day,price\n", ".csv");
  CHECK_THROWS_WITH(read_batch_csv(twice.path), Catch::Contains("name the same field"));
  TempFile quoting("origin,destination,day,price\n\"A,B,2024-01-01,1\n", ".csv");
  CHECK_THROWS_WITH(read_batch_csv(quoting.path), Catch::Contains("malformed CSV"));
  TempFile wide("origin,destination,day,price\nA,B,2024-01-01,1,extra\n", ".csv");
  CHECK_THROWS_WITH(read_batch_csv(wide.path), Catch::Contains("line 2: more fields"));
  CHECK_THROWS_AS(read_batch_csv("/nonexistent/batch.csv"), InvalidArgument);
}

TEST_CASE("CSV batches: reading stops at the row limit, whatever follows") {
  // An endless stream: the reader must stop at the limit, not read (and hold) it all.
  struct Endless : std::streambuf {
    std::string row = "CNSHA,NOOSL,2024-01-01,100\n";
    std::string header = "origin,destination,day,price\n";
    std::int64_t served = 0;
    int_type underflow() override {
      std::string& next = served++ == 0 ? header : row;
      setg(next.data(), next.data(), next.data() + next.size());
      return traits_type::to_int_type(next[0]);
    }
  } endless;
  std::istream in(&endless);
  CHECK_THROWS_WITH(read_batch_csv(in, "endless", 1000),
                    "endless: more than 1000 rows (line 1002 is one too many); a batch holds at "
                    "most Options::max_batch_prices prices: split it");
  CHECK(endless.served < 1000 + 2 * (1 << 16) / 27);  // the rows and one 64 KiB read past them
  std::string exact = "origin,destination,day,price\n";
  for (int i = 0; i < 1000; ++i) exact += "CNSHA,NOOSL,2024-01-01,100\n";
  std::istringstream fits(exact);
  CHECK(read_batch_csv(fits, "fits", 1000).size() == 1000);
}

TEST_CASE("store URLs") {
  CHECK_THROWS_WITH(Database::open("mysql://x"), Catch::Contains("unknown scheme"));
  CHECK_THROWS_AS(Database::open("sqlite:"), InvalidArgument);
  CHECK_THROWS_WITH(Database::open("sqlite:/nonexistent/dir/x.db"),
                    Catch::Contains("no SQLite database at '/nonexistent/dir/x.db'"));
  CHECK(Database::open("sqlite::memory:", OpenMode::create).store().backend() == "sqlite");
}

TEST_CASE("exchange rates are read as the decimals they spell") {
  CHECK(parse_rate("0.921437", "r") == 921'437'000'000);
  CHECK(parse_rate("150.1", "r") == 150'100'000'000'000);
  CHECK(parse_rate("1.5e-05", "r") == 15'000'000);
  CHECK(parse_rate("1E+2", "r") == 100'000'000'000'000);
  CHECK(parse_rate("0.000000000001", "r") == 1);
  CHECK(parse_rate("1000000000000000000000000e-20", "r") == 10'000'000'000'000'000);
  CHECK(parse_rate("999999.999999999999", "r") == 999'999'999'999'999'999);
  CHECK_THROWS_WITH(parse_rate("0.0000000000001", "r"),
                    "r: rate '0.0000000000001' has more than 12 fraction digits");
  CHECK(parse_rate("9223372", "r") == 9'223'372'000'000'000'000);
  CHECK_THROWS_WITH(parse_rate("1e7", "r"), "r: rate '1e7' is too large (at most 9223372 per USD)");
  CHECK_THROWS_WITH(parse_rate("9223372.036854775808", "r"), Catch::Contains("too large"));
  CHECK_THROWS_WITH(parse_rate("1e9223372036854775807", "r"),
                    "r: rate '1e9223372036854775807' is out of range");
  CHECK_THROWS_WITH(parse_rate("0.000", "r"), "r: rate '0.000' is not above 0");
  CHECK_THROWS_WITH(parse_rate("-1", "r"), "r: rate '-1' is not above 0");
  for (const char* bad :
       {"", ".", "1.2.3", "1e", "e5", "0x10", "1,5", "NaN", "1e99999999999999999999"}) {
    INFO(bad);
    CHECK_THROWS_AS(parse_rate(bad, "r"), InvalidArgument);
  }
  CHECK(format_rate(921'437'000'000) == "0.921437");
  CHECK(format_rate(150'000'000'000'000) == "150");
  CHECK(format_rate(1) == "0.000000000001");
  CHECK(is_currency_code("EUR"));
  CHECK_FALSE(is_currency_code("eur"));
  CHECK_FALSE(is_currency_code("EURO"));
}

TEST_CASE("bucket starts: ISO weeks from Monday, calendar months") {
  CHECK(bucket_start(Bucket::week, parse_date("2024-01-01")) == parse_date("2024-01-01"));  // Mon
  CHECK(bucket_start(Bucket::week, parse_date("2024-01-07")) == parse_date("2024-01-01"));  // Sun
  CHECK(bucket_start(Bucket::week, parse_date("2021-01-01")) == parse_date("2020-12-28"));
  CHECK(bucket_start(Bucket::month, parse_date("2024-02-29")) == parse_date("2024-02-01"));
  CHECK(bucket_start(Bucket::day, parse_date("2024-02-29")) == parse_date("2024-02-29"));
  CHECK(to_string(Bucket::month) == "month");
  CHECK(parse_bucket("day") == Bucket::day);
  CHECK_THROWS_AS(parse_bucket("Week"), InvalidArgument);
}

TEST_CASE("rates_json writes percentiles as keys of their own, wherever they are asked") {
  RateDay with{parse_date("2024-01-01"), 3, Decimal{10, 0}, 5, 15, {{50, Decimal{9, 0}}, {90, {}}}};
  RateDay without{parse_date("2024-01-02"), 0, {}, {}, {}, {}};
  const RateDay days[] = {with, without};
  const RateField first[] = {RateField::percentiles, RateField::day};
  CHECK(rates_json(days, first) ==
        R"([{"p50":9,"p90":null,"day":"2024-01-01"},{"day":"2024-01-02"}])");
  const RateField only[] = {RateField::percentiles};
  CHECK(rates_json(std::span(days + 1, 1), only) == "[{}]");
  const RateField last[] = {RateField::count, RateField::percentiles};
  CHECK(rates_json(days, last) == R"([{"count":3,"p50":9,"p90":null},{"count":0}])");
}

TEST_CASE("fields() describe each value once, and append_json writes them exactly") {
  const RateDay day{parse_date("2024-01-01"), 3, Decimal{117467, 2}, 1000, 1300, {{50, {}}}};
  std::string out;
  append_json(out, fields(day));
  CHECK(out == R"({"day": "2024-01-01", "average_price": 1174.67, "count": 3, "min": 1000, )"
               R"("max": 1300, "p50": null})");

  out.clear();
  append_json(out, fields(Region{"north_europe", "North \"Europe\"\n", std::nullopt}));
  CHECK(out == R"({"slug": "north_europe", "name": "North \"Europe\"\u000a", "parent": null})");

  const BatchResult result{"b-1", 2, 5, "2024-01-01T00:00:00Z", true, {}};
  CHECK(fields(result) == std::vector<Field>{{"batch_id", std::string("b-1")},
                                             {"rows", std::int64_t{2}},
                                             {"prices", std::int64_t{5}},
                                             {"applied_at", std::string("2024-01-01T00:00:00Z")},
                                             {"replayed", true}});
  // An exchange rate is text with every digit it was given, never a rounded number.
  const auto rate = fields(ExchangeRate{"EUR", parse_date("2024-01-02"), 91'000'000});
  REQUIRE(rate.size() == 3);
  CHECK(std::get<std::string>(rate[2].value) == format_rate(91'000'000));
}

TEST_CASE("the generator refuses options it cannot honour, naming them and their bounds") {
  const auto refused = [](auto change) {
    GeneratorOptions options;
    change(options);
    try {
      generate(options);
    } catch (const InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  // More ports than there are codes once looped forever.
  CHECK(refused([](auto& o) { o.ports = 430'000; }) ==
        "generator option ports is 430000, outside 2..100000");
  CHECK(refused([](auto& o) { o.ports = 1; }) == "generator option ports is 1, outside 2..100000");
  // A count of days this large overflowed the size of the prices.
  CHECK(refused([](auto& o) { o.days = 4'611'686'018'427'387'904; }) ==
        "generator option days is 4611686018427387904, outside 1..36600");
  CHECK(refused([](auto& o) { o.prices_per_day = std::numeric_limits<std::int64_t>::max(); }) ==
        "generator option prices_per_day is 9223372036854775807, outside 1..1000");
  CHECK(refused([](auto& o) { o.lanes = 3'000'000'000; }) ==
        "generator option lanes is 3000000000, outside 1..39800");
  CHECK(refused([](auto& o) {
          o.ports = 100'000;
          o.lanes = 10'000'001;
        }) == "generator option lanes is 10000001, outside 1..10000000");
  CHECK(refused([](auto& o) {
          o.lanes = 10'000;
          o.days = 36'600;
        }) ==
        "generator options: 10000 lanes x 36600 days x 3 prices a day is 1098000000 prices, "
        "more than the maximum of 100000000");
  CHECK(refused([](auto& o) {
          o.first_day = parse_date("9999-12-01");
          o.days = 40;
        }) ==
        "generator option first_day 9999-12-01 with 40 days runs outside "
        "0001-01-01..9999-12-31");
  CHECK(refused([](auto& o) {
          o.ports = 2;
          o.lanes = 2;
          o.days = 1;
          o.prices_per_day = 1;
        }) == "accepted");
}

TEST_CASE("messages quote values escaped and cut short") {
  CHECK(quoted_value("CNSHA") == "'CNSHA'");
  CHECK(quoted_value("Måløy") == "'Måløy'");
  CHECK(quoted_value("a\x1b[2Jb") == "'a\\x1b[2Jb'");
  CHECK(quoted_value("tab\there\nnul" + std::string(1, '\0')) == "'tab\\there\\nnul\\x00'");
  CHECK(quoted_value("\xff\xc3") == "'\\xff\\xc3'");           // not UTF-8, and cut short
  CHECK(quoted_value("\xed\xa0\x80") == "'\\xed\\xa0\\x80'");  // a surrogate
  CHECK(quoted_value("\xc2\x9b") == "'\\xc2\\x9b'");           // C1 control: CSI
  CHECK(quoted_value("back\\slash") == "'back\\\\slash'");
  const std::string long_value(10'000'000, 'x');
  CHECK(quoted_value(long_value) == "'" + std::string(200, 'x') + "...' (10000000 bytes)");
  // Cut between characters, never inside one.
  std::string accents;
  for (int i = 0; i < 150; ++i) accents += "é";
  CHECK(quoted_value(accents) == "'" + accents.substr(0, 200) + "...' (300 bytes)");
  CHECK(quoted_value(std::string(199, 'a') + "é") ==
        "'" + std::string(199, 'a') + "...' (201 bytes)");
}

TEST_CASE("CSV batches: a quoted field over several lines, and rows named by their line") {
  TempFile file(
      "origin,destination,day,price\n"
      "CNSHA,\"NO\n\nOSL\",2024-01-01,1\n"
      "\n"
      "CNSHA,NOOSL,2024-01-02,2\r\n"
      "  CNSHA,NOOSL,2024-01-03,3\n",
      ".csv");
  const auto rows = read_batch_csv(file.path);
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].source_line == 2);
  CHECK(rows[0].destination == "NO\n\nOSL");
  CHECK(rows[1].source_line == 6);  // not record 3, nor line 3
  CHECK(rows[2].source_line == 7);
  CHECK(rows[2].price == "3");

  TempFile wide("origin,destination,day,price\n\"A\nB\",B,2024-01-01,1\nA,\"B\n\",2024-01-01,1,x\n",
                ".csv");
  CHECK_THROWS_WITH(read_batch_csv(wide.path), Catch::Contains("line 4: more fields"));
  TempFile broken("origin,destination,day,price\n\"A\nB\",B,2024-01-01,1\nA,B\"C,2024-01-01,1\n",
                  ".csv");
  CHECK_THROWS_WITH(read_batch_csv(broken.path), Catch::Contains("malformed CSV on line 4"));
  TempFile open_quote("origin,destination,day,price\nA,B,2024-01-01,1\n\"A,\n\n", ".csv");
  CHECK_THROWS_WITH(read_batch_csv(open_quote.path),
                    Catch::Contains("the record from line 3 is not finished"));
}

TEST_CASE("CSV batches: a field longer than 4 KB is refused, naming its line and column") {
  const std::string header = "origin,destination,day,price\n";
  TempFile at_limit(header + "CNSHA," + std::string(4096, 'N') + ",2024-01-01,1\n", ".csv");
  CHECK(read_batch_csv(at_limit.path).at(0).destination.size() == 4096);
  // 10 MB in one field, unquoted and quoted: libcsv would grow its buffer to all of it, 128
  // bytes at a time.
  for (const std::string& field :
       {std::string(10'000'000, 'N'),
        "\"" + std::string(5'000'000, 'N') + "\n" + std::string(5'000'000, 'N') + "\""}) {
    TempFile huge(header + "CNSHA,NOOSL,2024-01-01,1\nCNSHA," + field + ",2024-01-01,1\n", ".csv");
    CHECK_THROWS_WITH(read_batch_csv(huge.path),
                      Catch::EndsWith("line 3: field 'destination' is longer than 4096 bytes; no "
                                      "batch field needs that many"));
  }
  TempFile last_field(header + "CNSHA,NOOSL,2024-01-01," + std::string(4097, '1'), ".csv");
  CHECK_THROWS_WITH(read_batch_csv(last_field.path),
                    Catch::Contains("line 2: field 'price' is longer than 4096 bytes"));
  TempFile in_header("origin,destination,day,price," + std::string(5000, 'h') + "\n", ".csv");
  CHECK_THROWS_WITH(read_batch_csv(in_header.path),
                    Catch::Contains("line 1: header field 5 is longer than 4096 bytes"));
  TempFile unknown("origin,destination,day,pr\x1bice\n", ".csv");
  CHECK_THROWS_WITH(read_batch_csv(unknown.path), Catch::Contains("unknown column 'pr\\x1bice'"));
}

TEST_CASE("the replica fence keeps the newest write's position, and unknown ones until asked") {
  using namespace std::chrono_literals;
  detail::ReplicaFence fence;
  CHECK(fence.pending().position == 0u);
  fence.wrote(0, 1s);  // a store without replicas: nothing to wait for
  CHECK(fence.pending().position == 0u);

  fence.wrote(200, 1s);
  fence.wrote(100, 1s);  // another thread's older write, noted late
  CHECK(fence.pending().position == 200u);
  CHECK(fence.pending().deadline > detail::ReplicaFence::Clock::now());

  // A write whose position could not be read waits for the primary's next position, which is
  // past it, whatever known positions come meanwhile.
  fence.wrote(std::nullopt, 0s);
  fence.wrote(300, 0s);
  const auto asked = fence.pending();
  CHECK_FALSE(asked.position);
  CHECK(asked.unknown_writes == 1u);
  // Another unknown write after the primary was asked: that answer does not cover it.
  fence.wrote(std::nullopt, 0s);
  fence.resolve(250, asked.unknown_writes);
  CHECK_FALSE(fence.pending().position);
  fence.resolve(400, fence.pending().unknown_writes);
  CHECK(fence.pending().position == 400u);
}
