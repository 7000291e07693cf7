#include "daemon_fixture.hpp"

#include <algorithm>
#include <thread>

namespace secchats::testing {

CliError cli_error(const CliResult& r) {
  CliError e;
  e.exit_code = r.exit_code;
  bool ok = false;
  auto o = parse_object(r.err.substr(0, r.err.find('\n')), &ok);
  if (ok) e.reason = str(o, "error");
  return e;
}

std::vector<std::string> texts_of(const std::vector<boost::json::object>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) {
    if (str(e, "event") == "message" && str(e, "type") == "TEXT") out.push_back(str(e, "text"));
  }
  return out;
}

std::vector<std::string> keys_of(const boost::json::object& o) {
  std::vector<std::string> out;
  for (const auto& kv : o)
    out.emplace_back(kv.key());
  std::sort(out.begin(), out.end());
  return out;
}

boost::json::object params(std::initializer_list<boost::json::value_ref> init) {
  return boost::json::value(init).as_object();
}

DaemonUser DaemonE2eTest::make_daemon_user(const std::string& nick) {
  DaemonUser u;
  u.cli = std::make_unique<CliUser>(make_user(nick, &u.id));
  start_daemon(u);
  return u;
}

void DaemonE2eTest::start_daemon(DaemonUser& u) {
  u.rpc.reset();
  u.daemon = std::make_unique<DaemonProcess>(*u.cli);
  ASSERT_TRUE(u.daemon->ready()) << "no daemonReady: " << u.daemon->ready_line() << " "
                                 << u.daemon->stderr_text();
  std::string error;
  u.rpc = u.daemon->connect(&error);
  ASSERT_TRUE(u.rpc) << "cannot connect to " << u.daemon->socket() << ": " << error;
}

std::vector<boost::json::object> DaemonE2eTest::rpc_ok(DaemonClient& c, const std::string& method,
                                                       const boost::json::object& p) {
  auto r = c.call(method, p);
  EXPECT_TRUE(r.ok()) << method << " " << boost::json::serialize(p) << ": " << r.describe();
  if (r.ok()) {
    EXPECT_TRUE(r.result.is_array()) << method << ": " << r.describe();
  }
  return r.objects();
}

std::vector<boost::json::object> DaemonE2eTest::sync_until(
    DaemonClient& c, const std::function<bool(const std::vector<boost::json::object>&)>& pred,
    int rounds) {
  std::vector<boost::json::object> all;
  for (int i = 0; i < rounds; ++i) {
    for (auto& o : rpc_ok(c, "sync"))
      all.push_back(std::move(o));
    if (pred(all)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return all;
}

std::vector<boost::json::object> DaemonE2eTest::events_until(
    DaemonClient& c, const std::function<bool(const std::vector<boost::json::object>&)>& pred,
    std::chrono::milliseconds timeout) {
  std::vector<boost::json::object> all;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred(all)) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    auto e = c.next_event(left);
    if (!e) break;
    all.push_back(std::move(*e));
  }
  return all;
}

boost::json::object DaemonE2eTest::friend_entry(DaemonClient& c, const std::string& friend_id) {
  for (const auto& f : rpc_ok(c, "friends")) {
    if (str(f, "userId") == friend_id) return f;
  }
  return {};
}

void DaemonE2eTest::befriend_daemons(DaemonUser& a, DaemonUser& b) {
  auto sent = rpc_ok(*a.rpc, "add", params({{"id", b.id}}));
  ASSERT_EQ(sent.size(), 1u) << dump(sent);
  EXPECT_EQ(str(sent[0], "event"), "requestSent");
  auto has = [](const char* event, const std::string& id) {
    return [event, id](const std::vector<boost::json::object>& all) {
      return std::any_of(all.begin(), all.end(), [&](const boost::json::object& e) {
        return str(e, "event") == event && str(e, "userId") == id;
      });
    };
  };
  auto asked = sync_until(*b.rpc, has("friendRequest", a.id));
  ASSERT_TRUE(has("friendRequest", a.id)(asked)) << dump(asked);
  rpc_ok(*b.rpc, "accept", params({{"id", a.id}}));
  auto accepted = sync_until(*a.rpc, has("friendAccepted", b.id));
  ASSERT_TRUE(has("friendAccepted", b.id)(accepted)) << dump(accepted);
  // The daemons' live sync loops (and these syncs) carry the v2 upgrade.
  for (int i = 0; i < 40; ++i) {
    if (str(friend_entry(*a.rpc, b.id), "protocol") == "v2" &&
        str(friend_entry(*b.rpc, a.id), "protocol") == "v2") {
      return;
    }
    rpc_ok(*b.rpc, "sync");
    rpc_ok(*a.rpc, "sync");
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  ADD_FAILURE() << "the friendship did not become v2 through the daemons";
}

}  // namespace secchats::testing
