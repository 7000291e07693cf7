// An in-memory cache of users' token hashes, shared by the storage backends.
//
// Every authenticated request needs the caller's token hash. Hashes never change and users
// are never deleted, so a cached answer can never be stale; a hit saves a database read
// (with SQLite: a read transaction and its file locks). Memory is bounded: when the cache is
// full it starts over empty, which costs one read per active user to refill and never
// serves a wrong answer. Only positive answers are cached, so an id registered later is
// still found.
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "storage/storage.hpp"

namespace secchats::server {

class TokenCache {
 public:
  // About 120 bytes per entry: the default holds 256k users in ~30 MiB.
  explicit TokenCache(std::size_t capacity = 256 * 1024) : capacity_(capacity) {}

  std::optional<TokenHash> find(const std::string& user_id) const {
    std::shared_lock lock(mutex_);
    auto it = hashes_.find(user_id);
    if (it == hashes_.end()) return std::nullopt;
    return it->second;
  }

  void insert(const std::string& user_id, const TokenHash& hash) {
    std::unique_lock lock(mutex_);
    if (hashes_.size() >= capacity_) hashes_.clear();
    hashes_.insert_or_assign(user_id, hash);
  }

  std::size_t size() const {
    std::shared_lock lock(mutex_);
    return hashes_.size();
  }

 private:
  const std::size_t capacity_;
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, TokenHash> hashes_;
};

}  // namespace secchats::server
