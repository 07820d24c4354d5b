#include "prkl/dump.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <istream>
#include <optional>
#include <ostream>

#include "copy_text.hpp"
#include "prkl/error.hpp"

namespace prkl {

namespace {

enum class Table { regions, ports, prices, other };

// Column names of each table, in the order the ratestask schema declares them.
constexpr std::array<std::array<std::string_view, 4>, 3> table_columns{{
    {"slug", "name", "parent_slug", ""},
    {"code", "name", "parent_slug", ""},
    {"orig_code", "dest_code", "day", "price"},
}};

std::size_t column_count(Table t) {
  return t == Table::prices ? 4 : 3;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  return out;
}

// "public"."prices" and public.prices name the same table; unquoted names fold to lower case.
std::string unquote_identifier(std::string_view s) {
  if (s.find('"') == std::string_view::npos) return lower(s);
  std::string out;
  std::copy_if(s.begin(), s.end(), std::back_inserter(out), [](char c) { return c != '"'; });
  return out;
}

Table table_named(std::string_view qualified) {
  std::string name = unquote_identifier(qualified);
  if (name.starts_with("public.")) name = name.substr(7);
  if (name == "regions") return Table::regions;
  if (name == "ports") return Table::ports;
  if (name == "prices") return Table::prices;
  return Table::other;
}

using Values = std::vector<std::optional<std::string>>;

class Reader {
 public:
  Reader(std::istream& in, const Progress& progress, std::int64_t total)
      : in_(in), progress_(progress), total_(total) {}

  Dataset run() {
    std::string line;
    std::string statement;
    std::int64_t statement_line = 0;
    bool in_string = false;
    while (next_line(line)) {
      if (statement.empty()) {
        const auto first = line.find_first_not_of(" \t\r");
        if (first == std::string::npos || line.compare(first, 2, "--") == 0) continue;
        statement_line = line_;
      }
      statement += line;
      statement += '\n';
      if (!ends_statement(line, in_string)) continue;
      run_statement(statement, statement_line);
      statement.clear();
    }
    if (!statement.empty() && statement.find_first_not_of(" \t\r\n") != std::string::npos) {
      fail(statement_line, "statement is not terminated by ';'");
    }
    if (progress_) progress_(total_ ? total_ : bytes_, total_ ? total_ : bytes_);
    return std::move(data_);
  }

 private:
  [[noreturn]] void fail(std::int64_t line, std::string_view what) const {
    throw InvalidArgument(fmt::format("dump line {}: {}", line, what));
  }

  bool next_line(std::string& line) {
    if (!std::getline(in_, line)) return false;
    ++line_;
    bytes_ += std::int64_t(line.size()) + 1;
    if (progress_ && bytes_ - reported_ >= (1 << 20)) {
      reported_ = bytes_;
      progress_(bytes_, total_);
    }
    return true;
  }

  // A statement ends at a ';' outside string literals at the end of a line. `in_string` carries
  // the quoting state from one line of a statement to the next.
  static bool ends_statement(std::string_view line, bool& in_string) {
    char last = 0;
    for (char c : line) {
      if (c == '\'') in_string = !in_string;
      if (!in_string && c != ' ' && c != '\t' && c != '\r') last = c;
    }
    return !in_string && last == ';';
  }

  // --- statements ---------------------------------------------------------------------------

  struct Token {
    enum Kind { word, string, number, symbol, end } kind;
    std::string text;
  };

  static std::vector<Token> tokenize(std::string_view s, std::int64_t line, const Reader& r) {
    std::vector<Token> out;
    std::size_t i = 0;
    while (i < s.size()) {
      const char c = s[i];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++i;
      } else if (c == '\'') {
        std::string value;
        ++i;
        for (;;) {
          if (i >= s.size()) r.fail(line, "unterminated string literal");
          if (s[i] == '\'') {
            if (i + 1 < s.size() && s[i + 1] == '\'') {
              value += '\'';
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          value += s[i++];
        }
        out.push_back({Token::string, std::move(value)});
      } else if (std::isdigit(static_cast<unsigned char>(c)) ||
                 (c == '-' && i + 1 < s.size() &&
                  std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
        const std::size_t start = i++;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
        out.push_back({Token::number, std::string(s.substr(start, i - start))});
      } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '"') {
        const std::size_t start = i;
        while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_' ||
                                s[i] == '.' || s[i] == '"')) {
          ++i;
        }
        out.push_back({Token::word, std::string(s.substr(start, i - start))});
      } else if (c == ':' && i + 1 < s.size() && s[i + 1] == ':') {
        out.push_back({Token::symbol, "::"});
        i += 2;
      } else {
        out.push_back({Token::symbol, std::string(1, c)});
        ++i;
      }
    }
    out.push_back({Token::end, {}});
    return out;
  }

