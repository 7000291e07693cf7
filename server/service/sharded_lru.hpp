// A bounded, thread-safe map from string keys (a client address, a user id) to small per-key
// state, shared by the rate limiter and the long-poll served marks. It is split into
// independently locked shards; each shard keeps its entries in least-recently-used order and
// forgets the oldest one when it is full, so memory stays bounded however many distinct keys
// an attacker invents.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace secchats::server {

template <typename Value>
class ShardedLru {
 public:
  struct Entry {
    std::string key;
    Value value;
  };

  // One shard, handed to the callback of with_shard() with its lock held.
  class Shard {
   public:
    // Forgets least recently used entries, oldest first, while `stale(entry)` holds; stops at
    // the first entry for which it does not.
    template <typename Pred>
    void forget_oldest_while(Pred&& stale) {
      while (!lru_.empty() && stale(static_cast<const Entry&>(lru_.back())))
        forget_oldest();
    }
    // The value for `key`, now the most recently used, or null when there is none.
    Value* find(std::string_view key) {
      auto found = index_.find(key);
      if (found == index_.end()) return nullptr;
      lru_.splice(lru_.begin(), lru_, found->second);
      return &lru_.front().value;
    }
    // The value for `key`, now the most recently used; a new entry holds `initial`, and the
    // oldest entries are forgotten first if the shard is full.
    Value& find_or_insert(std::string_view key, Value initial) {
      if (Value* existing = find(key)) return *existing;
      while (lru_.size() >= cap_)
        forget_oldest();
      lru_.push_front(Entry{std::string(key), std::move(initial)});
      index_.emplace(lru_.front().key, lru_.begin());
      return lru_.front().value;
    }
    std::size_t size() const { return lru_.size(); }

   private:
    friend class ShardedLru;
    void forget_oldest() {
      index_.erase(lru_.back().key);
      lru_.pop_back();
    }

    std::mutex mutex_;
    std::size_t cap_ = 1;
    std::list<Entry> lru_;  // most recently used first; the list owns the keys
    std::unordered_map<std::string_view, typename std::list<Entry>::iterator> index_;  // into lru_
  };

  // At most about `max_keys` entries (rounded down to a multiple of the shard count, at least
  // one per shard) in `shards` shards (a power of two is used, at most 256).
  ShardedLru(std::size_t max_keys, std::size_t shards) {
    std::size_t count = 1;
    while (count < std::min<std::size_t>(shards, 256))
      count *= 2;
    while ((std::size_t{1} << shard_bits_) < count)
      ++shard_bits_;
    shards_.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      shards_.push_back(std::make_unique<Shard>());
      shards_.back()->cap_ = std::max<std::size_t>(1, max_keys / count);
    }
  }
  ShardedLru(const ShardedLru&) = delete;
  ShardedLru& operator=(const ShardedLru&) = delete;

  // Runs `fn(Shard&)` with the lock of the shard that holds `key`; returns what it returns.
  template <typename Fn>
  decltype(auto) with_shard(std::string_view key, Fn&& fn) {
    Shard& shard = shard_for(key);
    std::lock_guard lock(shard.mutex_);
    return std::forward<Fn>(fn)(shard);
  }

  // Entries held in all shards.
  std::size_t size() const {
    std::size_t total = 0;
    for (const auto& shard : shards_) {
      std::lock_guard lock(shard->mutex_);
      total += shard->lru_.size();
    }
    return total;
  }

 private:
  Shard& shard_for(std::string_view key) {
    if (shards_.size() == 1) return *shards_.front();
    // Multiplicative mixing, top bits: the shard must not correlate with the hash-table slot
    // the same hash picks inside the shard.
    const std::uint64_t mixed = std::hash<std::string_view>{}(key)*0x9E3779B97F4A7C15ull;
    return *shards_[static_cast<std::size_t>(mixed >> (64 - shard_bits_))];
  }

  int shard_bits_ = 0;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace secchats::server
