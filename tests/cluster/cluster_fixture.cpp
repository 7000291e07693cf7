#include "cluster_fixture.hpp"

#include <boost/json.hpp>

#include <algorithm>

#include "secchats/protocol/json_codec.hpp"

namespace secchats::testing {
namespace proto = secchats::protocol;

std::vector<std::string> relay_args(const std::string& uri, std::vector<std::string> extra) {
  std::vector<std::string> args = {"--storage", uri, "--longpoll-timeout-ms", "10000"};
  // Every test client comes from 127.0.0.1 and some write as fast as they can.
  for (const char* flag : {"--ip-rate-per-sec", "--user-rate-per-sec", "--register-rate-per-min"}) {
    if (std::find(extra.begin(), extra.end(), flag) == extra.end()) {
      args.push_back(flag);
      args.push_back("0");
    }
  }
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

void ClusterTest::SetUp() {
  uri_ = PgCluster::shared().create_database();
  start_pair(uri_);
}

Relay ClusterTest::start_relay(const std::string& uri, std::vector<std::string> extra_args) {
  Relay relay;
  relay.data_dir = std::make_unique<TempDir>("secchats-relay");
  relay.process = std::make_unique<ServerProcess>(
      ServerProcess::Options{relay.data_dir->path(), relay_args(uri, std::move(extra_args))});
  return relay;
}

void ClusterTest::start_pair(const std::string& uri, std::vector<std::string> extra_args) {
  a_ = start_relay(uri, extra_args);
  b_ = start_relay(uri, std::move(extra_args));
}

ClusterUser ClusterTest::register_user(HttpClient& http) {
  auto res = http.post("/register", "");
  EXPECT_EQ(res.status, 200) << res.body;
  auto user = proto::decode_user(res.body, proto::UnknownFields::kReject);
  EXPECT_TRUE(user.ok()) << res.body;
  if (!user.ok()) return {};
  return {user->user_id.value_or(""), user->auth_token.value_or("")};
}

HttpResult ClusterTest::post_message(HttpClient& http, const ClusterUser& from,
                                     const std::string& to, const std::string& content) {
  return http.post("/postmsg",
                   proto::encode(proto::SendMessage{to, from.token, from.id, content, 0}));
}

std::vector<proto::SendMessage> ClusterTest::receive(HttpClient& http, const ClusterUser& user,
                                                     std::int64_t after) {
  auto res = http.post("/receive", proto::encode(proto::User{user.id, "", user.token, after}));
  EXPECT_EQ(res.status, 200) << res.body;
  if (res.status != 200) return {};
  auto n = proto::decode_notifications(res.body, proto::UnknownFields::kReject);
  EXPECT_TRUE(n.ok()) << res.body;
  return n.ok() ? n->messages : std::vector<proto::SendMessage>{};
}

std::set<std::string> ClusterTest::receive_all(HttpClient& http, const ClusterUser& user,
                                               std::int64_t& cursor) {
  std::set<std::string> seen;
  for (;;) {
    auto messages = receive(http, user, cursor);
    if (messages.empty()) return seen;
    for (const auto& m : messages) {
      EXPECT_TRUE(seen.insert(*m.enc_content).second) << "twice: " << *m.enc_content;
      cursor = m.timestamp;
    }
  }
}

std::int64_t ClusterTest::varz(unsigned short port, const char* name) {
  auto res = HttpClient(port).get("/varz");
  EXPECT_EQ(res.status, 200) << res.body;
  if (res.status != 200) return -1;
  return boost::json::parse(res.body).at(name).as_int64();
}

}  // namespace secchats::testing
