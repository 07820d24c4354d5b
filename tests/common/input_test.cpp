// SPDX-License-Identifier: MIT
// Hostile input on every backend: region trees too deep or in a cycle, text that is not clean
// UTF-8, values too long to repeat. Each is refused with a typed error naming it, before
// anything is written, and nothing crashes.

#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <prkl/prkl.hpp>

#include "context.hpp"

using namespace prkl;

namespace {

Date day(std::string_view text) {
  return parse_date(text);
}

// r1 > r2 > ... > r<depth>, with a port in the deepest region and one in the root, and a price
// between them.
Dataset chain(std::int64_t depth) {
  Dataset d;
  d.regions.reserve(std::size_t(depth));
  for (std::int64_t i = 1; i <= depth; ++i) {
    d.regions.push_back({fmt::format("r{}", i), fmt::format("Region {}", i),
                         i == 1 ? std::nullopt : std::optional(fmt::format("r{}", i - 1))});
  }
  d.ports = {{"AADEP", "Deep", fmt::format("r{}", depth)}, {"AATOP", "Top", "r1"}};
  d.prices = {{"AADEP", "AATOP", day("2024-01-01"), 100}};
  return d;
}

std::int64_t tree_depth(const std::vector<RegionNode>& roots) {
  std::int64_t deepest = 0;
  std::vector<std::pair<const RegionNode*, std::int64_t>> stack;
  for (const auto& root : roots) stack.push_back({&root, 1});
  while (!stack.empty()) {
    const auto [node, depth] = stack.back();
    stack.pop_back();
    deepest = std::max(deepest, depth);
    for (const auto& child : node->children) stack.push_back({&child, depth + 1});
  }
  return deepest;
}

// Messages about ASCII input with bad bytes in it must come out as printable ASCII.
bool printable(std::string_view message) {
  return std::all_of(message.begin(), message.end(), [](char c) { return c >= 0x20 && c < 0x7F; });
}

std::vector<std::pair<std::int64_t, std::string>> rows_and_fields(
    const std::vector<RowError>& errors) {
  std::vector<std::pair<std::int64_t, std::string>> out;
  for (const auto& e : errors) out.emplace_back(e.row, e.field);
  return out;
}

Database small_db() {
  Database db = Database::open(test::new_store_url(), OpenMode::create);
  Dataset d;
  d.regions = {{"world", "World", std::nullopt}, {"china", "China", "world"}};
  d.ports = {{"CNSHA", "Shanghai", "china"}, {"NOOSL", "Oslo", "world"}};
  d.prices = {{"CNSHA", "NOOSL", day("2024-03-01"), 100}};
  db.load(d);
  return db;
}

}  // namespace

