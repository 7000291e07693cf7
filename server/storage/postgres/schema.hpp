// Every SQL statement of the PostgreSQL storage backend lives here, next to the schema it
// depends on (PostgreSQL 15). Parameters are $1..$n in libpq text format unless noted.
#pragma once

#include <array>
#include <string_view>

namespace secchats::server::postgres::sql {

// Migrations run in order, each once, in its own transaction, while the migrating relay holds
// pg_advisory_lock(kMigrationLockKey); index + 1 is the schema version. Never edit a shipped
// migration: append a new one.
inline constexpr std::array<std::string_view, 1> kMigrations = {
    // v1: accounts, groups (ids only: the server never learns members), per-user queues,
    // group logs, the global timestamp high-water mark (one row, locked by every writing
    // transaction), and ts indexes so bounded retention rounds are range scans.
    R"sql(
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  token_hash BYTEA NOT NULL,
  created_ms BIGINT NOT NULL
);
CREATE TABLE groups (
  id TEXT PRIMARY KEY,
  created_ms BIGINT NOT NULL
);
CREATE TABLE queue_items (
  recipient_id TEXT NOT NULL,
  ts BIGINT NOT NULL,
  kind INTEGER NOT NULL,
  sender_id TEXT NOT NULL,
  group_id TEXT,
  protocol TEXT,
  payload TEXT,
  PRIMARY KEY (recipient_id, ts)
);
CREATE TABLE group_messages (
  group_id TEXT NOT NULL,
  ts BIGINT NOT NULL,
  sender_id TEXT NOT NULL,
  payload TEXT,
  PRIMARY KEY (group_id, ts)
);
CREATE INDEX queue_items_by_ts ON queue_items (ts);
CREATE INDEX group_messages_by_ts ON group_messages (ts);
CREATE TABLE clock (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  last_ts BIGINT NOT NULL
);
INSERT INTO clock (id, last_ts) VALUES (1, 0);
)sql",
};

inline constexpr std::string_view kCreateVersionTable =
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)";
inline constexpr std::string_view kSelectVersion = "SELECT version FROM schema_version";
inline constexpr std::string_view kInsertVersion =
    "INSERT INTO schema_version (version) VALUES ($1)";
inline constexpr std::string_view kUpdateVersion = "UPDATE schema_version SET version = $1";
// $1: the lock key.
inline constexpr std::string_view kAdvisoryLock = "SELECT pg_advisory_lock($1)";
inline constexpr std::string_view kAdvisoryUnlock = "SELECT pg_advisory_unlock($1)";

// The first statement of every batch that assigns timestamps: takes the clock row lock, held
// until COMMIT, so batches that write items commit in timestamp order (pg_storage.hpp).
inline constexpr std::string_view kBeginAndLockClock =
    "BEGIN; SELECT last_ts FROM clock WHERE id = 1 FOR UPDATE";
inline constexpr std::string_view kBegin = "BEGIN";
inline constexpr std::string_view kUpdateLastTs = "UPDATE clock SET last_ts = $1 WHERE id = 1";
inline constexpr std::string_view kCommit = "COMMIT";
inline constexpr std::string_view kRollback = "ROLLBACK";
// $1 channel, $2 payload: delivered to listeners only if the transaction commits.
inline constexpr std::string_view kNotify = "SELECT pg_notify($1, $2)";

// Writes never fail for a taken id or an unknown target (that would abort the batch's
// transaction): they do nothing instead, and the affected-row count or flags say why.
// $1 id, $2 token hash (binary bytea), $3 created_ms.
inline constexpr std::string_view kInsertUser =
    "INSERT INTO users (id, token_hash, created_ms) VALUES ($1, $2, $3) "
    "ON CONFLICT (id) DO NOTHING";
// $1 id, $2 created_ms.
inline constexpr std::string_view kInsertGroup =
    "INSERT INTO groups (id, created_ms) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING";
// $1 recipient, $2 ts, $3 kind, $4 sender, $5 group_id, $6 protocol, $7 payload, $8 whether
// the group must exist (invites). Inserts only if the recipient (and group) exist; returns
// one row (recipient_known, group_known).
inline constexpr std::string_view kInsertQueueItem = R"sql(
WITH chk AS (
  SELECT EXISTS (SELECT 1 FROM users WHERE id = $1::text) AS recipient_known,
         (NOT $8::boolean OR EXISTS (SELECT 1 FROM groups WHERE id = $5::text)) AS group_known),
ins AS (
  INSERT INTO queue_items (recipient_id, ts, kind, sender_id, group_id, protocol, payload)
  SELECT $1::text, $2::bigint, $3::integer, $4::text, $5::text, $6::text, $7::text FROM chk
  WHERE recipient_known AND group_known RETURNING 1)
