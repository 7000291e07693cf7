// The newest items of each user queue or group log, kept in memory exactly as they are
// durable, so reads near the head of a queue cost no database read (storage.hpp reads).
//
// Each entry holds every durable item of its key with timestamp > `floor`, oldest first
// (floor 0: the whole queue). Consistency rules, which the SQLite backend follows:
//  - The writer applies a committed batch (apply_batch) after COMMIT returned and before any
//    of the batch's callbacks run, under one exclusive lock: readers see a cut at a batch
//    boundary, never part of a batch, and never an item that is not durable.
//  - A read that misses fills the entry from one database read transaction. The fill is kept
//    only if no batch was applied since the reader's start (generation()) and the snapshot's
//    newest timestamp equals the newest one applied here: then the entry and every other
//    entry show the same cut, and later batches append to it.
//  - Deletes (acknowledgements, retention) remove exactly what the database removed, or drop
//    the entries they cannot account for.
// Memory is bounded: at most `max_items` per key, and when the whole cache passes
// `max_bytes` it starts over empty (one database read per key to refill). Thread-safe.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "storage/storage.hpp"

namespace secchats::server {

// Bytes an item holds in memory (its struct and string buffers): what max_bytes counts.
inline std::size_t item_bytes(const QueueItem& i) {
  return sizeof(QueueItem) + i.recipient_id.capacity() + i.sender_id.capacity() +
         (i.group_id ? i.group_id->capacity() : 0) + (i.protocol ? i.protocol->capacity() : 0) +
         (i.payload ? i.payload->capacity() : 0);
}
inline std::size_t item_bytes(const GroupMessage& m) {
  return sizeof(GroupMessage) + m.group_id.capacity() + m.sender_id.capacity() +
         (m.payload ? m.payload->capacity() : 0);
}

template <typename Item>
class TailCache {
 public:
  struct Options {
    std::size_t max_items = 64;         // items kept per key (the newest)
    std::size_t max_bytes = 32u << 20;  // whole cache, bytes (item_bytes + key overhead)
  };
  // What a read finds: items with timestamp > after, oldest first, at most `limit`, and
  // whether the key still holds an item with timestamp <= after.
  struct Page {
    std::vector<Item> items;
    bool older_left = false;
  };
  // One key's change in a committed batch: `item` appended, or else `rows` of the oldest
  // items with timestamp <= up_to deleted.
  struct Change {
    std::string key;
    std::optional<Item> item;
    std::int64_t up_to = 0;
    std::int64_t rows = 0;
  };

  TailCache() : TailCache(Options{}) {}
  explicit TailCache(Options options) : options_(options) {
    options_.max_items = std::max<std::size_t>(options_.max_items, 1);
  }

  // The page for (key, after, limit), or nullopt when the cache cannot answer exactly.
  std::optional<Page> read(const std::string& key, std::int64_t after, int limit) const {
    std::shared_lock lock(mutex_);
    return read_locked(key, after, limit);
  }

  // Pages for several keys from one cut; nullopt when any key misses.
  std::optional<std::vector<Page>> read_all(std::span<const std::string> keys, std::int64_t after,
                                            int limit) const {
    std::shared_lock lock(mutex_);
    std::vector<Page> pages;
    pages.reserve(keys.size());
    for (const auto& key : keys) {
      auto page = read_locked(key, after, limit);
      if (!page) return std::nullopt;
      pages.push_back(std::move(*page));
    }
    return pages;
  }

  // Whether items read newest first (up to max_items + 1, as fill() takes them) hold every
  // item with timestamp > after.
  bool covers(const std::vector<Item>& newest_first, std::int64_t after) const {
    return newest_first.size() <= options_.max_items ||
           after >= newest_first[options_.max_items].timestamp;
  }
  // The page for `after` and `limit` from items read newest first; needs covers().
  static Page page_of(const std::vector<Item>& newest_first, std::int64_t after, int limit) {
    Page page;
    page.older_left = !newest_first.empty() && newest_first.back().timestamp <= after;
    for (auto it = newest_first.rbegin(); it != newest_first.rend(); ++it) {
      if (it->timestamp <= after) continue;
      if (page.items.size() >= static_cast<std::size_t>(std::max(0, limit))) break;
      page.items.push_back(*it);
    }
    return page;
  }

  // The newest timestamp of the key (0 when empty), or nullopt on a miss.
  std::optional<std::int64_t> newest(const std::string& key) const {
    std::shared_lock lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    return newest_of(it->second);
  }

  // Whether the key has an entry (a fill for it would be ignored).
  bool holds(const std::string& key) const {
    std::shared_lock lock(mutex_);
    return entries_.count(key) != 0;
  }

  // Where a fill starts: read before opening the database read transaction.
  std::uint64_t generation() const {
    std::shared_lock lock(mutex_);
    return generation_;
  }

