// Shared setup for tests against a running server: start it, register users, build bodies.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "secchats/protocol/json_codec.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace secchats::testing {

struct TestUser {
  std::string id;
  std::string token;
};

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { start(); }

  void start(std::vector<std::string> extra_args = {});
  void restart(std::vector<std::string> extra_args = {});
  HttpClient& http() { return *client_; }
  ServerProcess& server() { return *server_; }

  TestUser register_user();
  std::string register_group(const TestUser& owner);
  HttpResult post_message(const TestUser& from, const std::string& to, const std::string& content);
  protocol::Notifications receive(const TestUser& user, std::int64_t after = 0);
  protocol::GroupNotifications poll_groups(const TestUser& user,
                                           const std::vector<std::string>& groups,
                                           std::int64_t after = 0);

  TempDir data_dir_{"secchats-server"};
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> client_;
};

}  // namespace secchats::testing