SELECT recipient_known, group_known FROM chk)sql";
// $1 group, $2 ts, $3 sender, $4 payload. Affects 0 rows for an unknown group.
inline constexpr std::string_view kInsertGroupMessage =
    "INSERT INTO group_messages (group_id, ts, sender_id, payload) "
    "SELECT $1::text, $2::bigint, $3::text, $4::text "
    "WHERE EXISTS (SELECT 1 FROM groups WHERE id = $1::text)";

// Bounded deletes, oldest first. Timestamps are unique across each table, so `ts IN (...)`
// names exactly the chosen rows.
// $1 user, $2 up_to, $3 max rows.
inline constexpr std::string_view kAckQueueItems =
    "DELETE FROM queue_items WHERE recipient_id = $1::text AND ts IN "
    "(SELECT ts FROM queue_items WHERE recipient_id = $1::text AND ts <= $2::bigint "
    "ORDER BY ts LIMIT $3::bigint)";
// $1 before, $2 max rows, $3 kPurgeLockKey. One round: queue items first, then group messages
// with the rest of the budget; deletes nothing unless this transaction gets the purge lock.
// Returns one row (queue items deleted, group messages deleted).
inline constexpr std::string_view kPurgeExpired = R"sql(
WITH lk AS (SELECT pg_try_advisory_xact_lock($3::bigint) AS got),
q AS (
  DELETE FROM queue_items WHERE ts IN (
    SELECT ts FROM queue_items WHERE ts < $1::bigint AND (SELECT got FROM lk)
    ORDER BY ts LIMIT $2::bigint)
  RETURNING 1),
g AS (
  DELETE FROM group_messages WHERE ts IN (
    SELECT ts FROM group_messages WHERE ts < $1::bigint AND (SELECT got FROM lk)
    ORDER BY ts LIMIT GREATEST($2::bigint - (SELECT count(*) FROM q), 0))
  RETURNING 1)
SELECT (SELECT count(*) FROM q), (SELECT count(*) FROM g))sql";

// Reads.
// $1 user id; binary result (the 32-byte hash).
inline constexpr std::string_view kUserTokenHash = "SELECT token_hash FROM users WHERE id = $1";
inline constexpr std::string_view kGroupExists = "SELECT 1 FROM groups WHERE id = $1";
// $1 user, $2 after, $3 limit.
inline constexpr std::string_view kQueueItemsAfter =
    "SELECT ts, kind, sender_id, group_id, protocol, payload FROM queue_items "
    "WHERE recipient_id = $1 AND ts > $2::bigint ORDER BY ts LIMIT $3::bigint";
// $1 group ids (text[] literal), $2 after, $3 limit.
inline constexpr std::string_view kGroupMessagesAfter =
    "SELECT group_id, ts, sender_id, payload FROM group_messages "
    "WHERE group_id = ANY ($1::text[]) AND ts > $2::bigint ORDER BY ts LIMIT $3::bigint";
// $1 user, $2 after, $3 limit: queue_items_after and queue_has_items_up_to($2) in one
// statement. Always at least one row: column 0 says whether an item at or below $2 is left;
// the item columns 1..6 are NULL in the single row of an empty page.
inline constexpr std::string_view kQueuePageAfter = R"sql(
SELECT b.acknowledged_left, q.ts, q.kind, q.sender_id, q.group_id, q.protocol, q.payload
FROM (SELECT EXISTS (SELECT 1 FROM queue_items
                     WHERE recipient_id = $1::text AND ts <= $2::bigint) AS acknowledged_left) b
LEFT JOIN LATERAL (
  SELECT ts, kind, sender_id, group_id, protocol, payload FROM queue_items
  WHERE recipient_id = $1::text AND ts > $2::bigint ORDER BY ts LIMIT $3::bigint) q ON true
ORDER BY q.ts)sql";
inline constexpr std::string_view kQueueHasItemsUpTo =
    "SELECT 1 FROM queue_items WHERE recipient_id = $1 AND ts <= $2::bigint LIMIT 1";
inline constexpr std::string_view kNewestQueueTs =
    "SELECT COALESCE(MAX(ts), 0) FROM queue_items WHERE recipient_id = $1";
inline constexpr std::string_view kNewestGroupTs =
    "SELECT COALESCE(MAX(ts), 0) FROM group_messages WHERE group_id = $1";
inline constexpr std::string_view kCounts =
    "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM groups), "
    "(SELECT count(*) FROM queue_items), (SELECT count(*) FROM group_messages)";

}  // namespace secchats::server::postgres::sql