  void run_statement(std::string_view text, std::int64_t line) {
    const auto tokens = tokenize(text, line, *this);
    const std::string verb = lower(tokens[0].text);
    if (verb == "copy") return copy(tokens, line);
    if (verb == "insert") return insert(tokens, line);
    if (verb == "delete") return remove(tokens, line);
    if (verb == "update" || verb == "truncate" || verb == "merge") {
      for (const Token& t : tokens) {
        if (t.kind == Token::word && table_named(t.text) != Table::other) {
          fail(line, fmt::format("unsupported statement '{}' changes table '{}'; load the dump "
                                 "into PostgreSQL and dump it again",
                                 verb, t.text));
        }
      }
    }
    // Schema and session statements (SET, CREATE, ALTER, SELECT set_config, COMMENT, ...) do
    // not change the data prkl loads.
  }

  // A cursor over tokens with the few parsing steps INSERT and DELETE need.
  struct Cursor {
    const std::vector<Token>& t;
    std::size_t i;
    const Reader& r;
    std::int64_t line;
    const Token& peek() const { return t[i]; }
    bool take_word(std::string_view w) {
      if (t[i].kind == Token::word && lower(t[i].text) == w) return ++i, true;
      return false;
    }
    bool take_symbol(std::string_view s) {
      if (t[i].kind == Token::symbol && t[i].text == s) return ++i, true;
      return false;
    }
    void expect_word(std::string_view w) {
      if (!take_word(w)) r.fail(line, fmt::format("expected '{}' near '{}'", w, t[i].text));
    }
    void expect_symbol(std::string_view s) {
      if (!take_symbol(s)) r.fail(line, fmt::format("expected '{}' near '{}'", s, t[i].text));
    }
    std::string word() {
      if (t[i].kind != Token::word)
        r.fail(line, fmt::format("expected a name near '{}'", t[i].text));
      return t[i++].text;
    }
    // A literal: 'text', 123, NULL, date '...', '...'::date.
    std::optional<std::string> literal() {
      if (take_word("null")) return std::nullopt;
      if (t[i].kind == Token::word && t[i + 1].kind == Token::string) ++i;  // date '...'
      if (t[i].kind != Token::string && t[i].kind != Token::number) {
        r.fail(line, fmt::format("expected a value near '{}'", t[i].text));
      }
      std::string value = t[i++].text;
      if (take_symbol("::")) word();
      return value;
    }
  };

  std::vector<std::size_t> column_positions(Table table, const std::vector<std::string>& names,
                                            std::int64_t line) const {
    std::vector<std::size_t> positions;
    const auto& known = table_columns[std::size_t(table)];
    for (const auto& name : names) {
      const auto wanted = unquote_identifier(name);
      const auto at = std::find(known.begin(), known.begin() + column_count(table), wanted);
      if (at == known.begin() + column_count(table)) {
        fail(line, fmt::format("unknown column '{}'", name));
      }
      positions.push_back(std::size_t(at - known.begin()));
    }
    for (std::size_t c = 0; c < column_count(table); ++c) {
      const bool nullable = table == Table::regions && c == 2;
      if (!nullable && std::find(positions.begin(), positions.end(), c) == positions.end()) {
        fail(line, fmt::format("column '{}' is missing", known[c]));
      }
    }
    return positions;
  }

  std::vector<std::size_t> default_positions(Table table) const {
    std::vector<std::size_t> p(column_count(table));
    for (std::size_t c = 0; c < p.size(); ++c) p[c] = c;
    return p;
  }

