// SPDX-License-Identifier: MIT
#pragma once

// The ratestask tables (regions, ports, prices), described once (schema.hpp): both stores'
// schemas, their column checks on adopted tables, their reads and writes, and the dump reader
// and writer are made from it. The columns are in the order the ratestask dump declares them,
// which is the order of Region, Port and Price's members.

#include <array>
#include <span>
#include <string>

#include "storage/schema.hpp"

namespace prkl::detail::ratestask {

using schema::Column;
using schema::Dialect;
using schema::Table;
using schema::Type;

using schema::add_column;
using schema::column_list;
using schema::copy_in_sql;
using schema::create_table;
using schema::insert_sql;
using schema::select_sql;

inline constexpr Column region_columns[] = {{"slug", Type::text, true, ""},
                                            {"name", Type::text, true, ""},
                                            {"parent_slug", Type::text, false, "regions(slug)"}};
inline constexpr Column port_columns[] = {{"code", Type::text, true, ""},
                                          {"name", Type::text, true, ""},
                                          {"parent_slug", Type::text, true, "regions(slug)"}};
inline constexpr Column price_columns[] = {{"orig_code", Type::text, true, "ports(code)"},
                                           {"dest_code", Type::text, true, "ports(code)"},
                                           {"day", Type::date, true, ""},
                                           {"price", Type::integer, true, ""}};

/// prices with prkl's own columns after the ratestask ones: what each price was for. They may
/// be null, so a foreign writer's plain INSERT of the first four still counts; `prkl init` adds
/// them to an adopted table.
inline constexpr Column dimensioned_price_columns[] = {
    {"orig_code", Type::text, true, "ports(code)"},
    {"dest_code", Type::text, true, "ports(code)"},
    {"day", Type::date, true, ""},
    {"price", Type::integer, true, ""},
    {"equipment", Type::text, false, ""},
    {"term", Type::text, false, ""},
    {"received", Type::date, false, ""}};
/// The columns prkl adds to prices.
inline constexpr std::span<const Column> price_dimensions =
    std::span(dimensioned_price_columns).subspan(std::size(price_columns));

inline constexpr Table regions{"regions", region_columns, "slug"};
inline constexpr Table ports{"ports", port_columns, "code"};
inline constexpr Table prices{"prices", price_columns, ""};
/// prices as prkl writes and creates it.
inline constexpr Table dimensioned_prices{"prices", dimensioned_price_columns, ""};

/// prkl's own table of contracts (see Contract): one row each, counted on every day from
/// valid_from to valid_to. Not a ratestask table, so that a foreign reader of prices never
/// takes a contract for one day's price.
inline constexpr Column contract_columns[] = {{"orig_code", Type::text, true, "ports(code)"},
                                              {"dest_code", Type::text, true, "ports(code)"},
                                              {"valid_from", Type::date, true, ""},
                                              {"valid_to", Type::date, true, ""},
                                              {"price", Type::integer, true, ""},
                                              {"equipment", Type::text, false, ""},
                                              {"term", Type::text, false, ""},
                                              {"received", Type::date, false, ""}};
inline constexpr Table contracts{"prkl_contracts", contract_columns, ""};

/// In the order they are loaded: each only refers to those before it (and regions to itself).
inline constexpr std::array<Table, 3> tables{regions, ports, prices};

/// CREATE TABLE prkl_contracts in `dialect` (postgres or sqlite), checking what readers rely
/// on: valid_to not before valid_from, at most max_contract_days of validity; and its index,
/// lane then first day, by which a question finds the contracts that began before its range.
std::string create_contracts(Dialect dialect);

/// The ALTER TABLE statements that give the dump's tables their keys and references, as
/// pg_dump writes them after the data.
std::string dump_constraints();

}  // namespace prkl::detail::ratestask
