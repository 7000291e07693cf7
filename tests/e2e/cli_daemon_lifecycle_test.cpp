// `secchats daemon`'s life (docs/cli.md, "Starting and stopping"): the CLI hands its work to a
// running daemon and falls back without one, the socket is 0600, one daemon per home, a stale
// socket after kill -9 is replaced, SIGTERM finishes the request in flight, and a kill -9 in
// the middle of a stream of sends loses and duplicates nothing the relay acknowledged, and a
// transfer whose client has gone (Ctrl-C) stops resumable instead of being sent anyway.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "daemon_fixture.hpp"

namespace secchats::testing {
namespace {

namespace fs = std::filesystem;

class CliDaemonLifecycle : public DaemonE2eTest {};

TEST_F(CliDaemonLifecycle, TheCliUsesARunningDaemonAndFallsBackWithoutOne) {
  DaemonUser alice;
  ASSERT_NO_FATAL_FAILURE(alice = make_daemon_user("Alice"));
  DaemonUser bob;
  ASSERT_NO_FATAL_FAILURE(bob = make_daemon_user("Bob"));
  ASSERT_NO_FATAL_FAILURE(befriend_daemons(alice, bob));
  // A wrong password would fail to unlock (exit 3): success means the daemon served it.
  CliUser no_password(alice.cli->home(), "not the password");
  auto via_daemon = no_password.run({"friends"});
  ASSERT_EQ(via_daemon.exit_code, 0) << via_daemon.err;
  auto direct = alice.cli->run({"--no-daemon", "friends"});
  ASSERT_EQ(direct.exit_code, 0) << direct.err;
  EXPECT_EQ(via_daemon.out, direct.out);
  // Human output too (the daemon's "format":"text").
  auto text_via_daemon = no_password.run({"friends"}, /*json=*/false);
  auto text_direct = alice.cli->run({"--no-daemon", "friends"}, /*json=*/false);
  EXPECT_EQ(text_via_daemon.exit_code, 0) << text_via_daemon.err;
  EXPECT_EQ(text_via_daemon.out, text_direct.out);
  auto sent = no_password.run({"send", "Bob", "sent through the daemon"});
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  EXPECT_EQ(str(only_json(sent), "event"), "sent");
  // A failure through the daemon: the same exit code and stderr line as direct mode.
  auto fail_daemon = no_password.run({"send", "Nobody", "x"});
  auto fail_direct = alice.cli->run({"--no-daemon", "send", "Nobody", "x"});
  EXPECT_EQ(fail_daemon.exit_code, fail_direct.exit_code);
  EXPECT_EQ(fail_daemon.err, fail_direct.err);
  EXPECT_EQ(fail_daemon.out, "");
  // --no-daemon forces direct mode: the wrong password is refused.
  EXPECT_EQ(no_password.run({"--no-daemon", "friends"}).exit_code, 3);

  auto got = sync_until(
      *bob.rpc, [](const std::vector<boost::json::object>& all) { return !texts_of(all).empty(); });
  EXPECT_EQ(texts_of(got), std::vector<std::string>{"sent through the daemon"}) << dump(got);

  // No daemon: the CLI unlocks itself (and the wrong password is refused again).
  EXPECT_EQ(alice.daemon->terminate(), 0) << alice.daemon->stderr_text();
  EXPECT_FALSE(fs::exists(alice.daemon->socket()));
  auto fallback = alice.cli->run({"friends"});
  EXPECT_EQ(fallback.exit_code, 0) << fallback.err;
  EXPECT_EQ(fallback.out, direct.out);
  EXPECT_EQ(no_password.run({"friends"}).exit_code, 3);
}

TEST_F(CliDaemonLifecycle, TheSocketIsPrivateAndASecondDaemonIsRefused) {
  DaemonUser alice;
  ASSERT_NO_FATAL_FAILURE(alice = make_daemon_user("Alice"));
  EXPECT_EQ(alice.daemon->user_id(), alice.id);
  EXPECT_EQ(alice.daemon->socket(), alice.cli->home() / "daemon.sock");
  struct stat st {};
  ASSERT_EQ(::stat(alice.daemon->socket().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  DaemonProcess::Options no_wait;
  no_wait.wait_ready = false;
  DaemonProcess second(*alice.cli, no_wait);
  EXPECT_EQ(second.wait(std::chrono::seconds(60)), 7);
  EXPECT_NE(second.stderr_text().find("another secchats daemon serves"), std::string::npos)
      << second.stderr_text();
  // The first one is unaffected.
  auto id = rpc_ok(*alice.rpc, "id");
  ASSERT_EQ(id.size(), 1u);
  EXPECT_EQ(str(id[0], "userId"), alice.id);
  EXPECT_TRUE(fs::exists(alice.daemon->socket()));

  // --socket names another path; the ready line says which.
  EXPECT_EQ(alice.daemon->terminate(), 0);
  const fs::path other = dir_->path() / "alice.sock";
  DaemonProcess::Options at_other;
  at_other.socket = other;
  DaemonProcess elsewhere(*alice.cli, at_other);
  ASSERT_TRUE(elsewhere.ready()) << elsewhere.stderr_text();
  EXPECT_EQ(elsewhere.socket(), other);
  auto c = elsewhere.connect();
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->call("id").ok());
  EXPECT_EQ(elsewhere.terminate(), 0);
}

TEST_F(CliDaemonLifecycle, AStaleSocketAfterKill9IsDetectedAndReplaced) {
  DaemonUser alice;
  ASSERT_NO_FATAL_FAILURE(alice = make_daemon_user("Alice"));
  const fs::path socket = alice.daemon->socket();
  alice.rpc.reset();
  alice.daemon->kill_hard();
  // Nobody behind the socket file (if it is still there): the CLI runs in direct mode.
  auto r = alice.cli->run({"id"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(str(only_json(r), "userId"), alice.id);
  ASSERT_NO_FATAL_FAILURE(start_daemon(alice));
  EXPECT_EQ(alice.daemon->socket(), socket);
  auto id = rpc_ok(*alice.rpc, "id");
  ASSERT_EQ(id.size(), 1u);
  EXPECT_EQ(str(id[0], "userId"), alice.id);
}

TEST_F(CliDaemonLifecycle, SigtermFinishesTheRequestInFlightAndExitsCleanly) {
  DaemonUser alice;
  ASSERT_NO_FATAL_FAILURE(alice = make_daemon_user("Alice"));
  DaemonUser bob;
  ASSERT_NO_FATAL_FAILURE(bob = make_daemon_user("Bob"));
  ASSERT_NO_FATAL_FAILURE(befriend_daemons(alice, bob));
  const fs::path file = dir_->path() / "big.dat";
  {
    std::ofstream out(file, std::ios::binary);
    std::string block(1 << 20, 'b');
    for (int i = 0; i < 8; ++i)
      out << block;
  }
  const auto send_id = alice.rpc->send_request(
      "sendFile", params({{"friend", "Bob"}, {"path", file.string()}, {"asFile", true}}));
  const auto queued_id = alice.rpc->send_request("friends");
  // In flight once its first progress notification came.
  auto progress = alice.rpc->next_notification(std::chrono::seconds(60));
  ASSERT_TRUE(progress) << "no progress notification";
  EXPECT_EQ(str(*progress, "method"), "progress");
  EXPECT_EQ(progress->at("params").as_object().at("requestId").as_int64(), send_id);
  alice.daemon->signal(SIGTERM);

  auto sent = alice.rpc->wait_reply(send_id, std::chrono::seconds(120));
  ASSERT_TRUE(sent.ok()) << sent.describe();
  EXPECT_FALSE(events_of(sent.objects(), "sent").empty()) << sent.describe();
  auto queued = alice.rpc->wait_reply(queued_id, std::chrono::seconds(30));
  // The request behind it either ran first or is answered "the daemon is stopping".
  if (queued.is_error()) {
    EXPECT_EQ(queued.code, 1) << queued.describe();
    EXPECT_EQ(queued.message, "the daemon is stopping");
  } else {
    EXPECT_TRUE(queued.ok()) << queued.describe();
  }
  EXPECT_EQ(alice.daemon->wait(std::chrono::seconds(60)), 0) << alice.daemon->stderr_text();
  EXPECT_FALSE(fs::exists(alice.daemon->socket()));
  EXPECT_FALSE(DaemonClient::connect(alice.daemon->socket()));

  // The file the answer called sent is Bob's.
  auto got = sync_until(*bob.rpc, [](const std::vector<boost::json::object>& all) {
    for (const auto& e : all) {
      if (str(e, "type") == "FILE") return true;
    }
    return false;
  });
  bool file_arrived = false;
  for (const auto& e : got)
    file_arrived |= str(e, "type") == "FILE";
  EXPECT_TRUE(file_arrived) << dump(got);
}

TEST_F(CliDaemonLifecycle, Kill9MidSendLosesAndDuplicatesNothingTheRelayAcknowledged) {
  DaemonUser alice;
  ASSERT_NO_FATAL_FAILURE(alice = make_daemon_user("Alice"));
  DaemonUser bob;
  ASSERT_NO_FATAL_FAILURE(bob = make_daemon_user("Bob"));
  ASSERT_NO_FATAL_FAILURE(befriend_daemons(alice, bob));
  constexpr int kSends = 60;
  std::vector<std::int64_t> ids;
  for (int i = 0; i < kSends; ++i) {
    ids.push_back(alice.rpc->send_request(
        "send", params({{"friend", "Bob"}, {"text", "k" + std::to_string(i)}})));
  }
  // Kill it once some, not all, were answered.
  std::set<std::string> answered;
  for (int i = 0; i < kSends; ++i) {
    auto r = alice.rpc->wait_reply(ids[i], std::chrono::seconds(60));
    ASSERT_TRUE(r.ok()) << r.describe();
    answered.insert("k" + std::to_string(i));
    if (i == 14) break;
  }
  alice.daemon->kill_hard();
  // Answers that were on their way before the kill still count as answered.
  for (int i = 15; i < kSends; ++i) {
    auto r = alice.rpc->wait_reply(ids[i], std::chrono::milliseconds(200));
    if (r.ok()) answered.insert("k" + std::to_string(i));
    if (r.kind == RpcReply::Kind::kClosed) break;
  }

  // A new daemon posts what was not acknowledged; its sync flushes the outbox.
  ASSERT_NO_FATAL_FAILURE(start_daemon(alice));
  rpc_ok(*alice.rpc, "sync");
  auto pending = rpc_ok(*alice.rpc, "pending");
  EXPECT_TRUE(pending.empty()) << dump(pending);
  // What Alice's store has as sent: the answered ones and any the kill caught stored.
  std::set<std::string> stored;
  for (const auto& m : rpc_ok(*alice.rpc, "history", params({{"chat", "Bob"}}))) {
    if (str(m, "type") == "TEXT") stored.insert(str(m, "text"));
  }
  for (const auto& t : answered)
    EXPECT_TRUE(stored.count(t)) << t << " was answered but is not in Alice's history";

  auto received = sync_until(*bob.rpc, [&](const std::vector<boost::json::object>& all) {
    auto t = texts_of(all);
    return std::set<std::string>(t.begin(), t.end()).size() >= stored.size();
  });
  // One more round: a duplicate would show now.
  for (auto& e : rpc_ok(*bob.rpc, "sync"))
    received.push_back(std::move(e));
  std::map<std::string, int> seen;
  for (const auto& t : texts_of(received))
    ++seen[t];
  for (const auto& t : stored)
    EXPECT_EQ(seen[t], 1) << t;
  for (const auto& [t, n] : seen)
    EXPECT_TRUE(stored.count(t)) << t << " arrived but Alice does not have it";
}

// A `secchats send-file` ended by Ctrl-C dies with its connection; the daemon must take that
// as the Ctrl-C it is (docs/cli.md, "Attachments: progress and Ctrl-C"): the transfer stops
// at a resumable point and the file is not sent behind the user's back.
TEST_F(CliDaemonLifecycle, ATransferWhoseClientHasGoneStopsResumable) {
  DaemonUser alice;
  ASSERT_NO_FATAL_FAILURE(alice = make_daemon_user("Alice"));
  DaemonUser bob;
  ASSERT_NO_FATAL_FAILURE(bob = make_daemon_user("Bob"));
  ASSERT_NO_FATAL_FAILURE(befriend_daemons(alice, bob));
  const fs::path file = dir_->path() / "abandoned.dat";
  {
    std::ofstream out(file, std::ios::binary);
    std::string block(1 << 20, 'c');
    for (int i = 0; i < 16; ++i)
      out << block;
  }
  {
    auto gone = alice.daemon->connect();
    ASSERT_TRUE(gone);
    ASSERT_GE(
        gone->send_request("sendFile",
                           params({{"friend", "Bob"}, {"path", file.string()}, {"asFile", true}})),
        0);
  }  // closed at once, as a CLI killed by Ctrl-C

  // Requests run one at a time: this one is answered after the transfer ended.
  auto pending = rpc_ok(*alice.rpc, "pending");
  for (const auto& m : rpc_ok(*alice.rpc, "history", params({{"chat", "Bob"}}))) {
    if (str(m, "type") != "FILE") continue;
    // Stopped after its message was stored: in the outbox, upload unfinished, never posted.
    ASSERT_EQ(pending.size(), 1u) << dump(pending);
    EXPECT_EQ(str(pending[0], "type"), "FILE");
    EXPECT_EQ(str(pending[0], "delivery"), "pending");
    EXPECT_EQ(str(pending[0].at("attachment").as_object(), "uploadState"), "uploading")
        << dump(pending);
  }
  // A limit below 1 is refused in plain words (not CLI11's range of a 300-digit double).
  auto bad_limit = alice.rpc->call("history", params({{"chat", "Bob"}, {"limit", 0}}));
  ASSERT_TRUE(bad_limit.is_error()) << bad_limit.describe();
  EXPECT_EQ(bad_limit.code, -32602);
  EXPECT_EQ(bad_limit.message, "--limit: N must be a whole number of at least 1");
}

}  // namespace
}  // namespace secchats::testing