  void copy(const std::vector<Token>& tokens, std::int64_t line) {
    Cursor c{tokens, 1, *this, line};
    const Table table = table_named(c.word());
    std::vector<std::string> names;
    if (c.take_symbol("(")) {
      do names.push_back(c.word());
      while (c.take_symbol(","));
      c.expect_symbol(")");
    }
    c.expect_word("from");
    c.expect_word("stdin");
    const auto positions = table == Table::other ? std::vector<std::size_t>{}
                           : names.empty()       ? default_positions(table)
                                                 : column_positions(table, names, line);
    std::string row;
    while (next_line(row)) {
      if (row == "\\." || row == "\\.\r") return;
      if (table == Table::other) continue;
      Values values(column_count(table));
      std::size_t field = 0;
      std::size_t start = 0;
      for (;;) {
        const std::size_t tab = row.find('\t', start);
        if (field >= positions.size()) fail(line_, "more fields than columns");
        values[positions[field++]] = unescape(
            std::string_view(row).substr(start, tab == std::string::npos ? tab : tab - start));
        if (tab == std::string::npos) break;
        start = tab + 1;
      }
      if (field != positions.size()) {
        fail(line_, fmt::format("{} fields for {} columns", field, positions.size()));
      }
      add_row(table, values, line_);
    }
    fail(line, "COPY data is not ended by '\\.'");
  }

  void insert(const std::vector<Token>& tokens, std::int64_t line) {
    Cursor c{tokens, 1, *this, line};
    c.expect_word("into");
    const Table table = table_named(c.word());
    if (table == Table::other) return;
    std::vector<std::string> names;
    if (c.take_symbol("(")) {
      do names.push_back(c.word());
      while (c.take_symbol(","));
      c.expect_symbol(")");
    }
    const auto positions =
        names.empty() ? default_positions(table) : column_positions(table, names, line);
    c.expect_word("values");
    do {
      c.expect_symbol("(");
      Values values(column_count(table));
      std::size_t field = 0;
      do {
        if (field >= positions.size()) fail(line, "more values than columns");
        values[positions[field++]] = c.literal();
      } while (c.take_symbol(","));
      c.expect_symbol(")");
      if (field != positions.size())
        fail(line, fmt::format("{} values for {} columns", field, positions.size()));
      add_row(table, values, line);
    } while (c.take_symbol(","));
    c.expect_symbol(";");
  }

  void remove(const std::vector<Token>& tokens, std::int64_t line) {
    Cursor c{tokens, 1, *this, line};
    c.expect_word("from");
    const Table table = table_named(c.word());
    if (table == Table::other) return;
    // The one form the ratestask dump uses: DELETE FROM prices WHERE day = <date>;
    if (table != Table::prices || !c.take_word("where") || !c.take_word("day") ||
        !c.take_symbol("=")) {
      fail(line, "unsupported DELETE: only 'DELETE FROM prices WHERE day = <date>;' is understood");
    }
    const auto text = c.literal();
    c.expect_symbol(";");
    if (!text) fail(line, "DELETE ... WHERE day = NULL matches nothing");
    const Date day = date_at(*text, line);
    auto& p = data_.prices;
    auto& l = data_.price_lines;
    std::size_t kept = 0;
    for (std::size_t i = 0; i < p.size(); ++i) {
      if (p[i].day == day) continue;
      if (kept != i) {
        p[kept] = std::move(p[i]);
        l[kept] = l[i];
      }
      ++kept;
    }
    p.resize(kept);
    l.resize(kept);
  }

  // --- rows ---------------------------------------------------------------------------------

  Date date_at(const std::string& text, std::int64_t line) const {
    try {
      return parse_date(text, "day");
    } catch (const InvalidArgument& e) {
      fail(line, e.what());
    }
  }

  std::string required(const Values& values, std::size_t c, Table table, std::int64_t line) const {
    if (!values[c]) fail(line, fmt::format("{} is null", table_columns[std::size_t(table)][c]));
    return *values[c];
  }

