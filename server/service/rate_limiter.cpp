#include "service/rate_limiter.hpp"

#include <algorithm>
#include <cstdint>

namespace secchats::server {

using TimePoint = std::chrono::steady_clock::time_point;

namespace {

// Seconds as a clock duration, clamped so that absurd rates cannot overflow it.
std::chrono::steady_clock::duration seconds_to_duration(double seconds) {
  constexpr double kMaxSeconds = 1e7;  // about 115 days
  seconds = std::clamp(seconds, 0.0, kMaxSeconds);
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(seconds));
}

}  // namespace

RateLimiter::RateLimiter(RateLimitOptions options, Clock clock)
    : rate_(options.tokens_per_second > 0 ? options.tokens_per_second : 0),
      burst_(std::max(1.0, options.burst)),
      clock_(clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); })),
      buckets_(options.max_keys, options.shards) {}

bool RateLimiter::allow(std::string_view key) {
  if (!enabled()) return true;
  const TimePoint now = clock_();
  return buckets_.with_shard(key, [&](ShardedLru<Bucket>::Shard& shard) {
    // Forget buckets that have refilled completely while nobody used them. The least recently
    // used come first; the sweep stops at the first one still short of tokens.
    shard.forget_oldest_while([&](const ShardedLru<Bucket>::Entry& entry) {
      return entry.value.full_at <= now && entry.key != key;
    });
    Bucket& bucket = shard.find_or_insert(key, Bucket{burst_, now, now});
    if (now > bucket.last) {
      const double elapsed = std::chrono::duration<double>(now - bucket.last).count();
      bucket.tokens = std::min(burst_, bucket.tokens + elapsed * rate_);
      bucket.last = now;
    }
    const bool allowed = bucket.tokens >= 1.0;
    if (allowed) bucket.tokens -= 1.0;
    bucket.full_at = bucket.last + seconds_to_duration((burst_ - bucket.tokens) / rate_);
    return allowed;
  });
}

std::size_t RateLimiter::tracked_keys() const {
  return buckets_.size();
}

ConcurrencyLimiter::Lease::Lease(Lease&& other) noexcept
    : owner_(other.owner_), key_(std::move(other.key_)), granted_(other.granted_) {
  other.owner_ = nullptr;
  other.granted_ = false;
}

ConcurrencyLimiter::Lease& ConcurrencyLimiter::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = other.owner_;
    key_ = std::move(other.key_);
    granted_ = other.granted_;
    other.owner_ = nullptr;
    other.granted_ = false;
  }
  return *this;
}

void ConcurrencyLimiter::Lease::release() {
  if (owner_) owner_->release(key_);
  owner_ = nullptr;
  granted_ = false;
}

ConcurrencyLimiter::Lease ConcurrencyLimiter::try_acquire(std::string_view key) {
  Lease lease;
  if (max_per_key_ == 0) {
    lease.granted_ = true;  // unlimited: nothing to count
    return lease;
  }
  std::lock_guard lock(mutex_);
  auto [it, inserted] = holders_.try_emplace(std::string(key), 0);
  if (it->second >= max_per_key_) return lease;
  ++it->second;
  lease.owner_ = this;
  lease.key_ = it->first;
  lease.granted_ = true;
  return lease;
}

void ConcurrencyLimiter::release(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto it = holders_.find(key);
  if (it == holders_.end()) return;
  if (--it->second == 0) holders_.erase(it);
}

std::size_t ConcurrencyLimiter::active_keys() const {
  std::lock_guard lock(mutex_);
  return holders_.size();
}

}  // namespace secchats::server
