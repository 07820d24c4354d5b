// SPDX-License-Identifier: MIT
// PostgreSQL only, without the test server: a server that takes the TCP connection and never
// answers. Without a connect timeout libpq would wait for ever; the test's CTest TIMEOUT is the
// only clock here.

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <prkl/prkl.hpp>

using namespace prkl;
using namespace std::chrono_literals;

namespace {

// Listens on a free loopback port and never accepts: the kernel completes every handshake,
// and what the client sends goes unread and unanswered.
class SilentServer {
 public:
  SilentServer() : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    REQUIRE(fd_ >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(listen(fd_, 16) == 0);
    socklen_t length = sizeof address;
    REQUIRE(getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    port_ = ntohs(address.sin_port);
  }
  ~SilentServer() { close(fd_); }
  SilentServer(const SilentServer&) = delete;
  SilentServer& operator=(const SilentServer&) = delete;
  int port() const { return port_; }

 private:
  int fd_;
  int port_ = 0;
};

StorageError::Kind failure_kind(const std::string& url, std::chrono::seconds timeout) {
  Options options;
  options.connect_timeout = timeout;
  try {
    Database::open(url, OpenMode::existing, options);
  } catch (const StorageError& e) {
    return e.kind();
  }
  FAIL("connected to a server that never answers");
  return StorageError::Kind::other;
}

}  // namespace

// Hidden from the discovered tests: CTest runs it on its own, with a TIMEOUT of its own.
TEST_CASE("connect_timeout bounds a connection the server never answers", "[.][connect-timeout]") {
  SilentServer server;
  SECTION("the option's timeout") {
    CHECK(failure_kind(fmt::format("host=127.0.0.1 port={} dbname=x", server.port()), 1s) ==
          StorageError::Kind::connection_lost);
  }
  SECTION("a key=value string's own timeout wins over the option's (0: wait for ever)") {
    CHECK(failure_kind(
              fmt::format("host=127.0.0.1 port={} connect_timeout=1 dbname=x", server.port()),
              0s) == StorageError::Kind::connection_lost);
  }
  SECTION("so does a URI's") {
    CHECK(failure_kind(fmt::format("postgresql://127.0.0.1:{}/x?connect_timeout=1", server.port()),
                       0s) == StorageError::Kind::connection_lost);
  }
}
