// SPDX-License-Identifier: MIT
#include <fmt/format.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <stdexcept>

#include "context.hpp"
#include "postgres_server.hpp"

namespace prkl::test {

namespace {

// The server the CTest fixture started (tests/postgres/server.sh) writes its connection string
// to a file; every test gets a database of its own on it. Behind a connection pooler
// (tests/pgbouncer) the stores are reached through the pooler, while the databases are created
// on the server directly (PRKL_TEST_PG_ADMIN_CONNINFO_FILE): that is an administrator's job,
// not an application's.
std::string server_conninfo(const char* variable = "PRKL_TEST_PG_CONNINFO_FILE") {
  const char* file = std::getenv(variable);
  if (!file) throw std::runtime_error(fmt::format("{} is not set", variable));
  std::ifstream in(file);
  std::string conninfo;
  if (!std::getline(in, conninfo) || conninfo.empty()) {
    throw std::runtime_error(fmt::format("no PostgreSQL test server: '{}' is missing", file));
  }
  return conninfo;
}

void run(PGconn* conn, const std::string& sql) {
  PGresult* r = PQexec(conn, sql.c_str());
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  const std::string message = PQresultErrorMessage(r);
  PQclear(r);
  if (!ok) throw std::runtime_error(fmt::format("{}: {}", sql, message));
}

}  // namespace

std::string new_postgres_url() {
  static const std::string conninfo = server_conninfo();
  static const std::string admin = std::getenv("PRKL_TEST_PG_ADMIN_CONNINFO_FILE")
                                       ? server_conninfo("PRKL_TEST_PG_ADMIN_CONNINFO_FILE")
                                       : conninfo;
  static int counter = 0;
  const std::string name = fmt::format("prkl_test_{}_{}", getpid(), ++counter);
  PGconn* conn = PQconnectdb(admin.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    const std::string message = PQerrorMessage(conn);
    PQfinish(conn);
    throw std::runtime_error("cannot reach the PostgreSQL test server: " + message);
  }
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  try {
    run(conn, fmt::format("DROP DATABASE IF EXISTS {}", name));
    run(conn, fmt::format("CREATE DATABASE {} TEMPLATE template0", name));
  } catch (...) {
    PQfinish(conn);
    throw;
  }
  PQfinish(conn);
  return fmt::format("{} dbname={}", conninfo.substr(0, conninfo.rfind(" dbname=")), name);
}

}  // namespace prkl::test

namespace prkl::test {

std::vector<std::vector<std::optional<std::string>>> postgres_sql(const std::string& url,
                                                                  const std::string& sql) {
  const std::unique_ptr<PGconn, void (*)(PGconn*)> conn(PQconnectdb(url.c_str()), PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    throw std::runtime_error(fmt::format("cannot connect: {}", PQerrorMessage(conn.get())));
  }
  PQsetNoticeProcessor(
      conn.get(), [](void*, const char*) {}, nullptr);
  const std::unique_ptr<PGresult, void (*)(PGresult*)> r(PQexec(conn.get(), sql.c_str()), PQclear);
  const auto status = PQresultStatus(r.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    throw std::runtime_error(fmt::format("{}: {}", sql, PQresultErrorMessage(r.get())));
  }
  std::vector<std::vector<std::optional<std::string>>> rows;
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    auto& row = rows.emplace_back();
    for (int j = 0; j < PQnfields(r.get()); ++j) {
      row.push_back(PQgetisnull(r.get(), i, j)
                        ? std::nullopt
                        : std::optional<std::string>(PQgetvalue(r.get(), i, j)));
    }
  }
  return rows;
}

}  // namespace prkl::test
