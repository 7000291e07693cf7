// The fixture of the `secchats daemon` tests (docs/cli.md, "The daemon: one unlock for scripts
// and bots"): a relay, CLI users made with `init`, and a daemon per user that the tests talk
// JSON-RPC to. Friendships are made through the daemons (no CLI process per step).
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "proxied_fixture.hpp"
#include "support/daemon_client.hpp"

namespace secchats::testing {

// A user with a running daemon and one connection to it.
struct DaemonUser {
  std::unique_ptr<CliUser> cli;
  std::string id;
  std::unique_ptr<DaemonProcess> daemon;
  std::unique_ptr<DaemonClient> rpc;
};

// What a direct-mode failure printed with --json on stderr: {"error":…,"exitCode":N}.
struct CliError {
  int exit_code = -1;
  std::string reason;
};
CliError cli_error(const CliResult& r);

// The `text` of every `message` event, in order.
std::vector<std::string> texts_of(const std::vector<boost::json::object>& events);
// The sorted member names of an object (compares shapes when values differ per call).
std::vector<std::string> keys_of(const boost::json::object& o);
boost::json::object params(std::initializer_list<boost::json::value_ref> init);

class DaemonE2eTest : public E2eTest {
 protected:
  // A daemon sends hundreds of messages a second, past the relay's default per-user and
  // per-address limits (a 429 leaves a send queued, not sent): these tests are about the
  // daemon, so the relay runs without those limits (they have their own relay tests).
  std::vector<std::string> server_args() const override {
    return {"--user-rate-per-sec", "0", "--ip-rate-per-sec", "0"};
  }

  // `init`s a user and starts its daemon (ready, connected).
  DaemonUser make_daemon_user(const std::string& nick);
  // (Re)starts the daemon of `u` and connects to it.
  void start_daemon(DaemonUser& u);
  // Makes a and b friends through their daemons and waits until both list each other as v2.
  void befriend_daemons(DaemonUser& a, DaemonUser& b);

  // A method that must succeed; returns its result objects.
  std::vector<boost::json::object> rpc_ok(DaemonClient& c, const std::string& method,
                                          const boost::json::object& p = {});
  // `sync` through the daemon until `pred` holds for the events collected so far (bounded;
  // returns everything collected).
  std::vector<boost::json::object> sync_until(
      DaemonClient& c, const std::function<bool(const std::vector<boost::json::object>&)>& pred,
      int rounds = 40);
  // Collects `event` notifications on a subscribed connection until `pred` holds or
  // `timeout` passes without it.
  std::vector<boost::json::object> events_until(
      DaemonClient& c, const std::function<bool(const std::vector<boost::json::object>&)>& pred,
      std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // The friend entry for `friend_id` in the `friends` result of `c`.
  boost::json::object friend_entry(DaemonClient& c, const std::string& friend_id);
};

// Alice and Bob, each with a running daemon, already v2 friends through them.
class DaemonFriendsTest : public DaemonE2eTest {
 protected:
  void SetUp() override {
    DaemonE2eTest::SetUp();
    ASSERT_NO_FATAL_FAILURE(alice_ = make_daemon_user("Alice"));
    ASSERT_NO_FATAL_FAILURE(bob_ = make_daemon_user("Bob"));
    ASSERT_NO_FATAL_FAILURE(befriend_daemons(alice_, bob_));
  }

  DaemonUser alice_, bob_;
};

}  // namespace secchats::testing
