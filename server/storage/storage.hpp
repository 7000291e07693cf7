// The relay's storage interface. The embedded SQLite backend (storage/sqlite) and the
// PostgreSQL backend for several relays (storage/postgres) implement it, and one shared test
// suite runs against both.
//
// Contract:
//  - Writes go through submit(): the backend may execute many concurrent submissions in one
//    transaction (group commit). A callback is invoked only after the item is durable, with
//    its server timestamp.
//  - Timestamps are assigned by the backend and strictly increase across ALL queues and
//    group logs (one global sequence), so a cursor never skips or repeats an item, and even
//    a client that keeps only the maximum over several queues misses nothing.
//  - Reads are synchronous, thread-safe, and see only committed writes.
//  - Deleting items (acknowledgements, retention) never resets the timestamp sequence: a new
//    item always gets a timestamp above every one ever issued, even if its queue is empty.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "secchats/common/result.hpp"

namespace secchats::server {

using TokenHash = std::array<std::uint8_t, 32>;

// Queue keys: one namespace for the user queues and group logs that long-polls watch. The
// relay service wakes waiters by these keys, and the PostgreSQL backend sends them to the
// other relays in its commit notifications ("u:" + user id, "g:" + group id).
inline std::string queue_key_for_user(const std::string& user_id) {
  return "u:" + user_id;
}
inline std::string queue_key_for_group(const std::string& group_id) {
  return "g:" + group_id;
}
using OptString = std::optional<std::string>;

// What sits in a user's queue; the kinds map one-to-one onto the Notifications arrays.
enum class ItemKind : int {
  kFriendRequest = 1,
  kFriendResponse = 2,
  kGroupInvite = 3,
  kMessage = 4
};

struct QueueItem {
  ItemKind kind = ItemKind::kMessage;
  std::string recipient_id;
  std::string sender_id;
  OptString group_id;  // GroupInvite only
  OptString protocol;  // FriendRequest.protocol or GroupInvite.algorithm
  OptString payload;   // cryptoData or encContent: opaque to the server
  std::int64_t timestamp = 0;
};

struct GroupMessage {
  std::string group_id;
  std::string sender_id;
  OptString payload;  // encContent
  std::int64_t timestamp = 0;
};

// Write operations. Each either fails before changing anything or is applied whole.
struct CreateUser {
  std::string user_id;
  TokenHash token_hash{};
};
struct CreateGroup {
  std::string group_id;
};
struct EnqueueItem {  // fails with kNotFound if the recipient (or an invite's group) is unknown
  QueueItem item;
};
struct AppendGroupMessage {  // fails with kNotFound if the group is unknown
  GroupMessage message;
};
// Forget-after-ack: deletes the oldest of the user's queue items with timestamp <= up_to
// (the user asked /receive past them), at most `max_rows` of them; resubmit while `rows`
// comes back equal to `max_rows`. Never touches newer items; an unknown user deletes nothing.
struct AckQueue {
  std::string user_id;
  std::int64_t up_to = 0;
  int max_rows = 5000;
};
// Retention: deletes at most `max_rows` queue items and group messages with timestamp
// < before (queue items first). Users and groups stay. Submit again while `rows` comes back
// equal to `max_rows`: the bound keeps each round short, so writes queued behind it wait
// briefly and interleave with the rounds.
struct PurgeExpired {
  std::int64_t before = 0;
  int max_rows = 5000;
};
using WriteOp =
    std::variant<CreateUser, CreateGroup, EnqueueItem, AppendGroupMessage, AckQueue, PurgeExpired>;

// Outcome of one write: the assigned timestamp (inserts) or the rows deleted (deletes), or an
// error.
struct WriteOutcome {
  bool ok = false;
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  std::int64_t timestamp = 0;
  std::int64_t rows = 0;

  static WriteOutcome success(std::int64_t ts) { return {true, ErrorCode::kInternal, {}, ts, 0}; }
  static WriteOutcome deleted(std::int64_t n) { return {true, ErrorCode::kInternal, {}, 0, n}; }
  static WriteOutcome failure(ErrorCode c, std::string m) { return {false, c, std::move(m), 0, 0}; }
};

using WriteCallback = std::function<void(WriteOutcome)>;

// What one /receive reads (Storage::queue_page_after).
struct QueuePage {
  std::vector<QueueItem> items;    // timestamp > after, oldest first, at most `limit`
  bool acknowledged_left = false;  // the queue still holds an item with timestamp <= after
};

struct StorageCounts {
  std::int64_t users = 0;
  std::int64_t groups = 0;
  std::int64_t queued_items = 0;
  std::int64_t group_messages = 0;
};

struct WriterStats {
  std::uint64_t batches = 0;        // transactions committed
  std::uint64_t ops = 0;            // write operations applied
  std::uint64_t max_batch = 0;      // largest batch so far
  std::uint64_t commit_micros = 0;  // total time spent in COMMIT (fsync)
  // Rows deleted by committed AckQueue / PurgeExpired operations.
  std::uint64_t acked_deletes = 0;
  std::uint64_t purged_queue_items = 0;
  std::uint64_t purged_group_messages = 0;
  // Write-ahead-log checkpoints run beside the writer (SQLite backend).
  std::uint64_t checkpoints = 0;
};

class Storage {
 public:
  virtual ~Storage() = default;

  // Thread-safe. `done` runs on a backend thread once the outcome is known; keep it short.
  virtual void submit(WriteOp op, WriteCallback done) = 0;

  virtual Result<std::optional<TokenHash>> user_token_hash(const std::string& user_id) = 0;
  virtual Result<bool> group_exists(const std::string& group_id) = 0;
  // Items with timestamp > after, oldest first, at most `limit`.
  virtual Result<std::vector<QueueItem>> queue_items_after(const std::string& user_id,
                                                           std::int64_t after, int limit) = 0;
  // Messages of any of the groups with timestamp > after, oldest first, at most `limit`.
  virtual Result<std::vector<GroupMessage>> group_messages_after(
      std::span<const std::string> group_ids, std::int64_t after, int limit) = 0;
  // Whether the user's queue still holds an item with timestamp <= up_to (an AckQueue would
  // delete something). Lets callers skip writes for acknowledgements with nothing to forget.
  virtual Result<bool> queue_has_items_up_to(const std::string& user_id, std::int64_t up_to) = 0;
  // queue_items_after(user_id, after, limit) and, for after > 0, queue_has_items_up_to(user_id,
  // after) as of one read: what /receive answers with and whether its cursor leaves items to
  // forget. This default makes the two calls (a failed second read leaves acknowledged_left
  // false: the items are forgotten after a later /receive, or by retention); a backend that
  // pays a network round trip per read answers both with one statement.
  virtual Result<QueuePage> queue_page_after(const std::string& user_id, std::int64_t after,
                                             int limit) {
    QueuePage page;
    SC_ASSIGN_OR_RETURN(page.items, queue_items_after(user_id, after, limit));
    if (after > 0) {
      auto left = queue_has_items_up_to(user_id, after);
      page.acknowledged_left = left.ok() && *left;
    }
    return page;
  }
  // The newest timestamp in a user's queue / a group's log (0 when empty or unknown).
  virtual Result<std::int64_t> newest_queue_timestamp(const std::string& user_id) = 0;
  virtual Result<std::int64_t> newest_group_timestamp(const std::string& group_id) = 0;

  virtual Result<StorageCounts> counts() = 0;
  virtual WriterStats writer_stats() const = 0;

  // Finishes every submitted write, then stops accepting new ones (they fail kUnavailable).
  virtual void close() = 0;
};

}  // namespace secchats::server
