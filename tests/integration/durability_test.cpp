// A 200 means durable: kill -9 right after acknowledged writes loses nothing, and the
// timestamp sequence keeps increasing across restarts.
#include "server_fixture.hpp"

namespace secchats::testing {
namespace {
namespace proto = secchats::protocol;

class DurabilityTest : public ServerTest {};

TEST_F(DurabilityTest, AcknowledgedWritesSurviveKillNine) {
  auto alice = register_user();
  auto bob = register_user();
  auto group = register_group(alice);
  std::vector<std::string> acked;
  // Several writers so that acknowledgements come out of shared commits too.
  std::vector<std::thread> threads;
  std::mutex mutex;
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&, w] {
      HttpClient client(server().port());
      for (int i = 0; i < 50; ++i) {
        std::string content =
            std::string("w").append(std::to_string(w)).append("-").append(std::to_string(i));
        auto res = client.post("/postmsg", proto::encode(proto::SendMessage{bob.id, alice.token,
                                                                            alice.id, content, 0}));
        if (res.status == 200) {
          std::lock_guard lock(mutex);
          acked.push_back(content);
        }
      }
    });
  }
  for (auto& t : threads)
    t.join();
  ASSERT_EQ(http()
                .post("/postgroup",
                      proto::encode(proto::SendMessage{group, alice.token, alice.id, "g", 0}))
                .status,
            200);
  ASSERT_EQ(acked.size(), 200u);
  auto before = receive(bob);
  const auto last_ts = before.messages.back().timestamp;

  client_.reset();
  server().kill_hard();
  start();

  auto after = receive(bob);
  std::set<std::string> contents;
  for (const auto& m : after.messages)
    contents.insert(*m.enc_content);
  for (const auto& c : acked)
    EXPECT_TRUE(contents.count(c)) << "lost " << c;
  EXPECT_EQ(after.messages.size(), acked.size()) << "nothing duplicated";
  EXPECT_EQ(poll_groups(bob, {group}).messages.size(), 1u);
  // Credentials survive too, and new timestamps continue the sequence.
  ASSERT_EQ(post_message(alice, bob.id, "after restart").status, 200);
  auto newest = receive(bob, last_ts);
  ASSERT_EQ(newest.messages.size(), 1u);
  EXPECT_GT(newest.messages[0].timestamp, last_ts);
}

TEST_F(DurabilityTest, GracefulRestartKeepsEverything) {
  auto alice = register_user();
  auto bob = register_user();
  ASSERT_EQ(post_message(alice, bob.id, "kept").status, 200);
  restart();
  auto inbox = receive(bob);
  ASSERT_EQ(inbox.messages.size(), 1u);
  EXPECT_EQ(inbox.messages[0].enc_content, "kept");
}

}  // namespace
}  // namespace secchats::testing
