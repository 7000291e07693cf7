// Every SQL statement of the SQLite backend lives here, next to the schema it depends on.
#pragma once

#include <array>
#include <string_view>

namespace secchats::server::sqlite::sql {

// Migrations run in order, each once, inside a transaction; index + 1 is the schema version.
// Never edit a shipped migration: append a new one.
inline constexpr std::array<std::string_view, 2> kMigrations = {
    // v1: accounts, groups (ids only: the server never learns members), per-user queues,
    // group logs, and the global timestamp high-water mark.
    R"sql(
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  token_hash BLOB NOT NULL,
  created_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE groups (
  id TEXT PRIMARY KEY,
  created_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE queue_items (
  recipient_id TEXT NOT NULL,
  ts INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  sender_id TEXT NOT NULL,
  group_id TEXT,
  protocol TEXT,
  payload TEXT,
  PRIMARY KEY (recipient_id, ts)
) WITHOUT ROWID;
CREATE TABLE group_messages (
  group_id TEXT NOT NULL,
  ts INTEGER NOT NULL,
  sender_id TEXT NOT NULL,
  payload TEXT,
  PRIMARY KEY (group_id, ts)
) WITHOUT ROWID;
CREATE TABLE clock (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  last_ts INTEGER NOT NULL
);
INSERT INTO clock (id, last_ts) VALUES (1, 0);
)sql",
    // v2: retention purges the oldest rows of all queues and logs; timestamps are global and
    // follow wall-clock time, so an index on ts makes each bounded purge round a range scan.
    R"sql(
CREATE INDEX queue_items_by_ts ON queue_items (ts);
CREATE INDEX group_messages_by_ts ON group_messages (ts);
)sql",
};

inline constexpr std::string_view kCreateVersionTable =
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)";
inline constexpr std::string_view kSelectVersion = "SELECT version FROM schema_version";
inline constexpr std::string_view kInsertVersion =
    "INSERT INTO schema_version (version) VALUES (?1)";
inline constexpr std::string_view kUpdateVersion = "UPDATE schema_version SET version = ?1";

inline constexpr std::string_view kSelectLastTs = "SELECT last_ts FROM clock WHERE id = 1";
inline constexpr std::string_view kUpdateLastTs = "UPDATE clock SET last_ts = ?1 WHERE id = 1";

inline constexpr std::string_view kInsertUser =
    "INSERT INTO users (id, token_hash, created_ms) VALUES (?1, ?2, ?3)";
inline constexpr std::string_view kInsertGroup =
    "INSERT INTO groups (id, created_ms) VALUES (?1, ?2)";
inline constexpr std::string_view kUserExists = "SELECT 1 FROM users WHERE id = ?1";
inline constexpr std::string_view kGroupExists = "SELECT 1 FROM groups WHERE id = ?1";
inline constexpr std::string_view kUserTokenHash = "SELECT token_hash FROM users WHERE id = ?1";

inline constexpr std::string_view kInsertQueueItem =
    "INSERT INTO queue_items (recipient_id, ts, kind, sender_id, group_id, protocol, payload) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
inline constexpr std::string_view kInsertGroupMessage =
    "INSERT INTO group_messages (group_id, ts, sender_id, payload) VALUES (?1, ?2, ?3, ?4)";

inline constexpr std::string_view kQueueItemsAfter =
    "SELECT ts, kind, sender_id, group_id, protocol, payload FROM queue_items "
    "WHERE recipient_id = ?1 AND ts > ?2 ORDER BY ts LIMIT ?3";
inline constexpr std::string_view kGroupMessagesAfter =
    "SELECT ts, sender_id, payload FROM group_messages "
    "WHERE group_id = ?1 AND ts > ?2 ORDER BY ts LIMIT ?3";
inline constexpr std::string_view kQueueHasItemsUpTo =
    "SELECT 1 FROM queue_items WHERE recipient_id = ?1 AND ts <= ?2 LIMIT 1";
// The newest items of one queue / group log, newest first: what fills the tail caches
// (storage/tail_cache.hpp). ?2 is the cache's per-key size + 1, to learn whether older exist.
inline constexpr std::string_view kQueueTail =
    "SELECT ts, kind, sender_id, group_id, protocol, payload FROM queue_items "
    "WHERE recipient_id = ?1 ORDER BY ts DESC LIMIT ?2";
inline constexpr std::string_view kGroupTail =
    "SELECT ts, sender_id, payload FROM group_messages "
    "WHERE group_id = ?1 ORDER BY ts DESC LIMIT ?2";
// One read transaction around the statements of one read (a single snapshot).
inline constexpr std::string_view kBeginRead = "BEGIN";
inline constexpr std::string_view kEndRead = "COMMIT";
// The writer's batch transaction (group commit), prepared once instead of parsed per batch.
inline constexpr std::string_view kBeginWrite = "BEGIN IMMEDIATE";
inline constexpr std::string_view kNewestQueueTs =
    "SELECT COALESCE(MAX(ts), 0) FROM queue_items WHERE recipient_id = ?1";
inline constexpr std::string_view kNewestGroupTs =
    "SELECT COALESCE(MAX(ts), 0) FROM group_messages WHERE group_id = ?1";

// Bounded deletes: SQLite lacks DELETE ... LIMIT by default, so each picks its rows (oldest
// first) in a subquery. Timestamps are unique across each table, so `ts IN (...)` names
// exactly those rows; the outer conditions repeat the bound so no other row can match.
inline constexpr std::string_view kAckQueueItems =
    "DELETE FROM queue_items WHERE recipient_id = ?1 AND ts <= ?2 AND ts IN "
    "(SELECT ts FROM queue_items WHERE recipient_id = ?1 AND ts <= ?2 ORDER BY ts LIMIT ?3)";
inline constexpr std::string_view kPurgeQueueItems =
    "DELETE FROM queue_items WHERE ts < ?1 AND ts IN "
    "(SELECT ts FROM queue_items WHERE ts < ?1 ORDER BY ts LIMIT ?2)";
inline constexpr std::string_view kPurgeGroupMessages =
    "DELETE FROM group_messages WHERE ts < ?1 AND ts IN "
    "(SELECT ts FROM group_messages WHERE ts < ?1 ORDER BY ts LIMIT ?2)";

inline constexpr std::string_view kCountUsers = "SELECT COUNT(*) FROM users";
inline constexpr std::string_view kCountGroups = "SELECT COUNT(*) FROM groups";
inline constexpr std::string_view kCountQueueItems = "SELECT COUNT(*) FROM queue_items";
inline constexpr std::string_view kCountGroupMessages = "SELECT COUNT(*) FROM group_messages";

}  // namespace secchats::server::sqlite::sql
