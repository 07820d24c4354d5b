// SPDX-License-Identifier: MIT
// Reading the ratestask tables from a plain-SQL pg_dump file: statements cut where PostgreSQL
// would, parsed by its own parser (libpg_query), COPY blocks and INSERTs read row by row.
#include "prkl/dump.hpp"

#include <fmt/format.h>
#include <pg_query.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <istream>
#include <nlohmann/json.hpp>
#include <optional>

#include "io/copy_text.hpp"
#include "io/dataset.hpp"
#include "prkl/error.hpp"
#include "storage/ratestask.hpp"

namespace prkl {

namespace {

namespace ratestask = detail::ratestask;

using Json = nlohmann::json;

enum class Table { regions, ports, prices, other };

// The ratestask table a Table names.
const ratestask::Table& described(Table t) {
  return ratestask::tables[std::size_t(t)];
}

std::size_t column_count(Table t) {
  return described(t).columns.size();
}

// pg_dump qualifies every name with `public.`; PostgreSQL's parser has already folded and
// unquoted them.
Table table_named(std::string_view schema, std::string_view name) {
  if (!schema.empty() && schema != "public") return Table::other;
  for (std::size_t t = 0; t < ratestask::tables.size(); ++t) {
    if (name == ratestask::tables[t].name) return Table(t);
  }
  return Table::other;
}

// The member `key` of `node`, or an empty node: the parse tree leaves out empty members.
const Json& member(const Json& node, std::string_view key) {
  static const Json none;
  const auto at = node.find(key);
  return at == node.end() ? none : *at;
}

// A RangeVar node of the parse tree: {"schemaname": ..., "relname": ...}.
Table table_of(const Json& range_var) {
  return table_named(range_var.value("schemaname", ""), range_var.value("relname", ""));
}

// A String node's text: {"String": {"sval": "..."}}.
std::string string_node(const Json& node) {
  return node.at("String").value("sval", "");
}

// Visits every object of a parse tree without recursion: a deeply nested statement must not
// exhaust the stack.
template <typename Visit>
void for_each_object(const Json& root, Visit&& visit) {
  std::vector<const Json*> pending{&root};
  while (!pending.empty()) {
    const Json* node = pending.back();
    pending.pop_back();
    if (node->is_object()) visit(*node);
    if (node->is_structured()) {
      for (const Json& child : *node) pending.push_back(&child);
    }
  }
}

// The first ratestask table any RangeVar of `node` names, if one does.
std::optional<Table> ratestask_table_in(const Json& node) {
  std::optional<Table> found;
  for_each_object(node, [&](const Json& object) {
    if (!found && object.contains("relname") && table_of(object) != Table::other) {
      found = table_of(object);
    }
  });
  return found;
}

// Whether `node` contains a node of one of the given kinds ("FuncCall", "DeleteStmt", ...).
bool contains_kind(const Json& node, std::initializer_list<std::string_view> kinds) {
  bool found = false;
  for_each_object(node, [&](const Json& object) {
    for (const auto kind : kinds) found = found || object.contains(kind);
  });
  return found;
}

// --- splitting -------------------------------------------------------------------------------

// Cuts SQL text into statements where PostgreSQL's lexer would: at a ';' outside quotes ('...',
// E'...' with backslash escapes, "..."), dollar quotes ($tag$...$tag$) and comments (-- and
// nested /* */). Text arrives a line at a time, because the COPY data lines in between are not
// SQL. PostgreSQL's parser then reads each statement; a wrong cut could only make it refuse one.
class Splitter {
 public:
  struct Statement {
    std::string text;
    std::int64_t line = 0;       // where the statement's first token is
    std::int64_t text_line = 0;  // where `text` starts (comments before the token included)
  };

  // A statement larger than this is refused rather than held in memory without end.
  static constexpr std::size_t max_statement_bytes = std::size_t(64) << 20;

  // No statement has begun: only whitespace and comments since the last ';'.
  bool idle() const { return mode_ == Mode::normal && !has_content_; }

