// The outbox and the event inbox, end to end (issue 10): a send whose answer is lost is kept
// and posted again with the same bytes, and the friend sees one copy; a send while the relay
// is unreachable is queued, listed, delivered by the next sync or cancelled; output that
// does not reach stdout ends the command non-zero and its events come again.
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>

#include <chrono>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "support/shell_text.hpp"
#include "v2_fixture.hpp"

namespace secchats::testing {
namespace {

namespace fs = std::filesystem;

// Runs `script` with bash; "$SC_BIN" is the secchats binary and "$SC_HOME" the home of `u`.
int run_shell(const CliUser& u, const std::string& script) {
  const std::string command = "SECCHATS_PASSWORD=" + shell_quote(u.password()) +
                              " SC_BIN=" + shell_quote(CliUser::binary().string()) +
                              " SC_HOME=" + shell_quote(u.home().string()) + " bash -c " +
                              shell_quote(script);
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

constexpr std::string_view kSc = R"("$SC_BIN" --home "$SC_HOME" --json )";

class CliOutbox : public CliV2 {
 protected:
  std::vector<std::string> texts(const std::vector<boost::json::object>& lines) {
    std::vector<std::string> out;
    for (const auto& e : events_of(lines, "message"))
      out.push_back(str(e, "text"));
    return out;
  }
};

TEST_F(CliOutbox, ALostAnswerIsPostedAgainWithTheSameBytesAndTheFriendSeesOneCopy) {
  std::string alice_id, bob_id;
  CliUser alice = make_cli("Alice", &alice_id);
  CliUser bob = make_cli("Bob", &bob_id);
  befriend_v2(alice, alice_id, bob, bob_id);

  // The relay commits the post, then the answer never reaches Alice.
  proxy_->set_lose_answer(
      [](std::string_view path, std::string_view) { return path == "/postmsg"; });
  const std::size_t before = posted(*proxy_).size();
  auto sent = alice.run({"send", bob_id, "only once please"});
  EXPECT_EQ(sent.exit_code, 4) << sent.out << sent.err;
  EXPECT_NE(sent.err.find("queued, not sent yet"), std::string::npos) << sent.err;
  EXPECT_TRUE(sent.out.empty()) << "nothing may say sent: " << sent.out;
  proxy_->reset_hooks();

  auto pending = ok(alice, {"pending"});
  ASSERT_EQ(pending.size(), 1u) << dump(pending);
  EXPECT_EQ(str(pending[0], "delivery"), "pending");
  EXPECT_EQ(str(pending[0], "chat"), bob_id);

  // The next command that talks to the relay posts it again: the same ciphertext.
  auto synced = ok(alice, {"sync"});
  EXPECT_TRUE(ok(alice, {"pending"}).empty());
  const auto all = posted(*proxy_);
  ASSERT_GE(all.size(), before + 2);
  std::set<std::string> bodies;
  for (std::size_t i = before; i < all.size(); ++i)
    bodies.insert(all[i].enc_content);
  EXPECT_EQ(bodies.size(), 1u) << "every post of the message carries the same bytes";
  EXPECT_TRUE(all.back().enc_content.starts_with("sc2:"));

  // Bob gets it once, and no warning about the copy (a v2 replay of a known ciphertext).
  auto got = ok(bob, {"sync"});
  EXPECT_EQ(texts(got), std::vector<std::string>{"only once please"}) << dump(got);
  EXPECT_TRUE(events_of(got, "warning").empty()) << dump(got);
  auto history = events_of(ok(bob, {"history", alice_id}), "message");
  ASSERT_EQ(history.size(), 1u) << dump(history);
  // Alice's history shows it as sent now (no delivery marker line).
  auto mine = ok(alice, {"history", bob_id});
  EXPECT_EQ(events_of(mine, "message").size(), 1u) << dump(mine);
  EXPECT_TRUE(events_of(mine, "delivery").empty()) << dump(mine);
  // And Bob's reply still opens: the ratchet was not disturbed by the copy.
  ok(bob, {"send", alice_id, "got it"});
  EXPECT_EQ(texts(ok(alice, {"sync"})), std::vector<std::string>{"got it"});
}

TEST_F(CliOutbox, ASendWhileTheRelayIsDownIsQueuedListedAndDeliveredInOrderByTheNextSync) {
  std::string alice_id, bob_id;
  CliUser alice = make_cli("Alice", &alice_id);
  CliUser bob = make_cli("Bob", &bob_id);
  befriend_v2(alice, alice_id, bob, bob_id);

  proxy_->set_drop([](std::string_view path, std::string_view) { return path == "/postmsg"; });
  for (const std::string text : {"first", "second"}) {
    auto r = alice.run({"send", bob_id, text});
    EXPECT_EQ(r.exit_code, 4) << r.err;
    EXPECT_NE(r.err.find("queued, not sent yet"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("secchats cancel"), std::string::npos) << r.err;
  }
  auto pending = ok(alice, {"pending"});
  ASSERT_EQ(pending.size(), 2u) << dump(pending);
  // history marks both as not sent.
  auto history = ok(alice, {"history", bob_id});
  auto marks = events_of(history, "delivery");
  ASSERT_EQ(marks.size(), 2u) << dump(history);
  EXPECT_EQ(str(marks[0], "delivery"), "pending");
  auto human = alice.run({"history", bob_id}, /*json=*/false);
  EXPECT_NE(human.out.find("pending, not sent yet"), std::string::npos) << human.out;
  // A sync while the posts still fail keeps them and says so.
  auto still = events_of(ok(alice, {"sync"}), "warning");
  ASSERT_EQ(still.size(), 1u) << dump(still) << "one warning: the chat waits behind its first";
  EXPECT_NE(str(still[0], "text").find("still not sent"), std::string::npos) << dump(still);
  EXPECT_EQ(ok(alice, {"pending"}).size(), 2u);

  proxy_->reset_hooks();
  // The sync that delivers them says so, in order, once (like `send` would have).
  auto delivered = events_of(ok(alice, {"sync"}), "sent");
  ASSERT_EQ(delivered.size(), 2u) << dump(delivered);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(str(delivered[i], "messageId"), str(pending[i], "messageId")) << dump(delivered);
    EXPECT_EQ(str(delivered[i], "chat"), bob_id);
    EXPECT_EQ(str(delivered[i], "chatKind"), "friend");
    EXPECT_EQ(str(delivered[i], "type"), "TEXT");
    ASSERT_TRUE(delivered[i].contains("fromOutbox")) << dump(delivered);
    EXPECT_TRUE(delivered[i].at("fromOutbox").as_bool());
  }
  EXPECT_TRUE(events_of(ok(alice, {"sync"}), "sent").empty());
  EXPECT_TRUE(ok(alice, {"pending"}).empty());
  EXPECT_EQ(texts(ok(bob, {"sync"})), (std::vector<std::string>{"first", "second"}));
  EXPECT_TRUE(events_of(ok(alice, {"history", bob_id}), "delivery").empty());
}

TEST_F(CliOutbox, TheSyncThatDeliversAQueuedSendPrintsASentLineNamingTheFriend) {
  std::string alice_id, bob_id;
  CliUser alice = make_cli("Alice", &alice_id);
  CliUser bob = make_cli("Bob", &bob_id);
  befriend_v2(alice, alice_id, bob, bob_id);

  proxy_->set_drop([](std::string_view path, std::string_view) { return path == "/postmsg"; });
  EXPECT_EQ(alice.run({"send", bob_id, "later"}).exit_code, 4);
  auto pending = ok(alice, {"pending"});
  ASSERT_EQ(pending.size(), 1u) << dump(pending);
  proxy_->reset_hooks();
  auto human = alice.run({"sync"}, /*json=*/false);
  EXPECT_EQ(human.exit_code, 0) << human.err;
  const std::string line = "sent #" + str(pending[0], "messageId") + " (queued earlier) to Bob (" +
                           bob_id.substr(0, 8) + ")";
  EXPECT_NE(human.out.find(line), std::string::npos) << human.out;
}

TEST_F(CliOutbox, CancelDropsAPendingSendForGood) {
  std::string alice_id, bob_id;
  CliUser alice = make_cli("Alice", &alice_id);
  CliUser bob = make_cli("Bob", &bob_id);
  befriend_v2(alice, alice_id, bob, bob_id);

  proxy_->set_drop([](std::string_view path, std::string_view) { return path == "/postmsg"; });
  EXPECT_EQ(alice.run({"send", bob_id, "never mind"}).exit_code, 4);
  auto pending = ok(alice, {"pending"});
  ASSERT_EQ(pending.size(), 1u);
  const auto id = pending[0].at("messageId");
  const std::string id_text =
      id.is_string() ? std::string(id.as_string()) : std::to_string(id.to_number<std::int64_t>());
  auto cancelled = ok(alice, {"cancel", id_text});
  ASSERT_EQ(cancelled.size(), 1u);
  EXPECT_EQ(str(cancelled[0], "event"), "cancelled");
  auto text = alice.run({"cancel", id_text}, /*json=*/false);
  EXPECT_EQ(text.exit_code, 6) << "cancelling twice: nothing left to cancel";

  proxy_->reset_hooks();
  const std::size_t before = posted(*proxy_).size();
  ok(alice, {"sync"});
  EXPECT_EQ(posted(*proxy_).size(), before) << "a cancelled send is never posted";
  EXPECT_TRUE(ok(alice, {"pending"}).empty());
  EXPECT_TRUE(events_of(ok(alice, {"history", bob_id}), "message").empty());
  EXPECT_TRUE(texts(ok(bob, {"sync"})).empty());
}

TEST_F(CliOutbox, ARefusedSendIsMarkedFailedAndNotPostedAgain) {
  std::string alice_id, bob_id;
  CliUser alice = make_cli("Alice", &alice_id);
  CliUser bob = make_cli("Bob", &bob_id);
  befriend_v2(alice, alice_id, bob, bob_id);

  // The relay refuses the post for good (400: the addressee is no relay id).
  proxy_->set_request_rewriter(
      [&](std::string_view path, std::string_view body) -> std::optional<std::string> {
        if (path != "/postmsg") return std::nullopt;
        auto v = boost::json::parse(body).as_object();
        v["toId"] = "not an id!";
        return boost::json::serialize(v);
      });
  auto r = alice.run({"send", bob_id, "refused"});
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_NE(r.err.find("refused by the relay"), std::string::npos) << r.err;
  proxy_->reset_hooks();
  auto pending = ok(alice, {"pending"});
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(str(pending[0], "delivery"), "failed");
  EXPECT_FALSE(str(pending[0], "lastError").empty());
  const std::size_t before = posted(*proxy_).size();
  auto synced = ok(alice, {"sync"});
  EXPECT_EQ(posted(*proxy_).size(), before) << "a refused send is not posted again";
  auto marks = events_of(ok(alice, {"history", bob_id}), "delivery");
  ASSERT_EQ(marks.size(), 1u);
  EXPECT_EQ(str(marks[0], "delivery"), "failed");
}

TEST_F(CliOutbox, SyncToAFullDiskFailsAndTheNextSyncPrintsTheMessage) {
  std::string alice_id, bob_id;
  CliUser alice = make_cli("Alice", &alice_id);
  CliUser bob = make_cli("Bob", &bob_id);
  befriend_v2(alice, alice_id, bob, bob_id);
  ok(alice, {"send", bob_id, "are you there"});

  const fs::path err = dir_->path() / "full.err";
  const int code =
      run_shell(bob, std::string(kSc) + "sync >/dev/full 2>" + shell_quote(err.string()));
  EXPECT_EQ(code, 1) << read_text(err);
  EXPECT_NE(read_text(err).find("cannot write output"), std::string::npos) << read_text(err);

  EXPECT_EQ(texts(ok(bob, {"sync"})), std::vector<std::string>{"are you there"});
  EXPECT_TRUE(texts(ok(bob, {"sync"})).empty()) << "printed once it reached stdout";
}

TEST_F(CliOutbox, ListenWhoseReaderIsGoneStopsAndTheNextSyncPrintsTheRest) {
  std::string alice_id, bob_id;
  CliUser alice = make_cli("Alice", &alice_id);
  CliUser bob = make_cli("Bob", &bob_id);
  befriend_v2(alice, alice_id, bob, bob_id);
  ok(alice, {"send", bob_id, "one"});

  const fs::path out = dir_->path() / "head.out";
  const fs::path status = dir_->path() / "listen.status";
  const fs::path pid = dir_->path() / "listen.pid";
  const std::string script = "{ " + std::string(kSc) + "listen 2>/dev/null & echo $! >" +
                             shell_quote(pid.string()) + "; wait $!; echo $? >" +
                             shell_quote(status.string()) + "; } | head -n 1 >" +
                             shell_quote(out.string());
  std::thread pipeline([&] { run_shell(bob, script); });
  // head has the first line and is gone.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (read_text(out).empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_NE(read_text(out).find("\"one\""), std::string::npos) << read_text(out);
  ok(alice, {"send", bob_id, "two"});
  ok(alice, {"send", bob_id, "three"});
  // listen notices promptly (not after the long-poll's hold) and fails.
  const auto started = std::chrono::steady_clock::now();
  while (read_text(status).empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto waited = std::chrono::steady_clock::now() - started;
  if (read_text(status).empty()) {
    // Old behaviour: listen never notices; end it (by its pid) so the test can finish.
    const pid_t listen_pid = static_cast<pid_t>(std::stol(read_text(pid)));
    if (listen_pid > 0) ::kill(listen_pid, SIGTERM);
  }
  pipeline.join();
  EXPECT_EQ(read_text(status), "1\n");
  EXPECT_LT(waited, std::chrono::seconds(10));
  EXPECT_EQ(texts(ok(bob, {"sync"})), (std::vector<std::string>{"two", "three"}));
}

}  // namespace
}  // namespace secchats::testing
