// The proxy-fronted end-to-end fixture: a recording (and, when a test says so, tampering)
// proxy in front of the real relay, and CLI users whose relay URL is the proxy.
#pragma once

#include <boost/json.hpp>
#include <memory>
#include <string>
#include <vector>

#include "e2e_fixture.hpp"
#include "support/tampering_proxy.hpp"

namespace secchats::testing {

inline std::vector<boost::json::object> events_of(const std::vector<boost::json::object>& lines,
                                                  const std::string& event) {
  std::vector<boost::json::object> out;
  for (const auto& o : lines) {
    if (str(o, "event") == event) out.push_back(o);
  }
  return out;
}

inline std::string dump(const std::vector<boost::json::object>& objects) {
  std::string out;
  for (const auto& o : objects)
    out += boost::json::serialize(o) + "\n";
  return out;
}

inline bool flag(const boost::json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v && v->is_bool() && v->as_bool();
}

class ProxiedE2eTest : public E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    proxy_ = std::make_unique<TamperingProxy>(server_->port());
  }
  void TearDown() override {
    proxy_.reset();
    E2eTest::TearDown();
  }

  // A CLI user whose relay is the proxy. `home` names its directory (default: the nickname;
  // give one when two users share a nickname).
  CliUser make_cli(const std::string& nick, std::string* id, const std::string& home = "") {
    CliUser user(dir_->path() / (home.empty() ? nick : home), "correct horse " + nick);
    auto r = user.run({"init", "--server", proxy_->base_url(), "--nick", nick});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    *id = str(only_json(r), "userId");
    return user;
  }

  std::unique_ptr<TamperingProxy> proxy_;
};

}  // namespace secchats::testing
