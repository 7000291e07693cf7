#include "e2e_fixture.hpp"

#include <algorithm>
#include <fstream>

#include "support/png_builder.hpp"

namespace secchats::testing {

std::vector<boost::json::object> json_lines(const CliResult& r) {
  std::vector<boost::json::object> out;
  for (const auto& line : r.lines()) {
    boost::system::error_code ec;
    auto v = boost::json::parse(line, ec);
    EXPECT_FALSE(ec) << "not JSON: " << line;
    if (ec || !v.is_object()) {
      ADD_FAILURE() << "not a JSON object: " << line;
      continue;
    }
    out.push_back(v.as_object());
  }
  return out;
}

boost::json::object only_json(const CliResult& r) {
  auto lines = json_lines(r);
  EXPECT_EQ(lines.size(), 1u) << r.out;
  return lines.empty() ? boost::json::object{} : lines.front();
}

std::string str(const boost::json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_string()) return {};
  return std::string(v->as_string());
}

void E2eTest::SetUp() {
  dir_ = std::make_unique<TempDir>("secchats-e2e");
  server_ = std::make_unique<ServerProcess>(
      ServerProcess::Options{dir_->path() / "relay", server_args()});
}

void E2eTest::TearDown() {
  if (server_) server_->terminate();
}

CliUser E2eTest::make_user(const std::string& nick, std::string* id) {
  CliUser user(dir_->path() / nick, "correct horse " + nick);
  auto r = user.run({"init", "--server", server_->base_url(), "--nick", nick});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto o = only_json(r);
  EXPECT_EQ(str(o, "event"), "initialized");
  EXPECT_EQ(str(o, "nickname"), nick);
  *id = str(o, "userId");
  EXPECT_GE(id->size(), 32u);
  return user;
}

std::vector<boost::json::object> E2eTest::ok(const CliUser& u,
                                             const std::vector<std::string>& args) {
  auto r = u.run(args);
  EXPECT_EQ(r.exit_code, 0) << args.front() << ": " << r.err;
  EXPECT_EQ(r.err, "") << args.front();
  return json_lines(r);
}

void E2eTest::befriend(const CliUser& a, const std::string& a_id, const CliUser& b,
                       const std::string& b_id) {
  ok(a, {"add", b_id});
  auto events = ok(b, {"sync"});
  bool asked = false;
  for (const auto& e : events) {
    asked |= str(e, "event") == "friendRequest" && str(e, "userId") == a_id;
  }
  ASSERT_TRUE(asked) << "no friendRequest event";
  ok(b, {"accept", a_id});
  events = ok(a, {"sync"});
  bool accepted = false;
  for (const auto& e : events) {
    accepted |= str(e, "event") == "friendAccepted" && str(e, "userId") == b_id;
  }
  ASSERT_TRUE(accepted) << "no friendAccepted event";
}

void E2eTest::restart_server(bool crash) {
  const unsigned short port = server_->port();
  if (crash) {
    server_->kill_hard();
  } else {
    ASSERT_EQ(server_->terminate(), 0);
  }
  server_.reset();
  server_ = std::make_unique<ServerProcess>(
      ServerProcess::Options{dir_->path() / "relay", server_args(), port});
}

std::string E2eTest::write_png(const std::string& name, std::size_t size) {
  const std::string bytes = make_png(16, 16, size);
  const auto path = (dir_->path() / name).string();
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

void expect_ctrl_c_stop_line(const std::string& err) {
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_NE(err.find("stopped at "), std::string::npos) << err;
  EXPECT_NE(err.find("run the same command again to resume"), std::string::npos) << err;
  EXPECT_NE(err.find("\"exitCode\":130"), std::string::npos) << err;
}

}  // namespace secchats::testing