  // Scans one line (without its newline); each statement it completes goes to `done`.
  void feed(std::string_view line, std::int64_t number, std::vector<Statement>& done) {
    if (text_.empty()) text_line_ = number;
    std::size_t taken = 0;  // `line` before this is in text_ or in `done` already
    std::size_t i = 0;
    while (i < line.size()) {
      const char c = line[i];
      const char next = i + 1 < line.size() ? line[i + 1] : '\0';
      switch (mode_) {
        case Mode::normal:
          if (c == '-' && next == '-') {
            i = line.size();
            continue;
          }
          if (c == ';') {
            text_.append(line.substr(taken, i + 1 - taken));
            taken = ++i;
            if (has_content_) done.push_back({std::move(text_), content_line_, text_line_});
            text_.clear();
            text_line_ = number;
            has_content_ = false;
            previous_ = ';';
            continue;
          }
          if (c == '/' && next == '*') {
            open(Mode::block_comment, number);
            comment_depth_ = 1;
            i += 2;
            continue;
          }
          if (!is_space(c) && !has_content_) {
            has_content_ = true;
            content_line_ = number;
          }
          if (c == '\'') {
            open(escape_prefix() ? Mode::escaped_quote : Mode::quote, number);
          } else if (c == '"') {
            open(Mode::identifier, number);
          } else if (c == '$' && !is_identifier_char(previous_)) {
            if (const auto tag = dollar_tag(line.substr(i))) {
              open(Mode::dollar_quote, number);
              dollar_tag_ = *tag;
              i += tag->size();
              continue;
            }
          }
          before_previous_ = previous_;
          previous_ = c;
          ++i;
          continue;
        case Mode::escaped_quote:
          if (c == '\\') {
            i += 2;
            continue;
          }
          [[fallthrough]];
        case Mode::quote:
        case Mode::identifier: {
          const char close = mode_ == Mode::identifier ? '"' : '\'';
          if (c == close && next == close) {
            i += 2;
            continue;
          }
          if (c == close) close_quote(c);
          ++i;
          continue;
        }
        case Mode::dollar_quote:
          if (c == '$' && line.substr(i).starts_with(dollar_tag_)) {
            i += dollar_tag_.size();
            close_quote('$');
            continue;
          }
          ++i;
          continue;
        case Mode::block_comment:
          if (c == '/' && next == '*') {
            ++comment_depth_;
            i += 2;
          } else if (c == '*' && next == '/') {
            if (--comment_depth_ == 0) mode_ = Mode::normal;
            i += 2;
          } else {
            ++i;
          }
          continue;
      }
    }
    if (idle()) {
      // Comments between statements are not kept.
      text_.clear();
      return;
    }
    text_.append(line.substr(taken));
    text_ += '\n';
    before_previous_ = previous_;
    previous_ = '\n';
    if (text_.size() > max_statement_bytes) {
      throw InvalidArgument(
          fmt::format("dump line {}: the statement starting here is over {} MiB without an end",
                      content_line_, max_statement_bytes >> 20));
    }
  }

  // After the last line: what is left open, if anything.
  std::optional<std::pair<std::int64_t, std::string>> unfinished() const {
    switch (mode_) {
      case Mode::normal:
        if (!has_content_) return std::nullopt;
        return std::pair{content_line_, std::string("statement is not terminated by ';'")};
      case Mode::quote:
      case Mode::escaped_quote:
        return std::pair{open_line_, std::string("string literal is not closed")};
      case Mode::identifier:
        return std::pair{open_line_, std::string("quoted identifier is not closed")};
      case Mode::dollar_quote:
        return std::pair{open_line_,
                         fmt::format("dollar-quoted string {} is not closed", dollar_tag_)};
      case Mode::block_comment:
        return std::pair{open_line_, std::string("comment is not closed")};
    }
    return std::nullopt;
  }

 private:
  enum class Mode { normal, quote, escaped_quote, identifier, dollar_quote, block_comment };

  static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f'; }
  static bool is_identifier_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    return std::isalnum(u) || c == '_' || c == '$' || u >= 0x80;
  }

  // A quote right after a lone E (not the end of a longer name) opens an escape string.
  bool escape_prefix() const {
    return (previous_ == 'E' || previous_ == 'e') && !is_identifier_char(before_previous_);
  }

