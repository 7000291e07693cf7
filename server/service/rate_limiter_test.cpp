// The token-bucket and concurrency limiters on an injected clock: no sleeping, no sockets.
#include "service/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace secchats::server {
namespace {

using namespace std::chrono_literals;

class FakeClock {
 public:
  RateLimiter::Clock clock() {
    return [this] { return now_; };
  }
  void advance(std::chrono::steady_clock::duration d) { now_ += d; }

 private:
  std::chrono::steady_clock::time_point now_{std::chrono::hours(1)};
};

int allowed_of(RateLimiter& limiter, std::string_view key, int attempts) {
  int allowed = 0;
  for (int i = 0; i < attempts; ++i)
    allowed += limiter.allow(key) ? 1 : 0;
  return allowed;
}

TEST(RateLimiterTest, BurstIsAllowedAtOnceThenRefused) {
  FakeClock clock;
  RateLimiter limiter({/*tokens_per_second=*/1, /*burst=*/5}, clock.clock());
  EXPECT_EQ(allowed_of(limiter, "a", 5), 5);
  EXPECT_FALSE(limiter.allow("a"));
  EXPECT_FALSE(limiter.allow("a"));  // a refusal takes nothing, and gives nothing back
}

TEST(RateLimiterTest, RefillsOverInjectedTime) {
  FakeClock clock;
  RateLimiter limiter({/*tokens_per_second=*/2, /*burst=*/4}, clock.clock());
  EXPECT_EQ(allowed_of(limiter, "a", 10), 4);
  clock.advance(250ms);  // half a token
  EXPECT_FALSE(limiter.allow("a"));
  clock.advance(250ms);  // one whole token
  EXPECT_TRUE(limiter.allow("a"));
  EXPECT_FALSE(limiter.allow("a"));
  clock.advance(1500ms);  // three tokens
  EXPECT_EQ(allowed_of(limiter, "a", 10), 3);
  clock.advance(1h);  // never more than the burst
  EXPECT_EQ(allowed_of(limiter, "a", 10), 4);
}

TEST(RateLimiterTest, PerMinuteRatesRefillFractionally) {
  FakeClock clock;
  RateLimiter limiter({/*tokens_per_second=*/10.0 / 60.0, /*burst=*/20}, clock.clock());
  EXPECT_EQ(allowed_of(limiter, "203.0.113.9", 25), 20);
  clock.advance(5900ms);
  EXPECT_FALSE(limiter.allow("203.0.113.9"));
  clock.advance(100ms);  // 6 s: one registration
  EXPECT_TRUE(limiter.allow("203.0.113.9"));
  EXPECT_FALSE(limiter.allow("203.0.113.9"));
}

TEST(RateLimiterTest, KeysAreIndependent) {
  FakeClock clock;
  RateLimiter limiter({/*tokens_per_second=*/1, /*burst=*/3}, clock.clock());
  EXPECT_EQ(allowed_of(limiter, "alice", 10), 3);
  EXPECT_EQ(allowed_of(limiter, "bob", 10), 3);
  EXPECT_EQ(allowed_of(limiter, "carol", 1), 1);
  clock.advance(1s);
  EXPECT_EQ(allowed_of(limiter, "alice", 10), 1);
  EXPECT_EQ(allowed_of(limiter, "carol", 10), 3);
}

TEST(RateLimiterTest, ZeroRateDisablesAndTracksNothing) {
  FakeClock clock;
  RateLimiter limiter({/*tokens_per_second=*/0, /*burst=*/1}, clock.clock());
  EXPECT_FALSE(limiter.enabled());
  EXPECT_EQ(allowed_of(limiter, "a", 1000), 1000);
  EXPECT_EQ(limiter.tracked_keys(), 0u);
}

TEST(RateLimiterTest, TrackedKeysNeverExceedTheCap) {
  FakeClock clock;
  RateLimitOptions options{/*tokens_per_second=*/1, /*burst=*/2};
  options.max_keys = 100;
  options.shards = 1;
  RateLimiter limiter(options, clock.clock());
  for (int i = 0; i < 10000; ++i) {
    EXPECT_TRUE(limiter.allow("key" + std::to_string(i)));  // every new key starts full
    ASSERT_LE(limiter.tracked_keys(), 100u);
  }
  EXPECT_EQ(limiter.tracked_keys(), 100u);
}

TEST(RateLimiterTest, TheCapHoldsAcrossShards) {
  FakeClock clock;
  RateLimitOptions options{/*tokens_per_second=*/1, /*burst=*/2};
  options.max_keys = 256;
  options.shards = 16;
  RateLimiter limiter(options, clock.clock());
  for (int i = 0; i < 20000; ++i)
    limiter.allow("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256));
  EXPECT_LE(limiter.tracked_keys(), 256u);
  EXPECT_GT(limiter.tracked_keys(), 128u) << "the keys spread over the shards";
}

TEST(RateLimiterTest, EvictionForgetsTheLeastRecentlyUsedFirst) {
  FakeClock clock;
  RateLimitOptions options{/*tokens_per_second=*/1, /*burst=*/3};
  options.max_keys = 10;
  options.shards = 1;
  RateLimiter limiter(options, clock.clock());
  EXPECT_EQ(allowed_of(limiter, "hot", 10), 3);
  // A stream of new keys pushes out old ones, but not a key that keeps being used: its
  // empty bucket stays, so churning keys cannot reset an active abuser's limit.
  for (int i = 0; i < 100; ++i) {
    EXPECT_TRUE(limiter.allow("cold" + std::to_string(i)));
    EXPECT_FALSE(limiter.allow("hot")) << i;
  }
  EXPECT_LE(limiter.tracked_keys(), 10u);
}

TEST(RateLimiterTest, IdleBucketsAreForgotten) {
  FakeClock clock;
  RateLimitOptions options{/*tokens_per_second=*/2, /*burst=*/4};
  options.shards = 1;
  RateLimiter limiter(options, clock.clock());
  for (int i = 0; i < 50; ++i)
    limiter.allow(std::string("k").append(std::to_string(i)));  // not "k" + : GCC PR 105651
  EXPECT_EQ(limiter.tracked_keys(), 50u);
  clock.advance(400ms);  // a bucket short of one token needs 500 ms to be full again
  limiter.allow("new");
  EXPECT_EQ(limiter.tracked_keys(), 51u);
  clock.advance(100ms);
  limiter.allow("newer");
  EXPECT_EQ(limiter.tracked_keys(), 2u) << "the 50 full buckets were dropped";
  EXPECT_EQ(allowed_of(limiter, "k7", 10), 4) << "a forgotten key starts with a full bucket";
}

TEST(RateLimiterTest, ExactAcrossThreads) {
  FakeClock clock;  // frozen: no refill while the threads run
  RateLimitOptions options{/*tokens_per_second=*/1, /*burst=*/1000};
  options.shards = 4;
  RateLimiter limiter(options, clock.clock());
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        if (limiter.allow("shared")) ++allowed;
        limiter.allow("own" + std::to_string(t));
      }
    });
  }
  for (auto& thread : threads)
    thread.join();
  EXPECT_EQ(allowed.load(), 1000);
  EXPECT_EQ(limiter.tracked_keys(), 9u);
}

