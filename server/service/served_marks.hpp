// How far each user's direct queue has been served, so that /longpoll does not answer for
// queue items the user has already fetched with /receive (COMPAT §8: the reference UI never
// sends its direct-queue cursor to /longpoll, and acknowledged items are deleted only later).
//
// Memory only, by design: losing a mark (relay restart, eviction) makes the long-poll fall
// back to the caller's lastMessageTimestamp, which costs at worst an extra round, never a
// missed item. Bounded however many users poll, and safe to call from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "service/sharded_lru.hpp"

namespace secchats::server {

struct ServedMarksOptions {
  // Most users remembered (rounded down to a multiple of `shards`, at least one per shard).
  // Beyond it the least recently active user's mark is forgotten.
  std::size_t max_users = 100000;
  // A mark nobody has read or written for this long is forgotten. Keep it well above the
  // long-poll timeout plus a client's pause between rounds, so active users keep theirs.
  std::chrono::steady_clock::duration idle_expiry = std::chrono::minutes(5);
  // Independently locked parts (a power of two is used, at most 256), for threads.
  std::size_t shards = 16;
};

class ServedMarks {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  // `clock` defaults to std::chrono::steady_clock::now; tests inject their own.
  explicit ServedMarks(ServedMarksOptions options, Clock clock = {});
  ServedMarks(const ServedMarks&) = delete;
  ServedMarks& operator=(const ServedMarks&) = delete;

  // Records what the user's latest /receive covered: the newest queue timestamp its answer
  // carried, or the cursor it sent when the answer was empty. Replaces the previous mark
  // (not a maximum): a client that asks again from an older cursor has not got the newer
  // items, whatever an earlier answer carried.
  void record(std::string_view user_id, std::int64_t served_up_to);
  // The user's mark, or nullopt when none is known. Counts as activity for expiry.
  std::optional<std::int64_t> served_up_to(std::string_view user_id);
  // Marks currently held (for tests).
  std::size_t tracked_users() const;

 private:
  struct Mark {
    std::int64_t served_up_to = 0;
    std::chrono::steady_clock::time_point last_used;
  };
  using Marks = ShardedLru<Mark>;
  // Drops the shard's marks idle since before `now - idle_expiry_` (its oldest come first).
  void expire(Marks::Shard& shard, std::chrono::steady_clock::time_point now) const;

  std::chrono::steady_clock::duration idle_expiry_;
  Clock clock_;
  Marks marks_;
};

}  // namespace secchats::server
