#include <fmt/format.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "context.hpp"

namespace prkl::test {

namespace {

// The server the CTest fixture started (tests/postgres/server.sh) writes its connection string
// to a file; every test gets a database of its own on it.
std::string server_conninfo() {
  const char* file = std::getenv("PRKL_TEST_PG_CONNINFO_FILE");
  if (!file) throw std::runtime_error("PRKL_TEST_PG_CONNINFO_FILE is not set");
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

std::string backend_name() {
  return "postgresql";
}

std::string new_store_url() {
  static const std::string conninfo = server_conninfo();
  static int counter = 0;
  const std::string name = fmt::format("prkl_test_{}_{}", getpid(), ++counter);
  PGconn* conn = PQconnectdb(conninfo.c_str());
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
