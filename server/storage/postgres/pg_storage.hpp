// The PostgreSQL storage backend: several stateless relays share one database (docs/
// operations.md "Several relays"). Implements the Storage contract of storage/storage.hpp with
// the same guarantees as the SQLite backend, across every relay on the database:
//
//  - Group commit: one writer thread per relay gathers concurrent submissions into one
//    transaction (at most `max_batch` operations); a callback runs only after COMMIT returned
//    (synchronous_commit on: durable on the primary, and on a synchronous standby when the
//    operator configures one).
//  - Visible order = commit order: each transaction first locks the single clock row
//    (SELECT ... FOR UPDATE), takes its timestamps above the stored last_ts (max(now_ms,
//    last + 1), as the SQLite backend), writes the new last_ts and commits while still holding
//    the row lock. A transaction that commits later therefore always carries larger
//    timestamps, so a reader that has seen timestamp T can never later find a new item below T.
//    (A plain sequence fails this: nextval() hands out 1004 and 1005 to two transactions, 1005
//    commits first, a reader moves its cursor past 1005 and never sees 1004.)
//  - Cross-relay wake-up: the writing transaction runs pg_notify(kWakeChannel, keys) before
//    COMMIT, so the notification is delivered to every LISTENing relay exactly when, and only
//    if, the write commits. `keys` are the queue keys of storage.hpp (queue_key_for_user /
//    queue_key_for_group) touched by the batch, '\n'-separated, split over several
//    notifications so each payload stays under kMaxNotifyPayloadBytes. (Keys of ops whose
//    target turned out unknown may be included: a wake-up with no waiter costs nothing.)
//  - Schema migrations run at start-up inside pg_advisory_lock(kMigrationLockKey), so relays
//    starting together apply each migration exactly once.
//  - Jobs that must run once (PurgeExpired) take pg_try_advisory_xact_lock(kPurgeLockKey) in
//    their transaction: while one relay purges, the others' rounds delete nothing and return
//    rows = 0; the lock dies with the transaction, so a relay that dies mid-purge blocks
//    nobody.
//  - Reads use a pool of `pool_size` connections. A broken connection is replaced on next use
//    with backoff; while the database is unreachable every read and write fails kUnavailable
//    (HTTP 503 "storage unavailable"), never a success for a write that did not commit.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "storage/storage.hpp"

namespace secchats::server {

// NOTIFY channel the PostgreSQL backend signals committed writes on.
inline constexpr std::string_view kWakeChannel = "secchats_wake";
// PostgreSQL rejects NOTIFY payloads of 8000 bytes or more; stay well below.
inline constexpr std::size_t kMaxNotifyPayloadBytes = 7000;
// Advisory lock keys (pg_advisory_lock's bigint space; "SC" in the high bytes).
inline constexpr std::int64_t kMigrationLockKey = 0x5343'0000'0000'0001;
inline constexpr std::int64_t kPurgeLockKey = 0x5343'0000'0000'0002;
inline constexpr std::int64_t kBlobPurgeLockKey = 0x5343'0000'0000'0003;

struct PgOptions {
  std::string uri;  // libpq connection URI: postgresql://user@host:port/db?...
  // Read connections (the writer has its own).
  int pool_size = 8;
  // Most write operations one transaction may carry.
  int max_batch = 512;
  // Bounds connecting (and reconnecting) to the database, unacknowledged sends to it
  // (tcp_user_timeout), and the writer's wait for the clock row lock (lock_timeout).
  std::chrono::milliseconds connect_timeout{5000};
  // Deadline of one read on a pool connection (client side, and the server's
  // statement_timeout): a locked table or a frozen database fails the read kUnavailable
  // after this long instead of holding the relay's network thread. The writer's statements
  // get 2 x connect_timeout (at least 2 s): the clock row's lock_timeout plus the batch.
  std::chrono::milliseconds read_timeout{5000};
  // Reconnect backoff: doubles from min to max while the database stays unreachable.
  std::chrono::milliseconds reconnect_backoff_min{100};
  std::chrono::milliseconds reconnect_backoff_max{5000};
};

// Connects, applies pending migrations under the migration lock, starts the writer.
// kUnavailable if the database cannot be reached at start (the relay exits with the reason).
Result<std::unique_ptr<Storage>> open_postgres_storage(const PgOptions& options);

}  // namespace secchats::server