TEST_CASE("a region chain deeper than max_region_depth is refused at load, naming its row",
          "[conformance][load][depth]") {
  Database db = Database::open(test::new_store_url(), OpenMode::create);
  SECTION("100,000 levels: one error, on the row one level too deep") {
    // Once a stack overflow in the tree view and minutes of quadratic work in every command.
    try {
      db.load(chain(100'000));
      FAIL("a 100,000-level chain loaded");
    } catch (const ValidationFailed& e) {
      REQUIRE(e.errors().size() == 1);
      CHECK(e.errors()[0] ==
            RowError{65, "parent_slug",
                     "region 'r65' is nested 65 levels deep below the root region 'r1', more "
                     "than the limit of 64 (Options::max_region_depth)"});
    }
    CHECK(db.store().empty());
  }
  SECTION("exactly the limit loads, and resolves at every level") {
    db.load(chain(64));
    CHECK(db.resolve("r1") == std::vector<std::string>{"AADEP", "AATOP"});
    CHECK(db.resolve("r64") == std::vector<std::string>{"AADEP"});
    CHECK(db.resolve("r2") == std::vector<std::string>{"AADEP"});
    CHECK(db.ports_in_region("r33").at(0).code == "AADEP");
    CHECK(db.search_ports("", 10, 0, "r60").size() == 1);
    CHECK(tree_depth(db.region_tree()) == 64);
    CHECK(db.rates({day("2024-01-01"), day("2024-01-01"), "r64", "r1", 1})[0].count == 1);
  }
  SECTION("the limit is an option, itself bounded") {
    Database deeper(open_store(test::new_store_url(), OpenMode::create),
                    Options{.max_region_depth = 200});
    deeper.load(chain(200));
    CHECK(tree_depth(deeper.region_tree()) == 200);
    Database other(open_store(test::new_store_url(), OpenMode::create),
                   Options{.max_region_depth = 200});
    try {
      other.load(chain(201));
      FAIL("a 201-level chain loaded under a limit of 200");
    } catch (const ValidationFailed& e) {
      REQUIRE(e.errors().size() == 1);
      CHECK(e.errors()[0].row == 201);
    }
    for (const std::int64_t bad : {0, 257}) {
      CHECK_THROWS_MATCHES(Database(open_store(test::new_store_url(), OpenMode::create),
                                    Options{.max_region_depth = bad}),
                           InvalidArgument,
                           Catch::Matchers::Message(fmt::format(
                               "Options::max_region_depth is {}, outside 1..256", bad)));
    }
  }
  SECTION("a cycle is refused, once, where it closes") {
    Dataset looped = chain(5);
    looped.regions[0].parent_slug = "r5";
    try {
      db.load(looped);
      FAIL("a cycle loaded");
    } catch (const ValidationFailed& e) {
      REQUIRE(e.errors().size() == 1);
      CHECK(e.errors()[0] ==
            RowError{2, "parent_slug", "region 'r2' is its own ancestor (cycle through 'r1')"});
    }
    CHECK(db.store().empty());
  }
}

TEST_CASE("regions other SQL nested too deep or in a cycle are refused, not crashed on",
          "[conformance][depth][foreign]") {
  const std::string url = test::new_store_url();
  Database db = Database::open(url, OpenMode::create);
  db.load(chain(3));
  CHECK(db.resolve("r1").size() == 2);

  test::run_sql(url, "UPDATE regions SET parent_slug = 'r3' WHERE slug = 'r1'");
  CHECK_THROWS_MATCHES(db.resolve("AADEP"), StorageError,
                       Catch::Matchers::Message("the store's regions table cannot be used: region "
                                                "'r2' is its own ancestor (cycle through 'r1')"));
  test::run_sql(url, "UPDATE regions SET parent_slug = NULL WHERE slug = 'r1'");
  CHECK(db.resolve("r1").size() == 2);

  // 100,000 levels below r3, written in one statement by another client. (Last: deleting them
  // again would cost PostgreSQL a scan of the table per row for the foreign key.)
  test::run_sql(url,
                "INSERT INTO regions (slug, name, parent_slug) "
                "WITH RECURSIVE n(i) AS (SELECT 4 UNION ALL SELECT i + 1 FROM n WHERE i < 100003) "
                "SELECT 'r' || i, 'Deep', 'r' || (i - 1) FROM n");
  const std::string too_deep =
      "the store's regions table cannot be used: region 'r65' is nested 65 levels deep below the "
      "root region 'r1', more than the limit of 64 (Options::max_region_depth)";
  CHECK_THROWS_MATCHES(db.region_tree(), StorageError, Catch::Matchers::Message(too_deep));
  CHECK_THROWS_MATCHES(db.resolve("r1"), StorageError, Catch::Matchers::Message(too_deep));
  CHECK_THROWS_AS(db.rates({day("2024-01-01"), day("2024-01-01"), "AADEP", "AATOP"}), StorageError);
  CHECK_THROWS_AS(Database::open(url).region_tree(), StorageError);
}

TEST_CASE("a data set with text that is not clean UTF-8 is refused, naming row and field",
          "[conformance][load][text]") {
  Database db = Database::open(test::new_store_url(), OpenMode::create);
  Dataset bad;
  bad.regions = {{"world", "World", std::nullopt},
                 {"eu\x1b[2J", "Europe", "world"},
                 {"asia", "Asia\xff", "world"},
                 {"nul", std::string("N\0L", 3), "world"},
                 {"tab", "Tab\there", "wor\x7fld"}};
  bad.ports = {{"NOOSL", "Oslo\xc0\xaf", "world"},  // an overlong '/'
               {"NOMA\xff", "Maloy", "world"},
               {"NOBGO", "Bergen", "w\xc2\x9borld"},
               {"NOKRS", "Kristiansand", "world"}};
  bad.prices = {{"NOOSL", "NOKRS", day("2024-01-01"), 1},
                {"\xed\xa0\x80OSL", "NOKRS", day("2024-01-01"), 1},
                {"NOOSL", "NO\nRS", day("2024-01-01"), 1}};
  bad.region_lines = {1, 2, 3, 4, 5};
  bad.port_lines = {11, 12, 13, 14};
  bad.price_lines = {21, 22, 23};
  try {
    db.load(bad);
    FAIL("a data set with broken text loaded");
  } catch (const ValidationFailed& e) {
    using Errors = std::vector<std::pair<std::int64_t, std::string>>;
    CHECK(rows_and_fields(e.errors()) == Errors{{2, "slug"},
                                                {3, "name"},
                                                {4, "name"},
                                                {5, "name"},
                                                {5, "parent_slug"},
                                                {11, "name"},
                                                {12, "code"},
                                                {13, "parent_slug"},
                                                {22, "orig_code"},
                                                {23, "dest_code"}});
    for (const auto& error : e.errors()) {
      INFO(error.message);
      CHECK(printable(error.message));
    }
    CHECK(e.errors()[0].message ==
          "region slug 'eu\\x1b[2J' holds the control character \\x1b at byte 3");
    CHECK(e.errors()[1].message ==
          "region name 'Asia\\xff' is not valid UTF-8 (byte \\xff at byte 5)");
    CHECK(e.errors()[2].message ==
          "region name 'N\\x00L' holds the control character \\x00 at byte 2");
    CHECK(e.errors()[3].message ==
          "region name 'Tab\\there' holds the control character \\t at byte 4");
    CHECK(e.errors()[5].message ==
          "port name 'Oslo\\xc0\\xaf' is not valid UTF-8 (byte \\xc0 at byte 5)");
    CHECK(e.errors()[7].message ==
          "port region slug 'w\\xc2\\x9borld' holds the control character \\xc2\\x9b at byte 2");
    CHECK(e.errors()[8].message ==
          "price port code '\\xed\\xa0\\x80OSL' is not valid UTF-8 (byte \\xed at byte 1)");
  }
  CHECK(db.store().empty());
}

TEST_CASE("batch rows and ids with text that is not clean are refused before anything is written",
          "[conformance][batch][text]") {
  Database db = small_db();
  const auto count = [&] {
    std::int64_t total = 0;
    for (const auto& d : db.rates({day("2024-03-01"), day("2024-03-31"), "world", "world", 1})) {
      total += d.count;
    }
    return total;
  };
  Batch batch{"dirty",
              {{"CNSHA", "NOOSL", "2024-03-01", "", "", "100", 0},
               {"CN\x1bSHA", "NOOSL", "2024-03-01", "", "", "100", 0},
               {"CNSHA", "NO\xffSL", "2024-03-01", "", "", "100", 0},
               {"CNSHA", "NOOSL", "2024-03-01\n", "", "", "100", 0},
               {"CNSHA", "NOOSL", "", "2024-03-01", "2024-03-0\x7f", "100", 0},
               {"CNSHA", "NOOSL", "2024-03-01", "", "", std::string("10\0", 3), 0},
               {"CNSHA", "NOOSL", "2024-03-01", "", "", "100", 0, "EU\x1b"},
               {std::string(100'000, 'X'), "NOOSL", "2024-03-01", "", "", "100", 0}}};
  using Errors = std::vector<std::pair<std::int64_t, std::string>>;
  const std::vector<RowError> errors = db.validate(batch);
  CHECK(rows_and_fields(errors) == Errors{{2, "origin"},
                                          {3, "destination"},
                                          {4, "day"},
                                          {5, "date_to"},
                                          {6, "price"},
                                          {7, "currency"},
                                          {8, "origin"}});
  for (const auto& error : errors) {
    INFO(error.message);
    CHECK(printable(error.message));
    CHECK(error.message.size() < 300);
  }
  CHECK(errors[0].message == "origin 'CN\\x1bSHA' holds the control character \\x1b at byte 3");
  CHECK(errors[1].message == "destination 'NO\\xffSL' is not valid UTF-8 (byte \\xff at byte 3)");
  CHECK(errors[6].message == "unknown port '" + std::string(200, 'X') + "...' (100000 bytes)");
  CHECK_THROWS_AS(db.apply(batch), ValidationFailed);

  for (const std::string& id :
       std::vector<std::string>{"\xff", "a\x1b", "tab\there", std::string(1, '\0'), "\xc2\x85"}) {
    INFO(id);
    CHECK_THROWS_AS(db.apply({id, {BatchRow::single("CNSHA", "NOOSL", day("2024-03-02"), 1)}}),
                    InvalidArgument);
    CHECK_THROWS_AS(db.batch(id), InvalidArgument);
  }
  CHECK_THROWS_WITH(db.apply({"\xff", {BatchRow::single("CNSHA", "NOOSL", day("2024-03-02"), 1)}}),
                    "batch id '\\xff' is not valid UTF-8 (byte \\xff at byte 1); an id must be 1 "
                    "to 200 bytes of printable UTF-8");
  CHECK(count() == 1);
  // Clean text beyond ASCII is welcome.
  CHECK(db.apply({"prix-été", {BatchRow::single("CNSHA", "NOOSL", day("2024-03-02"), 1)}}).prices ==
        1);
  CHECK(db.batch("prix-été"));
}

TEST_CASE("questions with text that is not clean are refused, naming the parameter",
          "[conformance][text]") {
  Database db = small_db();
  CHECK_THROWS_MATCHES(
      db.rates({day("2024-03-01"), day("2024-03-01"), "\xff", "NOOSL"}), InvalidArgument,
      Catch::Matchers::Message("origin '\\xff' is not valid UTF-8 (byte \\xff at byte 1)"));
  CHECK_THROWS_MATCHES(
      db.rates_matrix(
          {day("2024-03-01"), day("2024-03-01"), {"CNSHA"}, {"NOOSL", "wor\x1bld"}, {}}),
      InvalidArgument,
      Catch::Matchers::Message("destination 'wor\\x1bld' holds the control character \\x1b at "
                               "byte 4"));
  CHECK_THROWS_AS(db.resolve("\x1b"), InvalidArgument);
  CHECK_THROWS_AS(db.port(std::string("NO\0SL", 5)), InvalidArgument);
  CHECK_THROWS_AS(db.ports_in_region("world\n"), InvalidArgument);
  CHECK_THROWS_AS(db.search_ports("os\tlo"), InvalidArgument);
  CHECK_THROWS_AS(db.search_ports("", 10, 0, "\xe2\x82"), InvalidArgument);
  // An unknown value is named, but never repeated at length.
  const std::string long_origin(1'000'000, 'Z');
  CHECK_THROWS_MATCHES(db.rates({day("2024-03-01"), day("2024-03-01"), long_origin, "NOOSL"}),
                       NotFound,
                       Catch::Matchers::Message("unknown location '" + std::string(200, 'Z') +
                                                "...' (1000000 bytes): not a port code or "
                                                "region slug"));
  CHECK_THROWS_WITH(
      db.rates(
          {day("2024-03-01"), day("2024-03-01"), "CNSHA", "NOOSL", 1, 0, Bucket::day, {}, "E\x1b"}),
      "currency 'E\\x1b' is not an ISO 4217 code (three capital letters)");
  CHECK(db.search_ports("ÖSL").empty());
}
