// The daemon's follow-ups from the newcomer review (docs/cli.md, "The daemon"): Ctrl-C on a
// transfer served by the daemon stops it through `cancelRequest` and says so as direct mode
// does (exit 130); the idle daemon posts a send queued while the relay was down once it is
// back, with nobody subscribed and no further command; an unknown command is named.
#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>

#include "daemon_fixture.hpp"
#include "v2_fixture.hpp"

namespace secchats::testing {
namespace {

namespace fs = std::filesystem;

void write_big_file(const fs::path& path, std::size_t mib) {
  std::ofstream out(path, std::ios::binary);
  std::string block(1 << 20, 'd');
  for (std::size_t i = 0; i < mib; ++i) {
    block[0] = static_cast<char>(i);  // not one long run of a byte
    out << block;
  }
}

// A daemon whose relay is the throttling proxy: transfers take seconds, so Ctrl-C lands in one.
class CliDaemonCancel : public CliV2 {};

TEST_F(CliDaemonCancel, CtrlCOnAServedTransferStopsItAndSaysSoLikeDirectMode) {
  std::string alice_id, bob_id;
  CliUser alice = make_cli("Alice", &alice_id);
  CliUser bob = make_cli("Bob", &bob_id);
  befriend_v2(alice, alice_id, bob, bob_id);  // files need protocol v2
  DaemonProcess daemon(alice);
  ASSERT_TRUE(daemon.ready()) << daemon.stderr_text();
  auto rpc = daemon.connect();
  ASSERT_TRUE(rpc);

  // cancelRequest for nothing in flight, or with bad params: answered, nothing changes.
  auto none = rpc->call("cancelRequest", params({{"id", 999}}));
  ASSERT_TRUE(none.ok()) << none.describe();
  EXPECT_EQ(boost::json::serialize(none.result), R"({"cancelled":false})");
  auto bad = rpc->call("cancelRequest", params({{"request", 1}}));
  ASSERT_TRUE(bad.is_error()) << bad.describe();
  EXPECT_EQ(bad.code, -32602);
  // Not a transfer: unaffected (false), and it still answers its own outcome.
  const auto send_id = rpc->send_request("send", params({{"friend", "Bob"}, {"text", "kept"}}));
  auto not_transfer = rpc->call("cancelRequest", params({{"id", send_id}}));
  ASSERT_TRUE(not_transfer.ok()) << not_transfer.describe();
  EXPECT_EQ(boost::json::serialize(not_transfer.result), R"({"cancelled":false})");
  ASSERT_TRUE(rpc->wait_reply(send_id).ok());

  const fs::path file = dir_->path() / "big.bin";
  write_big_file(file, 40);
  proxy_->set_throttle(8u << 20);  // about 5 s for the upload
  {
    CliBackground cli(alice, {"send-file", "Bob", file.string(), "--as-file"});
    bool midway = false;
    while (auto line = cli.next_line(std::chrono::seconds(60))) {
      auto v = boost::json::parse(*line).as_object();
      ASSERT_NE(str(v, "event"), "sent") << "finished before it could be interrupted";
      if (str(v, "phase") == "uploading" && v.at("percent").to_number<double>() >= 10) {
        midway = true;
        break;
      }
    }
    ASSERT_TRUE(midway) << cli.stderr_text();
    EXPECT_EQ(cli.stop(SIGINT), 130);
    expect_ctrl_c_stop_line(cli.stderr_text());
  }
  proxy_->set_throttle(0);
  // Stopped resumable: in the outbox with its upload unfinished, never posted.
  auto pending = rpc->call("pending");
  ASSERT_TRUE(pending.ok()) << pending.describe();
  auto items = pending.objects();
  ASSERT_EQ(items.size(), 1u) << pending.describe();
  EXPECT_EQ(str(items[0], "type"), "FILE");
  EXPECT_EQ(str(items[0].at("attachment").as_object(), "uploadState"), "uploading");
  // The daemon answered the cancel; it did not see a dead connection first.
  EXPECT_EQ(daemon.stderr_text().find("clients connected"), std::string::npos);
}

class CliDaemonIdle : public DaemonE2eTest {};

TEST_F(CliDaemonIdle, ASendQueuedWhileTheRelayWasDownGoesOutOnceItIsBack) {
  DaemonUser alice;
  ASSERT_NO_FATAL_FAILURE(alice = make_daemon_user("Alice"));
  DaemonUser bob;
  ASSERT_NO_FATAL_FAILURE(bob = make_daemon_user("Bob"));
  ASSERT_NO_FATAL_FAILURE(befriend_daemons(alice, bob));
  CliUser no_password(alice.cli->home(), "not the password");  // only the daemon serves it

  const unsigned short port = server_->port();
  ASSERT_EQ(server_->terminate(), 0);
  server_.reset();
  auto queued = no_password.run({"send", "Bob", "sent while the relay was down"});
  EXPECT_EQ(queued.exit_code, 4) << queued.err;
  EXPECT_NE(queued.err.find("queued, not sent yet"), std::string::npos) << queued.err;
  server_ =
      std::make_unique<ServerProcess>(ServerProcess::Options{dir_->path() / "relay", {}, port});

  // No command to alice from here on: her idle daemon posts it (nobody is subscribed).
  auto got = sync_until(
      *bob.rpc, [](const std::vector<boost::json::object>& all) { return !texts_of(all).empty(); },
      160);
  EXPECT_EQ(texts_of(got), std::vector<std::string>{"sent while the relay was down"}) << dump(got);

  // Its delivery waits for alice's next sync, once.
  auto synced = no_password.run({"sync"}, /*json=*/false);
  ASSERT_EQ(synced.exit_code, 0) << synced.err;
  EXPECT_NE(synced.out.find("(queued earlier) to Bob"), std::string::npos) << synced.out;
  auto again = no_password.run({"sync"}, /*json=*/false);
  EXPECT_EQ(again.out.find("queued earlier"), std::string::npos) << again.out;
  EXPECT_EQ(alice.daemon->stderr_text().find("clients connected"), std::string::npos);
}

TEST_F(CliDaemonIdle, AnUnknownCommandIsNamedInDirectAndDaemonMode) {
  DaemonUser alice;
  ASSERT_NO_FATAL_FAILURE(alice = make_daemon_user("Alice"));
  for (const bool direct : {false, true}) {
    std::vector<std::string> args;
    if (direct) args.push_back("--no-daemon");
    args.push_back("bogus");
    auto r = alice.cli->run(args, /*json=*/false);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.err, "secchats: unknown command: bogus (see --help)\n");
    args.insert(args.end() - 1, "group");
    auto g = alice.cli->run(args, /*json=*/false);
    EXPECT_EQ(g.exit_code, 2) << g.err;
    EXPECT_EQ(g.err, "secchats: unknown command: group bogus (see secchats group --help)\n");
  }
}

}  // namespace
}  // namespace secchats::testing