  void add_row(Table table, const Values& v, std::int64_t line) {
    switch (table) {
      case Table::regions:
        data_.regions.push_back({required(v, 0, table, line), required(v, 1, table, line), v[2]});
        data_.region_lines.push_back(line);
        break;
      case Table::ports:
        data_.ports.push_back({required(v, 0, table, line), required(v, 1, table, line),
                               required(v, 2, table, line)});
        data_.port_lines.push_back(line);
        break;
      case Table::prices: {
        const std::string price_text = required(v, 3, table, line);
        std::int32_t price = 0;
        const char* end = price_text.data() + price_text.size();
        const auto [stop, ec] = std::from_chars(price_text.data(), end, price);
        if (ec != std::errc{} || stop != end) {
          fail(line, fmt::format("price '{}' is not a 32-bit integer", price_text));
        }
        data_.prices.push_back({required(v, 0, table, line), required(v, 1, table, line),
                                date_at(required(v, 2, table, line), line), price});
        data_.price_lines.push_back(line);
        break;
      }
      case Table::other:
        break;
    }
  }

  // pg_dump's COPY text format: \N is null; a CRLF dump's fields end in a stray '\r'.
  std::optional<std::string> unescape(std::string_view field) const {
    if (field == "\\N") return std::nullopt;
    if (!field.empty() && field.back() == '\r') field.remove_suffix(1);
    return detail::copy_unescape(field);
  }

  std::istream& in_;
  const Progress& progress_;
  std::int64_t total_ = 0;
  std::int64_t bytes_ = 0;
  std::int64_t reported_ = 0;
  std::int64_t line_ = 0;
  Dataset data_;
};

}  // namespace

Dataset read_dump(std::istream& in, const Progress& progress, std::int64_t total_bytes) {
  return Reader(in, progress, total_bytes).run();
}

Dataset read_dump(const std::filesystem::path& path, const Progress& progress) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InvalidArgument(fmt::format("cannot read dump file '{}'", path.string()));
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  return read_dump(in, progress, ec ? 0 : std::int64_t(size));
}

void write_dump(std::ostream& out, const Dataset& data) {
  out << "--\n-- prkl data set, plain SQL in the shape of the ratestask dump\n--\n\n"
         "SET client_encoding = 'UTF8';\nSET standard_conforming_strings = on;\n\n"
         "CREATE TABLE regions (\n    slug text NOT NULL,\n    name text NOT NULL,\n"
         "    parent_slug text\n);\n\n"
         "CREATE TABLE ports (\n    code text NOT NULL,\n    name text NOT NULL,\n"
         "    parent_slug text NOT NULL\n);\n\n"
         "CREATE TABLE prices (\n    orig_code text NOT NULL,\n    dest_code text NOT NULL,\n"
         "    day date NOT NULL,\n    price integer NOT NULL\n);\n\n";
  // Rows go out in blocks, so a large data set is not held twice in memory.
  const auto copy_block = [&out](const char* header, const auto& rows) {
    out << header;
    std::string block;
    for (const auto& row : rows) {
      detail::append_copy_row(block, row);
      if (block.size() >= (1 << 20)) {
        out << block;
        block.clear();
      }
    }
    out << block << "\\.\n\n\n";
  };
  copy_block("COPY regions (slug, name, parent_slug) FROM stdin;\n", data.regions);
  copy_block("COPY ports (code, name, parent_slug) FROM stdin;\n", data.ports);
  copy_block("COPY prices (orig_code, dest_code, day, price) FROM stdin;\n", data.prices);
  out << "ALTER TABLE ONLY ports\n    ADD CONSTRAINT ports_pkey PRIMARY KEY (code);\n\n"
         "ALTER TABLE ONLY regions\n    ADD CONSTRAINT regions_pkey PRIMARY KEY (slug);\n\n"
         "ALTER TABLE ONLY ports\n    ADD CONSTRAINT ports_parent_slug_fkey FOREIGN KEY "
         "(parent_slug) REFERENCES regions(slug);\n\n"
         "ALTER TABLE ONLY prices\n    ADD CONSTRAINT prices_orig_code_fkey FOREIGN KEY "
         "(orig_code) REFERENCES ports(code);\n\n"
         "ALTER TABLE ONLY prices\n    ADD CONSTRAINT prices_dest_code_fkey FOREIGN KEY "
         "(dest_code) REFERENCES ports(code);\n\n"
         "ALTER TABLE ONLY regions\n    ADD CONSTRAINT regions_parent_slug_fkey FOREIGN KEY "
         "(parent_slug) REFERENCES regions(slug);\n";
  if (!out) throw StorageError("writing the dump failed");
}

}  // namespace prkl
