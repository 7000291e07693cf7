#include "service/served_marks.hpp"

#include <algorithm>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

namespace secchats::server {

using TimePoint = std::chrono::steady_clock::time_point;

namespace {

struct Mark {
  std::string user_id;
  std::int64_t served_up_to = 0;
  TimePoint last_used;
};

}  // namespace

struct ServedMarks::Shard {
  std::mutex mutex;
  std::list<Mark> lru;  // most recently used first; the list owns the keys
  std::unordered_map<std::string_view, std::list<Mark>::iterator> index;  // views into lru

  void forget_last() {
    index.erase(lru.back().user_id);
    lru.pop_back();
  }

  // Drops marks idle since before `cutoff`, oldest first; stops at the first fresh one.
  void expire(TimePoint cutoff) {
    while (!lru.empty() && lru.back().last_used < cutoff)
      forget_last();
  }
};

ServedMarks::ServedMarks(ServedMarksOptions options, Clock clock)
    : idle_expiry_(options.idle_expiry),
      clock_(clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); })) {
  std::size_t shards = 1;
  while (shards < std::min<std::size_t>(options.shards, 256))
    shards *= 2;
  per_shard_cap_ = std::max<std::size_t>(1, options.max_users / shards);
  shards_.reserve(shards);
  for (std::size_t i = 0; i < shards; ++i)
    shards_.push_back(std::make_unique<Shard>());
}

ServedMarks::~ServedMarks() = default;

ServedMarks::Shard& ServedMarks::shard_for(std::string_view key) {
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

void ServedMarks::record(std::string_view user_id, std::int64_t served_up_to) {
  const TimePoint now = clock_();
  Shard& shard = shard_for(user_id);
  std::lock_guard lock(shard.mutex);
  shard.expire(now - idle_expiry_);
  auto found = shard.index.find(user_id);
  if (found == shard.index.end()) {
    while (shard.lru.size() >= per_shard_cap_)
      shard.forget_last();
    shard.lru.push_front(Mark{std::string(user_id), served_up_to, now});
    shard.index.emplace(shard.lru.front().user_id, shard.lru.begin());
    return;
  }
  shard.lru.splice(shard.lru.begin(), shard.lru, found->second);  // now most recent
  Mark& mark = shard.lru.front();
  mark.served_up_to = served_up_to;
  mark.last_used = now;
}

std::optional<std::int64_t> ServedMarks::served_up_to(std::string_view user_id) {
  const TimePoint now = clock_();
  Shard& shard = shard_for(user_id);
  std::lock_guard lock(shard.mutex);
  shard.expire(now - idle_expiry_);
  auto found = shard.index.find(user_id);
  if (found == shard.index.end()) return std::nullopt;
  shard.lru.splice(shard.lru.begin(), shard.lru, found->second);
  Mark& mark = shard.lru.front();
  mark.last_used = now;
  return mark.served_up_to;
}

std::size_t ServedMarks::tracked_users() const {
  std::size_t total = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mutex);
    total += shard->lru.size();
  }
  return total;
}

}  // namespace secchats::server
