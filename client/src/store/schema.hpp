// Every SQL statement of the client store, and the versioned schema migrations.
//
// The schema version is PRAGMA user_version. Migration N takes the database from version N-1
// to N; a released migration is never edited, only new ones appended. Statements bind every
// value as a parameter (?); nothing user-supplied is ever spliced into SQL text.
//
// "groups" is quoted everywhere: it is a keyword in newer SQLite versions (window frames).
#pragma once

#include <array>
#include <string_view>

namespace secchats::store::schema {

struct Migration {
  int version;
  std::string_view sql;  // one or more statements, run in one transaction
};

inline constexpr std::array kMigrations = {
    Migration{1, R"sql(
CREATE TABLE identity (
  id            INTEGER PRIMARY KEY CHECK (id = 1),
  user_id       TEXT NOT NULL,
  auth_token    TEXT NOT NULL,
  nickname      TEXT NOT NULL,
  server_url    TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL
);
CREATE TABLE friends (
  user_id       TEXT PRIMARY KEY NOT NULL,
  nickname      TEXT NOT NULL,
  channel_key   TEXT NOT NULL,
  protocol      TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL
);
CREATE TABLE outgoing_requests (
  to_user_id     TEXT PRIMARY KEY NOT NULL,
  session_string TEXT NOT NULL,
  created_at_ms  INTEGER NOT NULL
);
CREATE TABLE incoming_requests (
  from_user_id     TEXT PRIMARY KEY NOT NULL,
  crypto_data      TEXT NOT NULL,
  server_timestamp INTEGER NOT NULL,
  received_at_ms   INTEGER NOT NULL
);
CREATE TABLE "groups" (
  group_id      TEXT PRIMARY KEY NOT NULL,
  name          TEXT NOT NULL,
  group_key     TEXT NOT NULL,
  origin        TEXT NOT NULL CHECK (origin IN ('created', 'invited', 'in_person')),
  created_at_ms INTEGER NOT NULL
);
CREATE TABLE group_invites (
  group_id         TEXT PRIMARY KEY NOT NULL,
  from_user_id     TEXT NOT NULL,
  name             TEXT NOT NULL,
  group_key        TEXT NOT NULL,
  server_timestamp INTEGER NOT NULL
);
CREATE TABLE messages (
  local_id            INTEGER PRIMARY KEY AUTOINCREMENT,
  chat_id             TEXT NOT NULL,
  chat_kind           TEXT NOT NULL CHECK (chat_kind IN ('friend', 'group')),
  from_user_id        TEXT NOT NULL,
  from_name           TEXT NOT NULL,
  message_id          INTEGER NOT NULL,
  type                TEXT NOT NULL,
  text                TEXT NOT NULL,
  image               BLOB,
  reply_to_message_id INTEGER NOT NULL,
  new_emoji           TEXT NOT NULL,
  old_emoji           TEXT NOT NULL,
  sender_timestamp    INTEGER NOT NULL,
  server_timestamp    INTEGER NOT NULL,
  outgoing            INTEGER NOT NULL CHECK (outgoing IN (0, 1)),
  UNIQUE (chat_id, from_user_id, message_id)
);
CREATE INDEX messages_by_chat ON messages (chat_id, local_id);
CREATE TABLE cursors (
  channel TEXT PRIMARY KEY NOT NULL,
  ts      INTEGER NOT NULL
);
)sql"},
    // TLS settings of the account (NULL in stores made before: system CAs, no pin).
    Migration{2, R"sql(
ALTER TABLE identity ADD COLUMN ca_file TEXT;
ALTER TABLE identity ADD COLUMN pin_sha256 TEXT;
ALTER TABLE identity ADD COLUMN allow_insecure_http INTEGER CHECK (allow_insecure_http IN (0, 1));
)sql"},
    // Protocol v2, pairwise (docs/protocol-v2.md). Our identity key pair and signed prekey
    // (NULL until made: accounts from before get them on their next open), and per friend the
    // v2 state. The blobs are the crypto library's versioned serialisations.
    Migration{3, R"sql(
ALTER TABLE identity ADD COLUMN v2_identity_key BLOB;
ALTER TABLE identity ADD COLUMN v2_signed_prekey BLOB;
-- Their bundle: ik (32) || spk (32) || spk_sig (64); NULL until their UPDATE arrived.
ALTER TABLE friends ADD COLUMN peer_bundle BLOB;
-- The Double Ratchet session; NULL until both bundles are known.
ALTER TABLE friends ADD COLUMN ratchet_state BLOB;
-- Our bundle went out (a v1 UPDATE): until then it is re-sent at each sync.
ALTER TABLE friends ADD COLUMN update_sent INTEGER NOT NULL DEFAULT 0 CHECK (update_sent IN (0, 1));
-- We owe them a v2 UPDATE: the initiator's key confirmation or the responder's answer to it.
ALTER TABLE friends ADD COLUMN control_pending INTEGER NOT NULL DEFAULT 0
  CHECK (control_pending IN (0, 1));
-- A valid v2 message from them was accepted: v1 from them is refused from now on.
ALTER TABLE friends ADD COLUMN v2_active INTEGER NOT NULL DEFAULT 0 CHECK (v2_active IN (0, 1));
-- The identity key whose safety number the user confirmed; NULL: not verified.
ALTER TABLE friends ADD COLUMN verified_ik BLOB;
-- Their identity key changed and the user has not verified the new one yet.
ALTER TABLE friends ADD COLUMN identity_changed INTEGER NOT NULL DEFAULT 0
  CHECK (identity_changed IN (0, 1));
-- It changed while they were verified: nothing is sent to them until verified again.
ALTER TABLE friends ADD COLUMN send_blocked INTEGER NOT NULL DEFAULT 0
  CHECK (send_blocked IN (0, 1));
)sql"},
    // Protocol v2 groups (docs/protocol-v2.md section 8). Who we know to be in each group, our
    // own sender key per group and the sender keys other members gave us over pairwise v2.
    // Rows are keyed by group id alone, without a reference to "groups": member lists and
    // sender keys can arrive before we join (the invite is still pending).
    Migration{4, R"sql(
CREATE TABLE group_members (
  group_id   TEXT NOT NULL,
  user_id    TEXT NOT NULL,
  -- Removed by a member: their keys are gone and nothing more from them is accepted.
  removed    INTEGER NOT NULL DEFAULT 0 CHECK (removed IN (0, 1)),
  -- The epoch of our sender key this member was given (0: none yet).
  sent_epoch INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (group_id, user_id)
);
-- Our sending key for the group (crypto::v2::SenderKeyState::serialize()); its presence also
-- means the group runs v2 for us from now on (no way back to v1: section 2, no downgrade).
CREATE TABLE group_own_sender_keys (
  group_id TEXT PRIMARY KEY NOT NULL,
  epoch    INTEGER NOT NULL,
  state    BLOB NOT NULL
);
-- Other members' keys (crypto::v2::ReceivedSenderKey::serialize()), with the friend who sent
-- the distribution as owner.
CREATE TABLE group_received_sender_keys (
  group_id      TEXT NOT NULL,
  owner_user_id TEXT NOT NULL,
  epoch         INTEGER NOT NULL,
  key_id        BLOB NOT NULL,
  state         BLOB NOT NULL,
  PRIMARY KEY (group_id, owner_user_id, epoch)
);
CREATE INDEX received_sender_keys_by_id ON group_received_sender_keys (group_id, key_id, epoch);
-- Per group: a member list from a member has been accepted. Until then a group we joined is
-- v1 for us: knowing only the inviter, we would post v2 that the other members cannot read.
CREATE TABLE group_states (
  group_id             TEXT PRIMARY KEY NOT NULL,
  member_list_received INTEGER NOT NULL DEFAULT 0 CHECK (member_list_received IN (0, 1))
);
)sql"},
    // Protocol v2 discovery and group removal (docs/protocol-v2.md §2.1 and §8.2). Per friend:
    // their key-exchange value carried our clients' v2 marker (or they sent us a bundle), so
    // our bundle may go to them; friends made before were offered it already. Removal notices
    // we owe a removed member until the relay took one, and the groups that removed us.
    Migration{5, R"sql(
ALTER TABLE friends ADD COLUMN peer_v2_capable INTEGER NOT NULL DEFAULT 0
  CHECK (peer_v2_capable IN (0, 1));
UPDATE friends SET peer_v2_capable = 1 WHERE update_sent = 1 OR peer_bundle IS NOT NULL;
CREATE TABLE group_removal_notices (
  group_id TEXT NOT NULL,
  user_id  TEXT NOT NULL,
  PRIMARY KEY (group_id, user_id)
);
CREATE TABLE closed_groups (
  group_id     TEXT PRIMARY KEY NOT NULL,
  removed_by   TEXT NOT NULL,
  closed_at_ms INTEGER NOT NULL
);
)sql"},
    // The outbox and the event inbox (issue 10). An outgoing message (direct, group, reaction)
    // or group invite is written here, sealed, in the transaction that advances any v2 state,
    // before it is posted; it leaves once the relay took it. Its message sits in "messages"
    // meanwhile with delivery 'pending' ('failed' after a definite refusal). Events of a sync
    // round wait in undelivered_events until the application accepted them. seen_ciphertexts
    // remembers the v2 ciphertexts accepted, so a re-posted copy is dropped as a duplicate.
    Migration{6, R"sql(
CREATE TABLE outbox (
  local_id      INTEGER PRIMARY KEY AUTOINCREMENT,
  kind          TEXT NOT NULL CHECK (kind IN ('direct', 'group', 'invite')),
  chat_id       TEXT NOT NULL,
  to_id         TEXT NOT NULL,
  message_id    INTEGER NOT NULL UNIQUE,
  body          TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  attempts      INTEGER NOT NULL DEFAULT 0,
  last_error    TEXT NOT NULL DEFAULT '',
  failed        INTEGER NOT NULL DEFAULT 0 CHECK (failed IN (0, 1))
);
ALTER TABLE messages ADD COLUMN delivery TEXT NOT NULL DEFAULT 'sent'
  CHECK (delivery IN ('sent', 'pending', 'failed'));
CREATE TABLE undelivered_events (
  local_id INTEGER PRIMARY KEY AUTOINCREMENT,
  event    TEXT NOT NULL
);
CREATE TABLE seen_ciphertexts (
  chat_id TEXT NOT NULL,
  digest  BLOB NOT NULL,
  PRIMARY KEY (chat_id, digest)
);
)sql"},
    // Version 7: read marks for the chat list's unread counts (Client::chats, mark_read).
    Migration{7, R"sql(
CREATE TABLE chat_reads (
  chat_id    TEXT PRIMARY KEY,
  read_up_to INTEGER NOT NULL
);
)sql"},
    // Version 8: attachments (docs/protocol-v2.md §15). Uploads not finished yet, so the next
    // send of the same file resumes (the descriptor holds the file's key: this database is
    // encrypted), and where download() saved a received file.
    Migration{8, R"sql(
CREATE TABLE uploads (
  message_id    INTEGER PRIMARY KEY,
  chat_kind     INTEGER NOT NULL,
  chat_id       TEXT NOT NULL,
  path          TEXT NOT NULL,
  size          INTEGER NOT NULL,
  mtime         INTEGER NOT NULL,
  descriptor    TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL
);
CREATE TABLE attachment_saves (
  chat_id      TEXT NOT NULL,
  from_user_id TEXT NOT NULL,
  message_id   INTEGER NOT NULL,
  saved_path   TEXT NOT NULL,
  PRIMARY KEY (chat_id, from_user_id, message_id)
);
)sql"},
};

inline constexpr int kLatestVersion = kMigrations.back().version;

// --- Connection setup (no parameters) ---------------------------------------------------------

// Answers one row under SQLCipher and nothing under plain SQLite.
inline constexpr std::string_view kCipherVersion = "PRAGMA cipher_version;";
// Read after keying: fails with SQLITE_NOTADB when the key does not match the file.
inline constexpr std::string_view kVerifyKey = "SELECT count(*) FROM sqlite_master;";
inline constexpr std::string_view kJournalWal = "PRAGMA journal_mode = WAL;";
inline constexpr std::string_view kConnectionPragmas =
    "PRAGMA synchronous = FULL;"
    "PRAGMA temp_store = MEMORY;"
    "PRAGMA foreign_keys = ON;"
    "PRAGMA secure_delete = ON;";
inline constexpr std::string_view kGetUserVersion = "PRAGMA user_version;";
// PRAGMA user_version takes no parameter; the value is a compile-time migration number.
inline constexpr std::string_view kSetUserVersionPrefix = "PRAGMA user_version = ";

inline constexpr std::string_view kBegin = "BEGIN IMMEDIATE;";
inline constexpr std::string_view kCommit = "COMMIT;";
inline constexpr std::string_view kRollback = "ROLLBACK;";

// --- identity ---------------------------------------------------------------------------------

inline constexpr std::string_view kInsertIdentity =
    "INSERT INTO identity (id, user_id, auth_token, nickname, server_url, created_at_ms, "
    "ca_file, pin_sha256, allow_insecure_http) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?);";
inline constexpr std::string_view kSelectIdentity =
    "SELECT user_id, auth_token, nickname, server_url, created_at_ms, ca_file, pin_sha256, "
    "allow_insecure_http FROM identity WHERE id = 1;";
inline constexpr std::string_view kUpdateNickname =
    "UPDATE identity SET nickname = ? WHERE id = 1;";
inline constexpr std::string_view kUpdateConnection =
    "UPDATE identity SET ca_file = ?, pin_sha256 = ?, allow_insecure_http = ? WHERE id = 1;";
inline constexpr std::string_view kSelectOwnV2Keys =
    "SELECT v2_identity_key, v2_signed_prekey FROM identity WHERE id = 1;";
// Set once: friends hold the public halves, so the keys are never replaced.
inline constexpr std::string_view kSetOwnV2Keys =
    "UPDATE identity SET v2_identity_key = ?, v2_signed_prekey = ? "
    "WHERE id = 1 AND v2_identity_key IS NULL;";

// --- friends ----------------------------------------------------------------------------------

// Befriending again (a new handshake with someone who is already a friend) replaces the v1
// fields only: the v2 state (their identity key, the session, verification) must survive it,
// or a re-sent friend request would silently wipe a verified key. (No UPSERT in SQLite 3.15:
// insert if new, then update.)
inline constexpr std::string_view kInsertFriendIfNew =
    "INSERT OR IGNORE INTO friends (user_id, nickname, channel_key, protocol, created_at_ms, "
    "peer_v2_capable) VALUES (?, ?, ?, ?, ?, ?);";
inline constexpr std::string_view kUpdateFriendV1 =
    "UPDATE friends SET nickname = ?, channel_key = ?, protocol = ?, peer_v2_capable = ? "
    "WHERE user_id = ?;";
// Column order as read_friend() expects it.
inline constexpr std::string_view kSelectFriend =
    "SELECT user_id, nickname, channel_key, protocol, created_at_ms, peer_bundle, ratchet_state, "
    "update_sent, control_pending, v2_active, verified_ik, identity_changed, send_blocked, "
    "peer_v2_capable FROM friends WHERE user_id = ?;";
inline constexpr std::string_view kSelectFriends =
    "SELECT user_id, nickname, channel_key, protocol, created_at_ms, peer_bundle, ratchet_state, "
    "update_sent, control_pending, v2_active, verified_ik, identity_changed, send_blocked, "
    "peer_v2_capable FROM friends ORDER BY created_at_ms, rowid;";
inline constexpr std::string_view kUpdateFriendNickname =
    "UPDATE friends SET nickname = ? WHERE user_id = ?;";
inline constexpr std::string_view kUpdateFriendV2 =
    "UPDATE friends SET peer_bundle = ?, ratchet_state = ?, update_sent = ?, control_pending = ?, "
    "v2_active = ?, verified_ik = ?, identity_changed = ?, send_blocked = ?, "
    "peer_v2_capable = ? WHERE user_id = ?;";

// --- friend requests --------------------------------------------------------------------------

inline constexpr std::string_view kPutOutgoing =
    "INSERT OR REPLACE INTO outgoing_requests (to_user_id, session_string, created_at_ms) "
    "VALUES (?, ?, ?);";
inline constexpr std::string_view kSelectOutgoing =
    "SELECT to_user_id, session_string, created_at_ms FROM outgoing_requests "
    "WHERE to_user_id = ?;";
inline constexpr std::string_view kSelectOutgoings =
    "SELECT to_user_id, session_string, created_at_ms FROM outgoing_requests "
    "ORDER BY created_at_ms, rowid;";
inline constexpr std::string_view kDeleteOutgoing =
    "DELETE FROM outgoing_requests WHERE to_user_id = ?;";

inline constexpr std::string_view kPutIncoming =
    "INSERT OR REPLACE INTO incoming_requests "
    "(from_user_id, crypto_data, server_timestamp, received_at_ms) VALUES (?, ?, ?, ?);";
inline constexpr std::string_view kSelectIncoming =
    "SELECT from_user_id, crypto_data, server_timestamp, received_at_ms FROM incoming_requests "
    "WHERE from_user_id = ?;";
inline constexpr std::string_view kSelectIncomings =
    "SELECT from_user_id, crypto_data, server_timestamp, received_at_ms FROM incoming_requests "
    "ORDER BY server_timestamp, rowid;";
inline constexpr std::string_view kDeleteIncoming =
    "DELETE FROM incoming_requests WHERE from_user_id = ?;";

// --- groups -----------------------------------------------------------------------------------

inline constexpr std::string_view kUpsertGroup =
    "INSERT OR REPLACE INTO \"groups\" (group_id, name, group_key, origin, created_at_ms) "
    "VALUES (?, ?, ?, ?, ?);";
inline constexpr std::string_view kSelectGroup =
    "SELECT group_id, name, group_key, origin, created_at_ms FROM \"groups\" "
    "WHERE group_id = ?;";
inline constexpr std::string_view kSelectGroups =
    "SELECT group_id, name, group_key, origin, created_at_ms FROM \"groups\" "
    "ORDER BY created_at_ms, rowid;";

inline constexpr std::string_view kPutInvite =
    "INSERT OR REPLACE INTO group_invites "
    "(group_id, from_user_id, name, group_key, server_timestamp) VALUES (?, ?, ?, ?, ?);";
inline constexpr std::string_view kSelectInvite =
    "SELECT group_id, from_user_id, name, group_key, server_timestamp FROM group_invites "
    "WHERE group_id = ?;";
inline constexpr std::string_view kSelectInvites =
    "SELECT group_id, from_user_id, name, group_key, server_timestamp FROM group_invites "
    "ORDER BY server_timestamp, rowid;";
inline constexpr std::string_view kDeleteInvite = "DELETE FROM group_invites WHERE group_id = ?;";

// --- groups v2 --------------------------------------------------------------------------------

// A member learned again stays as they are (a removed member is not brought back by a list).
inline constexpr std::string_view kAddGroupMember =
    "INSERT OR IGNORE INTO group_members (group_id, user_id) VALUES (?, ?);";
inline constexpr std::string_view kPutGroupMember =
    "INSERT OR REPLACE INTO group_members (group_id, user_id, removed, sent_epoch) "
    "VALUES (?, ?, ?, ?);";
inline constexpr std::string_view kSelectGroupMembers =
    "SELECT group_id, user_id, removed, sent_epoch FROM group_members WHERE group_id = ? "
    "ORDER BY rowid;";
inline constexpr std::string_view kSelectMemberListReceived =
    "SELECT member_list_received FROM group_states WHERE group_id = ?;";
inline constexpr std::string_view kSetMemberListReceived =
    "INSERT OR REPLACE INTO group_states (group_id, member_list_received) VALUES (?, 1);";
inline constexpr std::string_view kSelectOwnSenderKey =
    "SELECT group_id, epoch, state FROM group_own_sender_keys WHERE group_id = ?;";
inline constexpr std::string_view kPutOwnSenderKey =
    "INSERT OR REPLACE INTO group_own_sender_keys (group_id, epoch, state) VALUES (?, ?, ?);";
inline constexpr std::string_view kSelectReceivedSenderKey =
    "SELECT group_id, owner_user_id, epoch, key_id, state FROM group_received_sender_keys "
    "WHERE group_id = ? AND key_id = ? AND epoch = ?;";
inline constexpr std::string_view kSelectReceivedSenderKeys =
    "SELECT group_id, owner_user_id, epoch, key_id, state FROM group_received_sender_keys "
    "WHERE group_id = ? ORDER BY owner_user_id, epoch;";
inline constexpr std::string_view kPutReceivedSenderKey =
    "INSERT OR REPLACE INTO group_received_sender_keys "
    "(group_id, owner_user_id, epoch, key_id, state) VALUES (?, ?, ?, ?, ?);";
inline constexpr std::string_view kDeleteReceivedSenderKeys =
    "DELETE FROM group_received_sender_keys WHERE group_id = ? AND owner_user_id = ?;";

inline constexpr std::string_view kPutUpload =
    "INSERT OR REPLACE INTO uploads (message_id, chat_kind, chat_id, path, size, mtime, "
    "descriptor, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?);";
inline constexpr std::string_view kSelectUploads =
    "SELECT message_id, chat_kind, chat_id, path, size, mtime, descriptor, created_at_ms "
    "FROM uploads ORDER BY created_at_ms, message_id;";
inline constexpr std::string_view kDeleteUpload = "DELETE FROM uploads WHERE message_id = ?;";
inline constexpr std::string_view kPutSavedPath =
    "INSERT OR REPLACE INTO attachment_saves (chat_id, from_user_id, message_id, saved_path) "
    "VALUES (?, ?, ?, ?);";
inline constexpr std::string_view kSelectSavedPath =
    "SELECT saved_path FROM attachment_saves WHERE chat_id = ? AND from_user_id = ? AND "
    "message_id = ?;";
inline constexpr std::string_view kPutRemovalNotice =
    "INSERT OR IGNORE INTO group_removal_notices (group_id, user_id) VALUES (?, ?);";
inline constexpr std::string_view kSelectRemovalNotices =
    "SELECT group_id, user_id FROM group_removal_notices ORDER BY rowid;";
inline constexpr std::string_view kDeleteRemovalNotice =
    "DELETE FROM group_removal_notices WHERE group_id = ? AND user_id = ?;";
// The first removal wins: a second notice does not change who closed it or when.
inline constexpr std::string_view kCloseGroup =
    "INSERT OR IGNORE INTO closed_groups (group_id, removed_by, closed_at_ms) VALUES (?, ?, ?);";
inline constexpr std::string_view kSelectClosedGroup =
    "SELECT group_id, removed_by, closed_at_ms FROM closed_groups WHERE group_id = ?;";

// --- messages ---------------------------------------------------------------------------------

// Plain INSERT: a duplicate (chat_id, from_user_id, message_id) fails with
// SQLITE_CONSTRAINT_UNIQUE, which the store reports as "not inserted".
inline constexpr std::string_view kInsertMessage =
    "INSERT INTO messages (chat_id, chat_kind, from_user_id, from_name, message_id, type, text, "
    "image, reply_to_message_id, new_emoji, old_emoji, sender_timestamp, server_timestamp, "
    "outgoing, delivery) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);";
// The newest ? messages of a chat (LIMIT -1 = all), returned oldest first.
inline constexpr std::string_view kSelectMessages =
    "SELECT local_id, chat_id, chat_kind, from_user_id, from_name, message_id, type, text, "
    "image, reply_to_message_id, new_emoji, old_emoji, sender_timestamp, server_timestamp, "
    "outgoing, delivery FROM (SELECT * FROM messages WHERE chat_id = ? ORDER BY local_id DESC "
    "LIMIT ?) "
    "ORDER BY local_id ASC;";

inline constexpr std::string_view kSelectMessagesBefore =
    "SELECT local_id, chat_id, chat_kind, from_user_id, from_name, message_id, type, text, "
    "image, reply_to_message_id, new_emoji, old_emoji, sender_timestamp, server_timestamp, "
    "outgoing, delivery FROM (SELECT * FROM messages WHERE chat_id = ? AND local_id < ? "
    "ORDER BY local_id DESC LIMIT ?) "
    "ORDER BY local_id ASC;";
// The newest message of a chat that is not a reaction (the chat list's preview).
inline constexpr std::string_view kSelectLastMessage =
    "SELECT local_id, chat_id, chat_kind, from_user_id, from_name, message_id, type, text, "
    "image, reply_to_message_id, new_emoji, old_emoji, sender_timestamp, server_timestamp, "
    "outgoing, delivery FROM messages WHERE chat_id = ? AND type <> 'EMOJI' "
    "ORDER BY local_id DESC LIMIT 1;";
// Message count and incoming messages (not reactions) after the read mark; ?1 is the chat id.
inline constexpr std::string_view kChatCounts =
    "SELECT COUNT(*), COALESCE(SUM(outgoing = 0 AND type <> 'EMOJI' AND local_id > "
    "COALESCE((SELECT read_up_to FROM chat_reads WHERE chat_id = ?1), 0)), 0) "
    "FROM messages WHERE chat_id = ?1;";
// Moves the read mark to the chat's newest message (never backwards); ?1 is the chat id.
// No UPSERT: SQLCipher's SQLite predates it.
inline constexpr std::string_view kMarkChatRead =
    "INSERT OR REPLACE INTO chat_reads (chat_id, read_up_to) SELECT ?1, max("
    "COALESCE((SELECT read_up_to FROM chat_reads WHERE chat_id = ?1), 0), "
    "COALESCE((SELECT MAX(local_id) FROM messages WHERE chat_id = ?1), 0));";

inline constexpr std::string_view kSetMessageDelivery =
    "UPDATE messages SET delivery = ? WHERE chat_id = ? AND from_user_id = ? AND message_id = ?;";
inline constexpr std::string_view kDeleteMessage =
    "DELETE FROM messages WHERE chat_id = ? AND from_user_id = ? AND message_id = ?;";

// --- outbox -----------------------------------------------------------------------------------

inline constexpr std::string_view kInsertOutbox =
    "INSERT INTO outbox (kind, chat_id, to_id, message_id, body, created_at_ms) "
    "VALUES (?, ?, ?, ?, ?, ?);";
inline constexpr std::string_view kSelectOutbox =
    "SELECT local_id, kind, chat_id, to_id, message_id, body, created_at_ms, attempts, "
    "last_error, failed FROM outbox ORDER BY local_id;";
inline constexpr std::string_view kSelectOutboxItem =
    "SELECT local_id, kind, chat_id, to_id, message_id, body, created_at_ms, attempts, "
    "last_error, failed FROM outbox WHERE message_id = ?;";
inline constexpr std::string_view kNoteOutboxAttempt =
    "UPDATE outbox SET attempts = attempts + 1, last_error = ?, failed = ? WHERE local_id = ?;";
inline constexpr std::string_view kDeleteOutbox = "DELETE FROM outbox WHERE local_id = ?;";

// --- undelivered events -----------------------------------------------------------------------

inline constexpr std::string_view kInsertUndeliveredEvent =
    "INSERT INTO undelivered_events (event) VALUES (?);";
inline constexpr std::string_view kSelectUndeliveredEvents =
    "SELECT local_id, event FROM undelivered_events ORDER BY local_id;";
inline constexpr std::string_view kDeleteUndeliveredEvent =
    "DELETE FROM undelivered_events WHERE local_id = ?;";

// --- v2 duplicates ----------------------------------------------------------------------------

inline constexpr std::string_view kSelectSeenCiphertext =
    "SELECT 1 FROM seen_ciphertexts WHERE chat_id = ? AND digest = ?;";
inline constexpr std::string_view kInsertSeenCiphertext =
    "INSERT OR IGNORE INTO seen_ciphertexts (chat_id, digest) VALUES (?, ?);";

// --- cursors ----------------------------------------------------------------------------------

inline constexpr std::string_view kSelectCursor = "SELECT ts FROM cursors WHERE channel = ?;";
// Never moves a cursor backwards: a `sync` and a `listen` of the same account may race.
// (No UPSERT: SQLCipher 3.4 is built on SQLite 3.15.)
inline constexpr std::string_view kSetCursor =
    "INSERT OR REPLACE INTO cursors (channel, ts) "
    "VALUES (?1, max(?2, coalesce((SELECT ts FROM cursors WHERE channel = ?1), 0)));";

}  // namespace secchats::store::schema
