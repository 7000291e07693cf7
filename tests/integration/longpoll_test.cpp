// /longpoll: immediate wake-ups through the hub, timeouts, isolation between users.
#include <future>

#include "server_fixture.hpp"

namespace secchats::testing {
namespace {
namespace proto = secchats::protocol;
using Clock = std::chrono::steady_clock;

class LongPollTest : public ServerTest {
 protected:
  void SetUp() override { start({"--longpoll-timeout-ms", "3000"}); }

  std::future<HttpResult> long_poll(const TestUser& user, std::vector<std::string> ids,
                                    std::int64_t cursor) {
    auto body = proto::encode(proto::PollGroups{user.id, user.token, std::move(ids), cursor});
    unsigned short port = server().port();
    return std::async(std::launch::async,
                      [port, body] { return HttpClient(port).post("/longpoll", body); });
  }

  // The newest timestamp the user has seen, so the poll waits only for new traffic.
  std::int64_t cursor_of(const TestUser& user) {
    auto inbox = receive(user);
    return inbox.messages.empty() ? 1 : inbox.messages.back().timestamp;
  }
};

TEST_F(LongPollTest, WakesWithinAHundredMillisecondsOfAPost) {
  auto alice = register_user();
  auto bob = register_user();
  // Best of three, so one scheduling hiccup on a loaded machine does not decide the test; a
  // sleep-and-recheck design would miss all three.
  double best_ms = 1e9;
  for (int attempt = 0; attempt < 3 && best_ms > 100; ++attempt) {
    auto poll = long_poll(bob, {bob.id}, cursor_of(bob));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let it park
    ASSERT_EQ(poll.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout)
        << "nothing new yet, so it must still be waiting";
    auto sent = Clock::now();
    ASSERT_EQ(post_message(alice, bob.id, "wake").status, 200);
    auto res = poll.get();
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - sent).count();
    ASSERT_EQ(res.status, 200);
    EXPECT_EQ(res.body, bob.id) << "names the queue that has news";
    best_ms = std::min(best_ms, ms);
  }
  std::cout << "[ info ] long-poll wake-up after post: " << best_ms << " ms\n";
  EXPECT_LT(best_ms, 100.0);
}

TEST_F(LongPollTest, GroupTrafficWakesWithTheGroupId) {
  auto alice = register_user();
  auto bob = register_user();
  auto group = register_group(alice);
  auto poll = long_poll(bob, {group, bob.id}, cursor_of(bob));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_EQ(http()
                .post("/postgroup",
                      proto::encode(proto::SendMessage{group, alice.token, alice.id, "g", 0}))
                .status,
            200);
  auto res = poll.get();
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, group);
}

TEST_F(LongPollTest, TimesOutWithAnEmptyBody) {
  auto bob = register_user();
  auto started = Clock::now();
  auto res = long_poll(bob, {bob.id}, cursor_of(bob)).get();
  auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "");
  EXPECT_GE(waited.count(), 2900);
  EXPECT_LT(waited.count(), 10000);
}

TEST_F(LongPollTest, AnswersAtOnceWhenTrafficIsAlreadyNewerThanTheCursor) {
  auto alice = register_user();
  auto bob = register_user();
  auto before = cursor_of(bob);
  ASSERT_EQ(post_message(alice, bob.id, "early").status, 200);
  auto started = Clock::now();
  auto res = long_poll(bob, {bob.id}, before).get();
  EXPECT_EQ(res.body, bob.id);
  EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count(),
            2000);
}

TEST_F(LongPollTest, OtherUsersTrafficNeverWakesOrLeaks) {
  auto alice = register_user();
  auto bob = register_user();
  auto carol = register_user();
  // Carol lists Bob's user id as if it were a group: she must learn nothing of his queue.
  auto poll = long_poll(carol, {carol.id, bob.id}, cursor_of(carol));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_EQ(post_message(alice, bob.id, "for bob").status, 200);
  auto res = poll.get();
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "") << "timed out without news";
}

TEST_F(LongPollTest, ShutdownAnswersWaitingPollsAndExitsCleanly) {
  auto bob = register_user();
  auto poll = long_poll(bob, {bob.id}, cursor_of(bob));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  client_.reset();
  auto started = Clock::now();
  EXPECT_EQ(server().terminate(), 0) << server().stderr_text();
  auto res = poll.get();
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "");
  EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count(),
            2500)
      << "the poll was answered on shutdown, not left to time out";
  EXPECT_NE(server().stderr_text().find("stopped"), std::string::npos);
}

}  // namespace
}  // namespace secchats::testing