  // `$tag$` or `$$` at the start of `s`; `$1` is a parameter, not a quote.
  static std::optional<std::string> dollar_tag(std::string_view s) {
    std::size_t end = 1;
    if (end < s.size() && std::isdigit(static_cast<unsigned char>(s[end]))) return std::nullopt;
    while (end < s.size() && s[end] != '$' && is_identifier_char(s[end])) ++end;
    if (end >= s.size() || s[end] != '$') return std::nullopt;
    return std::string(s.substr(0, end + 1));
  }

  void open(Mode mode, std::int64_t line) {
    mode_ = mode;
    open_line_ = line;
  }

  void close_quote(char c) {
    mode_ = Mode::normal;
    before_previous_ = previous_;
    previous_ = c;
  }

  std::string text_;
  std::int64_t text_line_ = 1;
  std::int64_t content_line_ = 0;
  std::int64_t open_line_ = 0;
  bool has_content_ = false;
  Mode mode_ = Mode::normal;
  std::string dollar_tag_;
  int comment_depth_ = 0;
  char previous_ = '\n';         // the last two characters outside quotes and comments
  char before_previous_ = '\n';  // (an E before a quote makes an escape string)
};

using Values = std::vector<std::optional<std::string>>;
using Statement = Splitter::Statement;

// Statements that never change the rows of a table; the reader skips them. Statements that may
// and that the reader does not apply are refused, because skipping them would load something
// other than what PostgreSQL loads from the same file.
constexpr std::array<std::string_view, 22> inert_statements{
    "CreateStmt",         "IndexStmt",      "CommentStmt",      "CreateSeqStmt",
    "AlterSeqStmt",       "AlterOwnerStmt", "GrantStmt",        "GrantRoleStmt",
    "CreateRoleStmt",     "AlterRoleStmt",  "CreateSchemaStmt", "CreateExtensionStmt",
    "CreateFunctionStmt", "ViewStmt",       "CreateDomainStmt", "CompositeTypeStmt",
    "CreateEnumStmt",     "DefineStmt",     "SecLabelStmt",     "AlterDefaultPrivilegesStmt",
    "VariableShowStmt",   "CreateStatsStmt"};

// Statements that change only what they name; refused when that is a ratestask table.
constexpr std::array<std::string_view, 4> naming_statements{"CreateTrigStmt", "RuleStmt",
                                                            "RenameStmt", "AlterObjectSchemaStmt"};

// What ALTER TABLE may do to a ratestask table without changing its rows.
constexpr std::array<std::string_view, 16> inert_alter_commands{
    "AT_AddConstraint", "AT_DropConstraint",     "AT_ValidateConstraint", "AT_ChangeOwner",
    "AT_SetNotNull",    "AT_SetStatistics",      "AT_SetStorage",         "AT_ClusterOn",
    "AT_DropCluster",   "AT_SetRelOptions",      "AT_ResetRelOptions",    "AT_ReplicaIdentity",
    "AT_AddIndex",      "AT_AddIndexConstraint", "AT_EnableRowSecurity",  "AT_SetLogged"};

// Functions pg_dump calls in SELECT statements; none of them touches a table's rows.
constexpr std::array<std::string_view, 6> inert_functions{"set_config", "setval",   "lo_create",
                                                          "lo_open",    "lo_close", "lowrite"};

template <std::size_t N>
bool one_of(const std::array<std::string_view, N>& list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

class Reader {
 public:
  Reader(std::istream& in, DumpSink& sink, const Progress& progress, std::int64_t total)
      : in_(in), sink_(sink), progress_(progress), total_(total) {}

  void run() {
    std::string line;
    std::vector<Statement> done;
    while (next_line(line)) {
      if (splitter_.idle()) {
        const std::string_view text = trimmed(line);
        // pg_dump brackets its output with these two comments; a dump with the first and
        // without the second was cut short.
        if (text == "-- PostgreSQL database dump") saw_header_ = true;
        if (text == "-- PostgreSQL database dump complete") saw_footer_ = true;
        if (text.starts_with('\\')) {
          meta_command(text);
          continue;
        }
      }
      splitter_.feed(line, line_, done);
      for (std::size_t k = 0; k < done.size(); ++k) {
        run_statement(done[k], k + 1 == done.size() && splitter_.idle());
      }
      done.clear();
    }
    if (in_.bad()) throw StorageError(fmt::format("reading the dump failed after line {}", line_));
    if (const auto open = splitter_.unfinished()) fail(open->first, open->second);
    if (saw_header_ && !saw_footer_) {
      fail(line_,
           "the file ends before pg_dump's closing '-- PostgreSQL database dump complete' line; "
           "the dump is cut short");
    }
    if (!saw_data_) {
      throw InvalidArgument(
          "not a ratestask dump: it has no COPY or INSERT into regions, ports or prices");
    }
    if (progress_) progress_(total_ ? total_ : bytes_, total_ ? total_ : bytes_);
  }

 private:
  [[noreturn]] void fail(std::int64_t line, std::string_view what) const {
    throw InvalidArgument(fmt::format("dump line {}: {}", line, what));
  }

  static std::string_view trimmed(std::string_view s) {
    const auto first = s.find_first_not_of(" \t");
    if (first == std::string_view::npos) return {};
    return s.substr(first, s.find_last_not_of(" \t") + 1 - first);
  }

  // A line without its end: a CRLF file reads as an LF one, and a byte order mark before the
  // first line is dropped. Read a piece at a time, so that a line without end (a file of one
  // huge line) is refused at the statement limit rather than held whole.
  bool next_line(std::string& line) {
    line.clear();
    bool any = false;
    char piece[1 << 12];
    for (;;) {
      in_.get(piece, sizeof piece, '\n');
      const auto got = std::size_t(in_.gcount());
      line.append(piece, got);
      any = any || got > 0;
      if (line.size() > Splitter::max_statement_bytes) {
        fail(line_ + 1, fmt::format("a line longer than {} bytes; no dump row or statement is",
                                    Splitter::max_statement_bytes));
      }
      if (in_.bad()) return false;
      if (in_.eof()) {
        if (!any) return false;
        break;
      }
      in_.clear();  // get() sets failbit when the line (or what is left of it) is empty
      if (in_.peek() == '\n') {
        in_.ignore();
        break;
      }
    }
    ++line_;
    bytes_ += std::int64_t(line.size()) + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line_ == 1 && line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3);
    // PostgreSQL refuses a NUL anywhere in SQL or COPY text; the parser would stop at it.
    if (line.find('\0') != std::string::npos) fail(line_, "NUL byte in the dump");
    if (progress_ && bytes_ - reported_ >= (1 << 20)) {
      reported_ = bytes_;
      progress_(bytes_, total_);
    }
    return true;
  }

  // psql meta-commands. pg_dump 15.14, 16.10 and later bracket a dump with \restrict and
  // \unrestrict, which only guard psql against commands hidden in the data.
  void meta_command(std::string_view text) const {
    const std::string_view name = text.substr(0, text.find_first_of(" \t"));
    if (name == "\\restrict" || name == "\\unrestrict") return;
    fail(line_, fmt::format("psql meta-command '{}' is not understood", name));
  }

  // --- statements ---------------------------------------------------------------------------

  Json parse(const Statement& s) const {
    PgQueryParseResult result = pg_query_parse(s.text.c_str());
    struct Release {
      PgQueryParseResult& r;
      ~Release() { pg_query_free_parse_result(r); }
    } release{result};
    if (result.error) {
      const auto cursor =
          std::min(std::size_t(std::max(result.error->cursorpos - 1, 0)), s.text.size());
      const auto line =
          s.text_line + std::count(s.text.begin(), s.text.begin() + std::ptrdiff_t(cursor), '\n');
      fail(line,
           fmt::format("PostgreSQL's parser refuses the statement: {}", result.error->message));
    }
    return Json::parse(result.parse_tree);
  }

  void run_statement(const Statement& s, bool ends_line) {
    try {
      run_parsed(parse(s), s, ends_line);
    } catch (const Json::exception& e) {
      // A parse tree of a shape this reader did not expect.
      fail(s.line, fmt::format("statement not understood ({})", e.what()));
    }
  }

  void run_parsed(const Json& tree, const Statement& s, bool ends_line) {
    const Json& statements = tree.at("stmts");
    if (statements.size() != 1) fail(s.line, "expected one statement");  // the splitter's job
    const Json& wrapper = statements[0].at("stmt");
    if (wrapper.size() != 1) fail(s.line, "expected one statement");
    const std::string kind = wrapper.begin().key();
    const Json& node = wrapper.begin().value();
    if (kind == "CopyStmt") return copy(node, s, ends_line);
    if (kind == "InsertStmt") return insert(node, s);
    if (kind == "DeleteStmt") return remove(node, s);
    if (kind == "VariableSetStmt") return setting(node, s);
    if (kind == "SelectStmt") return select(node, s);
    if (kind == "AlterTableStmt") return alter_table(node, s);
    if (kind == "DropStmt") return drop(node, s);
    if (kind == "TransactionStmt") return transaction(node, s);
    if (one_of(inert_statements, kind)) {
      if (kind == "CreateStmt" && node.contains("inhRelations")) {
        refuse_if_ratestask(node["inhRelations"], s, "a table that inherits from");
      }
      return;
    }
    if (one_of(naming_statements, kind))
      return refuse_if_ratestask(node, s, first_word(s) + " on table");
    refuse(s, first_word(s));
  }

  // The statement's first keyword, as its reader would name it: UPDATE, TRUNCATE, DO, ...
  static std::string first_word(const Statement& s) {
    std::string word;
    std::size_t i = 0;
    for (;;) {
      i = s.text.find_first_not_of(" \t\r\n", i);
      if (i == std::string::npos) break;
      if (s.text.compare(i, 2, "--") != 0) break;
      i = s.text.find('\n', i);
    }
    for (; i < s.text.size() && std::isalpha(static_cast<unsigned char>(s.text[i])); ++i) {
      word += char(std::toupper(static_cast<unsigned char>(s.text[i])));
    }
    return word.empty() ? "this statement" : word;
  }

  [[noreturn]] void refuse(const Statement& s, std::string_view what) const {
    fail(s.line, fmt::format("{} is not understood and may change data; load the dump into "
                             "PostgreSQL and dump it again",
                             what));
  }

  void refuse_if_ratestask(const Json& node, const Statement& s, std::string_view what) const {
    if (const auto table = ratestask_table_in(node)) {
      refuse(s, fmt::format("{} '{}'", what, described(*table).name));
    }
  }

  // A statement on some other table is skipped unless it could reach prkl's tables: through
  // a function call, a nested data-changing statement or a read of one of them.
  void other_table(const Json& node, const Statement& s, std::string_view what) const {
    if (contains_kind(node, {"FuncCall", "InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt"})) {
      refuse(s, fmt::format("{} with a function call or a nested statement", what));
    }
    refuse_if_ratestask(node, s, fmt::format("{} reading table", what));
  }

  void copy(const Json& node, const Statement& s, bool ends_line) {
    if (!node.value("is_from", false)) {
      // COPY ... TO writes out; it changes nothing unless its query does.
      if (node.contains("query")) refuse(s, "COPY with a query");
      return;
    }
    const Table table = table_of(node.at("relation"));
    if (node.contains("filename") || node.value("is_program", false)) {
      refuse(s, "COPY from a file or a program");
    }
    if (table != Table::other) {
      if (node.contains("whereClause")) refuse(s, "COPY ... WHERE");
      for (const Json& option : member(node, "options")) {
        const Json& element = option.at("DefElem");
        const std::string name = element.value("defname", "");
        const Json argument = member(element, "arg");
        if (name == "format" && argument.contains("String") && string_node(argument) == "text") {
          continue;
        }
        refuse(s, fmt::format("COPY option '{}'", name));
      }
    }
    if (!ends_line) fail(s.line, "text after 'COPY ... FROM stdin;' on the same line");
    std::vector<std::string> names;
    for (const Json& name : member(node, "attlist")) names.push_back(string_node(name));
    const auto positions = table == Table::other ? std::vector<std::size_t>{}
                           : names.empty()       ? default_positions(table)
                                                 : column_positions(table, names, s.line);
    saw_data_ = saw_data_ || table != Table::other;
    std::string row;
    while (next_line(row)) {
      if (row == "\\.") return;
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
    fail(s.line, "COPY data is not ended by '\\.'");
  }

  void insert(const Json& node, const Statement& s) {
    const Table table = table_of(node.at("relation"));
    if (table == Table::other) return other_table(node, s, "INSERT");
    if (node.contains("withClause")) refuse(s, "INSERT with WITH");
    if (node.contains("onConflictClause")) refuse(s, "INSERT ... ON CONFLICT");
    const Json& select = member(node, "selectStmt");
    const Json& values_select = member(select, "SelectStmt");
    if (!values_select.contains("valuesLists") || values_select.contains("targetList")) {
      refuse(s, "INSERT of anything but a VALUES list");
    }
    std::vector<std::string> names;
    for (const Json& column : member(node, "cols")) {
      const Json& target = column.at("ResTarget");
      if (target.contains("indirection")) refuse(s, "INSERT into part of a column");
      names.push_back(target.value("name", ""));
    }
    const auto positions =
        names.empty() ? default_positions(table) : column_positions(table, names, s.line);
    saw_data_ = true;
    for (const Json& list : values_select.at("valuesLists")) {
      const Json& items = member(list.at("List"), "items");
      if (items.size() != positions.size()) {
        fail(s.line, fmt::format("{} values for {} columns", items.size(), positions.size()));
      }
      Values values(column_count(table));
      for (std::size_t i = 0; i < items.size(); ++i) values[positions[i]] = literal(items[i], s);
      add_row(table, values, s.line);
    }
  }

  // The one form the ratestask dump uses: DELETE FROM prices WHERE day = <date>;
  void remove(const Json& node, const Statement& s) {
    const Table table = table_of(node.at("relation"));
    if (table == Table::other) return other_table(node, s, "DELETE");
    const auto unsupported = [&] {
      refuse(s, "this DELETE (only 'DELETE FROM prices WHERE day = <date>;' is understood)");
    };
    if (table != Table::prices || node.contains("usingClause") || node.contains("withClause")) {
      unsupported();
    }
    const Json& where = member(node, "whereClause");
    if (!where.contains("A_Expr")) unsupported();
    const Json& expression = where["A_Expr"];
    const Json& op = member(expression, "name");
    if (expression.value("kind", "") != "AEXPR_OP" || op.size() != 1 || string_node(op[0]) != "=") {
      unsupported();
    }
    const auto is_day = [](const Json& side) {
      if (!side.contains("ColumnRef")) return false;
      const Json& fields = member(side["ColumnRef"], "fields");
      return fields.size() == 1 && fields[0].contains("String") && string_node(fields[0]) == "day";
    };
    const Json& left = member(expression, "lexpr");
    const Json& right = member(expression, "rexpr");
    if (!is_day(left) && !is_day(right)) unsupported();
    const auto text = literal(is_day(left) ? right : left, s);
    if (!text) fail(s.line, "DELETE ... WHERE day = NULL matches nothing");
    sink_.remove_prices_on(date_at(*text, s.line));
  }

  // A constant: 'text', E'text', 123, -5, NULL, date '...', '...'::date.
  std::optional<std::string> literal(const Json& item, const Statement& s) const {
    if (item.contains("TypeCast")) {
      const Json& argument = member(item["TypeCast"], "arg");
      if (!argument.contains("A_Const")) refuse(s, "a value that is not a constant");
      return constant(argument["A_Const"], s);
    }
    if (!item.contains("A_Const")) refuse(s, "a value that is not a constant");
    return constant(item["A_Const"], s);
  }

  std::optional<std::string> constant(const Json& value, const Statement& s) const {
    if (value.value("isnull", false)) return std::nullopt;
    if (value.contains("sval")) return value["sval"].value("sval", "");
    if (value.contains("fval")) return value["fval"].value("fval", "");
    if (value.contains("ival")) {
      if (value["ival"].contains("ival")) return std::to_string(value["ival"]["ival"].get<long>());
      // libpg_query 4.0's JSON leaves out an integer that is not positive; the statement's own
      // text has it.
      return integer_at(s.text, value.value("location", 0));
    }
    fail(s.line, "a constant that is neither text, a number nor NULL");
  }

  static std::string integer_at(std::string_view text, int location) {
    std::string out;
    for (std::size_t i = std::size_t(std::max(location, 0)); i < text.size(); ++i) {
      const char c = text[i];
      if (c == '-' && out.empty()) {
        out += c;
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        out += c;
      } else if (!(out == "-" && (c == ' ' || c == '\t' || c == '\n'))) {
        break;
      }
    }
    return out;
  }

  void setting(const Json& node, const Statement& s) const {
    const std::string name = node.value("name", "");
    std::string value;
    for (const Json& argument : member(node, "args")) {
      if (const auto text = literal(argument, s)) value = *text;
    }
    std::string folded;
    for (const char c : value) {
      if (c != '-' && c != '_') folded += char(std::tolower(static_cast<unsigned char>(c)));
    }
    if (name == "client_encoding" && folded != "utf8" && folded != "unicode") {
      fail(s.line, fmt::format("client_encoding '{}': only UTF8 dumps are read", value));
    }
    if (name == "standard_conforming_strings" && (folded == "off" || folded == "false")) {
      fail(s.line, "standard_conforming_strings = off: only dumps with it on are read");
    }
  }

  // pg_dump's SELECTs only call set_config and setval.
  void select(const Json& node, const Statement& s) const {
    for (const auto* clause : {"fromClause", "withClause", "intoClause", "lockingClause"}) {
      if (node.contains(clause)) refuse(s, "a SELECT that reads or writes tables");
    }
    for_each_object(node, [&](const Json& object) {
      if (!object.contains("FuncCall")) return;
      const Json& name = member(object["FuncCall"], "funcname");
      const std::string function = name.empty() ? "" : string_node(name.back());
      const std::string schema = name.size() == 2 ? string_node(name[0]) : "pg_catalog";
      if (schema != "pg_catalog" || !one_of(inert_functions, function)) {
        refuse(s, fmt::format("a call of function '{}'", function));
      }
    });
    if (contains_kind(node, {"InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt", "SubLink"})) {
      refuse(s, "a SELECT with a subquery");
    }
  }

  void alter_table(const Json& node, const Statement& s) const {
    const Table table = table_of(node.at("relation"));
    for (const Json& command : member(node, "cmds")) {
      const Json& alter = command.at("AlterTableCmd");
      const std::string subtype = alter.value("subtype", "");
      if (table != Table::other && !one_of(inert_alter_commands, subtype)) {
        refuse(s, fmt::format("ALTER TABLE {} ({})", described(table).name, subtype));
      }
      if (subtype == "AT_AddInherit" || subtype == "AT_AttachPartition") {
        refuse_if_ratestask(alter, s, "ALTER TABLE ... INHERIT or ATTACH PARTITION of");
      }
    }
  }

  // pg_dump --clean drops the tables before creating them; a drop after their data would leave
  // PostgreSQL without it.
  void drop(const Json& node, const Statement& s) const {
    const std::string type = node.value("removeType", "");
    for (const Json& object : member(node, "objects")) {
      if (!object.contains("List")) continue;
      const Json& parts = member(object["List"], "items");
      if (parts.empty() || !parts.back().contains("String")) continue;
      const std::string name = string_node(parts.back());
      const std::string schema = parts.size() == 2 ? string_node(parts[0]) : "";
      const bool drops_data =
          (type == "OBJECT_TABLE" && table_named(schema, name) != Table::other) ||
          (type == "OBJECT_SCHEMA" && name == "public");
      if (drops_data && saw_data_) refuse(s, fmt::format("DROP of '{}' after its data", name));
    }
  }

  void transaction(const Json& node, const Statement& s) const {
    const std::string kind = node.value("kind", "");
    if (kind != "TRANS_STMT_BEGIN" && kind != "TRANS_STMT_START" && kind != "TRANS_STMT_COMMIT") {
      refuse(s, fmt::format("transaction control ({})", kind));
    }
  }

  std::vector<std::size_t> column_positions(Table table, const std::vector<std::string>& names,
                                            std::int64_t line) const {
    std::vector<std::size_t> positions;
    const auto columns = described(table).columns;
    for (const auto& name : names) {
      const auto at = std::find_if(columns.begin(), columns.end(),
                                   [&](const ratestask::Column& c) { return c.name == name; });
      if (at == columns.end()) fail(line, fmt::format("unknown column '{}'", name));
      positions.push_back(std::size_t(at - columns.begin()));
    }
    // A column that may be null may be left out, as INSERT and COPY allow.
    for (std::size_t c = 0; c < columns.size(); ++c) {
      if (columns[c].not_null &&
          std::find(positions.begin(), positions.end(), c) == positions.end()) {
        fail(line, fmt::format("column '{}' is missing", columns[c].name));
      }
    }
    return positions;
  }

  std::vector<std::size_t> default_positions(Table table) const {
    std::vector<std::size_t> p(column_count(table));
    for (std::size_t c = 0; c < p.size(); ++c) p[c] = c;
    return p;
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
    if (!values[c]) fail(line, fmt::format("{} is null", described(table).columns[c].name));
    return *values[c];
  }

  void add_row(Table table, const Values& v, std::int64_t line) {
    // An escape such as \0 or E'\000' can spell a NUL, which no PostgreSQL text holds.
    for (std::size_t c = 0; c < v.size(); ++c) {
      if (v[c] && v[c]->find('\0') != std::string::npos) {
        fail(line, fmt::format("{}: a NUL character, which PostgreSQL text cannot hold",
                               described(table).columns[c].name));
      }
    }
    switch (table) {
      case Table::regions:
        sink_.region({required(v, 0, table, line), required(v, 1, table, line), v[2]}, line);
        break;
      case Table::ports:
        sink_.port(
            {required(v, 0, table, line), required(v, 1, table, line), required(v, 2, table, line)},
            line);
        break;
      case Table::prices: {
        const std::string price_text = required(v, 3, table, line);
        std::int32_t price = 0;
        const char* end = price_text.data() + price_text.size();
        const auto [stop, ec] = std::from_chars(price_text.data(), end, price);
        if (ec != std::errc{} || stop != end) {
          fail(line, fmt::format("price '{}' is not a 32-bit integer", price_text));
        }
        sink_.price({required(v, 0, table, line), required(v, 1, table, line),
                     date_at(required(v, 2, table, line), line), price},
                    line);
        break;
      }
      case Table::other:
        break;
    }
  }

  // pg_dump's COPY text format: \N is null.
  std::optional<std::string> unescape(std::string_view field) const {
    if (field == "\\N") return std::nullopt;
    return detail::copy_unescape(field);
  }

  std::istream& in_;
  DumpSink& sink_;
  const Progress& progress_;
  std::int64_t total_ = 0;
  std::int64_t bytes_ = 0;
  std::int64_t reported_ = 0;
  std::int64_t line_ = 0;
  Splitter splitter_;
  bool saw_header_ = false;  // pg_dump's opening comment
  bool saw_footer_ = false;  // and its closing one
  bool saw_data_ = false;    // a COPY or INSERT into a ratestask table
};

// Collects the rows as a Dataset; a DELETE takes back the prices of its day.
class Collector final : public DumpSink {
 public:
  void region(Region region, std::int64_t line) override {
    data.regions.push_back(std::move(region));
    data.region_lines.push_back(line);
  }
  void port(Port port, std::int64_t line) override {
    data.ports.push_back(std::move(port));
    data.port_lines.push_back(line);
  }
  void price(Price price, std::int64_t line) override {
    data.prices.push_back(std::move(price));
    data.price_lines.push_back(line);
  }
  void remove_prices_on(Date day) override {
    auto& p = data.prices;
    auto& l = data.price_lines;
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

  Dataset data;
};

}  // namespace

void read_dump(std::istream& in, DumpSink& sink, const Progress& progress,
               std::int64_t total_bytes) {
  Reader(in, sink, progress, total_bytes).run();
}

void read_dump(const std::filesystem::path& path, DumpSink& sink, const Progress& progress) {
  std::int64_t size = 0;
  std::ifstream in = detail::open_dump(path, size);
  read_dump(in, sink, progress, size);
}

Dataset read_dump(std::istream& in, const Progress& progress, std::int64_t total_bytes) {
  Collector collector;
  read_dump(in, collector, progress, total_bytes);
  return std::move(collector.data);
}

Dataset read_dump(const std::filesystem::path& path, const Progress& progress) {
  Collector collector;
  read_dump(path, collector, progress);
  return std::move(collector.data);
}

}  // namespace prkl
