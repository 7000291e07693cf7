// Abuse limits that know nothing about HTTP or sockets: token buckets keyed by a string (a
// client address, a user id) and a cap on concurrent operations per key (long-polls).
// Both keep memory bounded however many distinct keys an attacker invents.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "service/sharded_lru.hpp"

namespace secchats::server {

struct RateLimitOptions {
  // Tokens added to each bucket per second; 0 (or less) disables the limiter.
  double tokens_per_second = 0;
  // Bucket capacity: how many requests a quiet key may make at once. At least 1.
  double burst = 1;
  // Most buckets kept (rounded down to a multiple of `shards`, at least one per shard).
  // Beyond it the least recently used bucket is forgotten; that key starts again with a
  // full bucket, which is the worst an attacker with many keys can get.
  std::size_t max_keys = 100000;
  // Independently locked parts (a power of two is used, at most 256), for threads.
  std::size_t shards = 16;
};

// A token bucket per key. Buckets that have been idle long enough to be full again are
// forgotten as soon as later traffic passes them (forgetting a full bucket changes nothing).
class RateLimiter {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  // `clock` defaults to std::chrono::steady_clock::now; tests inject their own.
  explicit RateLimiter(RateLimitOptions options, Clock clock = {});
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  bool enabled() const { return rate_ > 0; }
  // Takes a token from `key`'s bucket. False, taking nothing, when the bucket is empty.
  // Always true when disabled.
  bool allow(std::string_view key);
  // Buckets currently held (for tests and /varz-style figures).
  std::size_t tracked_keys() const;

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point last;     // when `tokens` was last brought up to date
    std::chrono::steady_clock::time_point full_at;  // from then on full again: can be forgotten
  };

  double rate_;
  double burst_;
  Clock clock_;
  ShardedLru<Bucket> buckets_;
};

// At most `max_per_key` concurrent holders per key (0 = unlimited). A Lease releases its
// slot when destroyed; keys with no holder are not kept, so memory follows live leases.
class ConcurrencyLimiter {
 public:
  explicit ConcurrencyLimiter(std::size_t max_per_key) : max_per_key_(max_per_key) {}
  ConcurrencyLimiter(const ConcurrencyLimiter&) = delete;
  ConcurrencyLimiter& operator=(const ConcurrencyLimiter&) = delete;

  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    ~Lease() { release(); }
    // Whether the slot was granted.
    explicit operator bool() const { return granted_; }
    void release();

   private:
    friend class ConcurrencyLimiter;
    ConcurrencyLimiter* owner_ = nullptr;  // null when nothing is counted
    std::string key_;
    bool granted_ = false;
  };

  // A granted lease, or an empty one when `key` already has `max_per_key` holders.
  Lease try_acquire(std::string_view key);
  // Keys with at least one holder.
  std::size_t active_keys() const;

 private:
  void release(const std::string& key);

  std::size_t max_per_key_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::size_t> holders_;
};

}  // namespace secchats::server
