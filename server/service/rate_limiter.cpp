#include "service/rate_limiter.hpp"

#include <algorithm>
#include <cstdint>

namespace secchats::server {

using TimePoint = std::chrono::steady_clock::time_point;

namespace {

struct Bucket {
  std::string key;
  double tokens = 0;
  TimePoint last;     // when `tokens` was last brought up to date
  TimePoint full_at;  // from then on the bucket is full again and can be forgotten
};

// Seconds as a clock duration, clamped so that absurd rates cannot overflow it.
std::chrono::steady_clock::duration seconds_to_duration(double seconds) {
  constexpr double kMaxSeconds = 1e7;  // about 115 days
  seconds = std::clamp(seconds, 0.0, kMaxSeconds);
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(seconds));
}

}  // namespace

struct RateLimiter::Shard {
  std::mutex mutex;
  std::list<Bucket> lru;  // most recently used first; the list owns the keys
  std::unordered_map<std::string_view, std::list<Bucket>::iterator> index;  // views into lru

  void forget_last() {
    index.erase(lru.back().key);
    lru.pop_back();
  }
};

RateLimiter::RateLimiter(RateLimitOptions options, Clock clock)
    : rate_(options.tokens_per_second > 0 ? options.tokens_per_second : 0),
      burst_(std::max(1.0, options.burst)),
      clock_(clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); })) {
  std::size_t shards = 1;
  while (shards < std::min<std::size_t>(options.shards, 256))
    shards *= 2;
  per_shard_cap_ = std::max<std::size_t>(1, options.max_keys / shards);
  shards_.reserve(shards);
  for (std::size_t i = 0; i < shards; ++i)
    shards_.push_back(std::make_unique<Shard>());
}

RateLimiter::~RateLimiter() = default;

RateLimiter::Shard& RateLimiter::shard_for(std::string_view key) {
  if (shards_.size() == 1) return *shards_.front();
  // Multiplicative mixing, top bits: the shard must not correlate with the hash-table slot
  // the same hash picks inside the shard.
  const std::uint64_t h = std::hash<std::string_view>{}(key);
  const std::uint64_t mixed = h * 0x9E3779B97F4A7C15ull;
  int bits = 0;
  while ((std::size_t{1} << bits) < shards_.size())
    ++bits;
  return *shards_[static_cast<std::size_t>(mixed >> (64 - bits))];
}

bool RateLimiter::allow(std::string_view key) {
  if (!enabled()) return true;
  const TimePoint now = clock_();
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);

  // Forget buckets that have refilled completely while nobody used them. The least recently
  // used come first; the sweep stops at the first one still short of tokens.
  while (!shard.lru.empty() && shard.lru.back().full_at <= now && shard.lru.back().key != key)
    shard.forget_last();

  auto found = shard.index.find(key);
  if (found == shard.index.end()) {
    while (shard.lru.size() >= per_shard_cap_)
      shard.forget_last();
    shard.lru.push_front(Bucket{std::string(key), burst_, now, now});
    shard.index.emplace(shard.lru.front().key, shard.lru.begin());
  } else {
    shard.lru.splice(shard.lru.begin(), shard.lru, found->second);  // now most recent
  }

  Bucket& bucket = shard.lru.front();
  if (now > bucket.last) {
    const double elapsed = std::chrono::duration<double>(now - bucket.last).count();
    bucket.tokens = std::min(burst_, bucket.tokens + elapsed * rate_);
    bucket.last = now;
  }
  const bool allowed = bucket.tokens >= 1.0;
  if (allowed) bucket.tokens -= 1.0;
  bucket.full_at = bucket.last + seconds_to_duration((burst_ - bucket.tokens) / rate_);
  return allowed;
}

std::size_t RateLimiter::tracked_keys() const {
  std::size_t total = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mutex);
    total += shard->lru.size();
  }
  return total;
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