TEST(ConcurrencyLimiterTest, CountsPerKeyAndReleasesOnDestruction) {
  ConcurrencyLimiter limiter(2);
  auto a1 = limiter.try_acquire("alice");
  auto a2 = limiter.try_acquire("alice");
  EXPECT_TRUE(a1);
  EXPECT_TRUE(a2);
  EXPECT_FALSE(limiter.try_acquire("alice")) << "a third concurrent holder";
  EXPECT_TRUE(limiter.try_acquire("bob")) << "other keys are independent";
  {
    auto moved = std::move(a1);  // moving keeps one slot, not two
    EXPECT_FALSE(limiter.try_acquire("alice"));
  }
  auto again = limiter.try_acquire("alice");
  EXPECT_TRUE(again) << "the moved-to lease released its slot when it went";
  EXPECT_EQ(limiter.active_keys(), 1u);
  a2.release();
  again.release();
  EXPECT_EQ(limiter.active_keys(), 0u) << "keys without holders are not kept";
}

TEST(ConcurrencyLimiterTest, ZeroMeansUnlimited) {
  ConcurrencyLimiter limiter(0);
  std::vector<ConcurrencyLimiter::Lease> leases;
  for (int i = 0; i < 100; ++i) {
    leases.push_back(limiter.try_acquire("alice"));
    EXPECT_TRUE(leases.back());
  }
  EXPECT_EQ(limiter.active_keys(), 0u);
}

}  // namespace
}  // namespace secchats::server
