// Two real secchats-server processes on loopback sharing one PostgreSQL database (issue 13):
// the fixture for the relay_cluster_test binary. Each test gets a fresh database on the
// binary's shared throwaway cluster (tests/support/pg_cluster), or a cluster of its own when it
// stops PostgreSQL.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "secchats/protocol/objects.hpp"
#include "support/http_client.hpp"
#include "support/pg_cluster.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace secchats::testing {

struct ClusterUser {
  std::string id;
  std::string token;
};

// One relay of the pair: its process and its own data dir (only the TLS certificate would go
// there; messages and blobs are in PostgreSQL).
struct Relay {
  std::unique_ptr<TempDir> data_dir;
  std::unique_ptr<ServerProcess> process;
  unsigned short port() const { return process->port(); }
};

class ClusterTest : public ::testing::Test {
 protected:
  // A fresh database on PgCluster::shared() and two relays on it.
  void SetUp() override;

  // Starts a relay on `uri` with the rate limits off and `extra_args`.
  static Relay start_relay(const std::string& uri, std::vector<std::string> extra_args = {});
  // Both relays, on `uri` (the fresh database unless a test passes its own cluster's).
  void start_pair(const std::string& uri, std::vector<std::string> extra_args = {});

  static ClusterUser register_user(HttpClient& http);
  static HttpResult post_message(HttpClient& http, const ClusterUser& from, const std::string& to,
                                 const std::string& content);
  // /receive from `after`: the messages (empty, with a test failure, on a non-200).
  static std::vector<protocol::SendMessage> receive(HttpClient& http, const ClusterUser& user,
                                                    std::int64_t after);
  // Pages through /receive from `cursor` until nothing is left and moves `cursor` to the
  // newest timestamp: the contents received (a content received twice fails the test).
  static std::set<std::string> receive_all(HttpClient& http, const ClusterUser& user,
                                           std::int64_t& cursor);
  // A number from the relay's /varz ("" path = top level).
  static std::int64_t varz(unsigned short port, const char* name);

  std::string uri_;
  Relay a_;
  Relay b_;
};

// The relay arguments that every cluster test passes.
std::vector<std::string> relay_args(const std::string& uri, std::vector<std::string> extra);

}  // namespace secchats::testing
