// ServedMarks on an injected clock: replacement (not maximum), idle expiry, the memory bound.
#include "service/served_marks.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace secchats::server {
namespace {

using namespace std::chrono_literals;
using TimePoint = std::chrono::steady_clock::time_point;

class ServedMarksTest : public ::testing::Test {
 protected:
  ServedMarks::Clock clock() {
    return [this] { return now_; };
  }
  TimePoint now_ = TimePoint{} + 1000h;
};

TEST_F(ServedMarksTest, UnknownUsersHaveNoMark) {
  ServedMarks marks({}, clock());
  EXPECT_EQ(marks.served_up_to("alice"), std::nullopt);
  EXPECT_EQ(marks.tracked_users(), 0u) << "a lookup creates nothing";
}

TEST_F(ServedMarksTest, TheLatestReceiveReplacesTheMark) {
  ServedMarks marks({}, clock());
  marks.record("alice", 500);
  marks.record("bob", 7);
  EXPECT_EQ(marks.served_up_to("alice"), 500);
  EXPECT_EQ(marks.served_up_to("bob"), 7);
  // A client asking again from an older cursor has not got the newer items: the mark goes
  // down with it, so a long-poll wakes for them again.
  marks.record("alice", 300);
  EXPECT_EQ(marks.served_up_to("alice"), 300);
  EXPECT_EQ(marks.tracked_users(), 2u) << "one entry per user, however often it polls";
}

TEST_F(ServedMarksTest, IdleMarksExpireAndActiveOnesStay) {
  ServedMarksOptions options;
  options.idle_expiry = 60s;
  options.shards = 1;
  ServedMarks marks(options, clock());
  marks.record("idle", 1);
  marks.record("active", 2);
  for (int i = 0; i < 5; ++i) {
    now_ += 30s;
    // Reading the mark (a long-poll) counts as activity, like recording it (a /receive).
    ASSERT_EQ(marks.served_up_to("active"), 2) << "round " << i;
  }
  EXPECT_EQ(marks.served_up_to("idle"), std::nullopt) << "idle for 150 s > 60 s";
  EXPECT_EQ(marks.tracked_users(), 1u) << "the idle entry's memory is released";
}

TEST_F(ServedMarksTest, MemoryStaysBoundedByForgettingTheLeastRecentlyActive) {
  ServedMarksOptions options;
  options.max_users = 4;
  options.shards = 1;
  ServedMarks marks(options, clock());
  for (int i = 0; i < 4; ++i)
    marks.record("u" + std::to_string(i), i);
  ASSERT_EQ(marks.served_up_to("u0"), 0);  // u0 is now the most recently active
  for (int i = 4; i < 1000; ++i)
    marks.record("u" + std::to_string(i), i);
  EXPECT_EQ(marks.tracked_users(), 4u);
  EXPECT_EQ(marks.served_up_to("u999"), 999);
  EXPECT_EQ(marks.served_up_to("u1"), std::nullopt) << "evicted: falls back to the client hint";
}

TEST_F(ServedMarksTest, ShardsTogetherHoldAtMostTheBound) {
  ServedMarksOptions options;
  options.max_users = 64;
  options.shards = 16;
  ServedMarks marks(options, clock());
  for (int i = 0; i < 10000; ++i)
    marks.record("user-" + std::to_string(i), i);
  EXPECT_LE(marks.tracked_users(), 64u);
  EXPECT_GE(marks.tracked_users(), 16u) << "every shard keeps its share";
}

TEST(ServedMarksThreadsTest, ConcurrentReceivesAndPollsAreSafe) {
  ServedMarksOptions options;
  options.max_users = 256;
  ServedMarks marks(options);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&marks, t] {
      for (int i = 0; i < 20000; ++i) {
        const std::string user = "user-" + std::to_string((i * 7 + t) % 512);
        if (i % 2 == 0) {
          marks.record(user, i);
        } else {
          auto mark = marks.served_up_to(user);
          if (mark) {
            EXPECT_GE(*mark, 0);
          }
        }
      }
    });
  }
  for (auto& th : threads)
    th.join();
  EXPECT_LE(marks.tracked_users(), 256u);
}

}  // namespace
}  // namespace secchats::server
