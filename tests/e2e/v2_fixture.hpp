// The fixture of the protocol v2 end-to-end tests: CLI users whose relay is a recording
// (and, when a test says so, tampering) proxy in front of the real relay.
#pragma once

#include <boost/json.hpp>
#include <memory>
#include <string>
#include <vector>

#include "proxied_fixture.hpp"

namespace secchats::testing {

using Exchange = TamperingProxy::Exchange;

// A /postmsg as the relay received it.
struct Posted {
  std::string from, to, enc_content;
};

inline std::vector<Posted> posted(const TamperingProxy& proxy) {
  std::vector<Posted> out;
  for (const Exchange& x : proxy.exchanges("/postmsg")) {
    auto v = boost::json::parse(x.forwarded_body).as_object();
    out.push_back({str(v, "fromUserId"), str(v, "toId"), str(v, "encContent")});
  }
  return out;
}

class CliV2 : public ProxiedE2eTest {
 protected:
  boost::json::object friend_entry(const CliUser& u, const std::string& friend_id) {
    for (const auto& f : ok(u, {"friends"})) {
      if (str(f, "userId") == friend_id) return f;
    }
    ADD_FAILURE() << "not a friend: " << friend_id;
    return {};
  }

  // Befriends and syncs both sides until both list each other as v2; returns the syncs it
  // took after the friendship was made.
  int befriend_v2(const CliUser& a, const std::string& a_id, const CliUser& b,
                  const std::string& b_id) {
    befriend(a, a_id, b, b_id);
    int syncs = 0;
    for (int round = 0; round < 3; ++round) {
      if (str(friend_entry(a, b_id), "protocol") == "v2" &&
          str(friend_entry(b, a_id), "protocol") == "v2") {
        break;
      }
      for (const auto* u : {&b, &a}) {
        auto events = ok(*u, {"sync"});
        // Upgrade traffic is invisible: no messages, no warnings.
        EXPECT_TRUE(events.empty()) << dump(events);
        ++syncs;
      }
    }
    return syncs;
  }
};

}  // namespace secchats::testing