  // Offers the newest items of `key` read in one transaction whose newest timestamp overall
  // (the clock) was `snapshot_ts`: `newest_first` holds up to max_items + 1 items, newest
  // first; more than max_items means older items exist. Kept only under the rules above.
  void fill(const std::string& key, std::vector<Item> newest_first, std::uint64_t started_gen,
            std::int64_t snapshot_ts) {
    std::unique_lock lock(mutex_);
    if (started_gen != generation_ || snapshot_ts != applied_ts_) return;
    if (entries_.count(key)) return;  // someone else filled it from the same cut
    Entry entry;
    if (newest_first.size() > options_.max_items) {
      entry.floor = newest_first[options_.max_items].timestamp;
      newest_first.resize(options_.max_items);
    }
    entry.items.assign(std::make_move_iterator(newest_first.rbegin()),
                       std::make_move_iterator(newest_first.rend()));
    entry.bytes = kEntryOverhead + key.capacity();
    for (const auto& item : entry.items)
      entry.bytes += item_bytes(item);
    bytes_ += entry.bytes;
    entries_.emplace(key, std::move(entry));
    trim_memory_locked();
  }

  // A committed batch's changes (see the rules above), in the order the batch made them;
  // `newest_ts` is the clock after it. `purged` drops everything (retention deleted rows of
  // any key).
  void apply_batch(std::vector<Change>& changes, bool purged, std::int64_t newest_ts) {
    std::unique_lock lock(mutex_);
    // A batch that changed no key here only moves the clock; fills from a snapshot that
    // holds it are still exact.
    if (!changes.empty() || purged) ++generation_;
    applied_ts_ = newest_ts;
    if (purged) {
      clear_locked();
      return;
    }
    for (auto& c : changes) {
      if (!c.item) {
        apply_delete_locked(c);
        continue;
      }
      auto it = entries_.find(c.key);
      if (it == entries_.end()) continue;
      Entry& e = it->second;
      // A fill from a snapshot that already held this commit has the item: keep it once.
      if (c.item->timestamp <= newest_of(e)) continue;
      e.bytes += item_bytes(*c.item);
      bytes_ += item_bytes(*c.item);
      e.items.push_back(std::move(*c.item));
      if (e.items.size() > options_.max_items) {
        e.floor = e.items.front().timestamp;
        e.bytes -= item_bytes(e.items.front());
        bytes_ -= item_bytes(e.items.front());
        e.items.erase(e.items.begin());
      }
    }
    trim_memory_locked();
  }

  // Sets the clock the first fills compare against (at open, before any reader).
  void start(std::int64_t newest_ts) {
    std::unique_lock lock(mutex_);
    applied_ts_ = newest_ts;
  }

  std::size_t size() const {
    std::shared_lock lock(mutex_);
    return entries_.size();
  }
  std::size_t bytes() const {
    std::shared_lock lock(mutex_);
    return bytes_;
  }

 private:
  struct Entry {
    std::int64_t floor = 0;
    std::vector<Item> items;
    std::size_t bytes = 0;
  };
  static constexpr std::size_t kEntryOverhead = sizeof(Entry) + 64;  // map node and hashing

  static std::int64_t newest_of(const Entry& e) {
    return e.items.empty() ? e.floor : e.items.back().timestamp;
  }

  std::optional<Page> read_locked(const std::string& key, std::int64_t after, int limit) const {
    auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    const Entry& e = it->second;
    if (after < e.floor) return std::nullopt;  // older items than the entry holds
    Page page;
    // floor > 0 names a durable item older than the entry (deletes drop such entries).
    page.older_left = (e.floor > 0) || (!e.items.empty() && e.items.front().timestamp <= after);
    auto first = std::upper_bound(e.items.begin(), e.items.end(), after,
                                  [](std::int64_t ts, const Item& i) { return ts < i.timestamp; });
    const auto available = static_cast<std::size_t>(e.items.end() - first);
    const auto n = std::min(available, static_cast<std::size_t>(std::max(0, limit)));
    page.items.assign(first, first + static_cast<std::ptrdiff_t>(n));
    return page;
  }

  void apply_delete_locked(const Change& d) {
    auto it = entries_.find(d.key);
    if (it == entries_.end() || d.rows == 0) return;
    Entry& e = it->second;
    std::size_t held = 0;
    while (held < e.items.size() && e.items[held].timestamp <= d.up_to)
      ++held;
    if (e.floor == 0 && static_cast<std::int64_t>(held) == d.rows) {
      for (std::size_t i = 0; i < held; ++i) {
        e.bytes -= item_bytes(e.items[i]);
        bytes_ -= item_bytes(e.items[i]);
      }
      e.items.erase(e.items.begin(), e.items.begin() + static_cast<std::ptrdiff_t>(held));
      return;
    }
    bytes_ -= e.bytes;  // the rows deleted are not the ones held: read them again
    entries_.erase(it);
  }

  void trim_memory_locked() {
    if (bytes_ > options_.max_bytes) clear_locked();
  }
  void clear_locked() {
    entries_.clear();
    bytes_ = 0;
  }

  Options options_;
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  std::size_t bytes_ = 0;
  std::uint64_t generation_ = 0;
  std::int64_t applied_ts_ = 0;
};

}  // namespace secchats::server
