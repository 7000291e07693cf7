#include "server_fixture.hpp"

#include <algorithm>

namespace secchats::testing {
namespace proto = secchats::protocol;

void ServerTest::start(std::vector<std::string> extra_args) {
  // Every test client comes from 127.0.0.1, and some tests write as fast as they can: the
  // rate limits are off unless a test sets them (limits_test.cpp does).
  for (const char* flag : {"--ip-rate-per-sec", "--user-rate-per-sec", "--register-rate-per-min"}) {
    if (std::find(extra_args.begin(), extra_args.end(), flag) == extra_args.end()) {
      extra_args.push_back(flag);
      extra_args.push_back("0");
    }
  }
  server_ = std::make_unique<ServerProcess>(
      ServerProcess::Options{data_dir_.path(), std::move(extra_args)});
  client_ = std::make_unique<HttpClient>(server_->port());
}

void ServerTest::restart(std::vector<std::string> extra_args) {
  client_.reset();
  if (server_) {
    EXPECT_EQ(server_->terminate(), 0);
  }
  start(std::move(extra_args));
}

TestUser ServerTest::register_user() {
  auto res = http().post("/register", "");
  EXPECT_EQ(res.status, 200) << res.body;
  auto user = proto::decode_user(res.body, proto::UnknownFields::kReject);
  EXPECT_TRUE(user.ok()) << res.body;
  if (!user.ok()) return {};
  return {user->user_id.value_or(""), user->auth_token.value_or("")};
}

std::string ServerTest::register_group(const TestUser& owner) {
  auto res = http().post("/register2", proto::encode(proto::User{owner.id, "", owner.token, 0}));
  EXPECT_EQ(res.status, 200) << res.body;
  auto group = proto::decode_group(res.body, proto::UnknownFields::kReject);
  EXPECT_TRUE(group.ok()) << res.body;
  return group.ok() ? group->group_id.value_or("") : std::string();
}

HttpResult ServerTest::post_message(const TestUser& from, const std::string& to,
                                    const std::string& content) {
  return http().post("/postmsg",
                     proto::encode(proto::SendMessage{to, from.token, from.id, content, 0}));
}

proto::Notifications ServerTest::receive(const TestUser& user, std::int64_t after) {
  auto res = http().post("/receive", proto::encode(proto::User{user.id, "", user.token, after}));
  EXPECT_EQ(res.status, 200) << res.body;
  auto n = proto::decode_notifications(res.body, proto::UnknownFields::kReject);
  EXPECT_TRUE(n.ok()) << res.body;
  return n.ok() ? *n : proto::Notifications{};
}

proto::GroupNotifications ServerTest::poll_groups(const TestUser& user,
                                                  const std::vector<std::string>& groups,
                                                  std::int64_t after) {
  auto res = http().post("/pollgroups",
                         proto::encode(proto::PollGroups{user.id, user.token, groups, after}));
  EXPECT_EQ(res.status, 200) << res.body;
  auto n = proto::decode_group_notifications(res.body, proto::UnknownFields::kReject);
  EXPECT_TRUE(n.ok()) << res.body;
  return n.ok() ? *n : proto::GroupNotifications{};
}

}  // namespace secchats::testing
