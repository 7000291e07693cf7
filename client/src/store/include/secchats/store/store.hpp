// The client's local store: one SQLCipher database per account home directory.
//
// Files in the home directory:
//   store.key  the random 32-byte database key, wrapped by an Argon2id key from the password
//              (crypto/password.hpp, one text line; written atomically)
//   store.db   the SQLCipher database (plus its -wal/-shm while open); everything is in it
//
// Every write is durable when the call (or the enclosing transaction) returns:
// journal_mode=WAL, synchronous=FULL. Temporary tables live in memory so that no plaintext
// ever reaches a temp file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "secchats/common/result.hpp"
#include "secchats/common/secret.hpp"
#include "secchats/crypto/password.hpp"

namespace secchats::store {

struct Identity {
  std::string user_id;
  SecretString auth_token;
  std::string nickname;
  std::string server_url;
  std::int64_t created_at_ms = 0;
  // How to connect securely (secchats::ConnectionOptions); schema version 2.
  std::string ca_file;
  std::string pin_sha256;
  bool allow_insecure_http = false;
};

// Our protocol v2 long-term keys, as the crypto library serialises them (schema version 3).
struct OwnV2Keys {
  SecretBytes identity_key;   // crypto::v2::IdentityKeyPair::serialize()
  SecretBytes signed_prekey;  // crypto::v2::SignedPrekey::serialize()
};

// A completed friendship: we hold the channel key both sides derived.
struct Friend {
  std::string user_id;
  std::string nickname;  // learned from their messages' fromName; may be empty
  SecretString channel_key;
  std::string protocol = "v1";  // the v1 key agreement's protocol (v2 is the state below)
  std::int64_t created_at_ms = 0;

  // Protocol v2 (docs/protocol-v2.md); written only by update_friend_v2().
  std::vector<std::uint8_t> peer_bundle{};  // ik || spk || spk_sig (128), empty until received
  SecretBytes ratchet_state{};              // the session; empty until both bundles are known
  bool update_sent = false;                 // our bundle (a v1 UPDATE) was posted
  bool control_pending = false;             // we owe them a v2 UPDATE (key confirmation/answer)
  bool v2_active = false;                   // a v2 message from them was accepted: no more v1
  std::vector<std::uint8_t> verified_ik{};  // the identity key the user verified; empty: none
  bool identity_changed = false;            // their identity key changed, not verified since
  bool send_blocked = false;                // changed while verified: sending refused
  // Their FriendRequest/FriendResponse carried our clients' v2 marker, or they sent us their
  // bundle: only then is ours sent (docs/protocol-v2.md §2.1). Written by both upserts.
  bool peer_v2_capable = false;
};

// A friend request we sent and whose answer has not arrived: our private ECDH session.
struct OutgoingRequest {
  std::string to_user_id;
  SecretString session_string;
  std::int64_t created_at_ms = 0;
};

// A friend request we received and have not accepted or declined.
struct IncomingRequest {
  std::string from_user_id;
  std::string crypto_data;  // their public value
  std::int64_t server_timestamp = 0;
  std::int64_t received_at_ms = 0;
};

enum class GroupOrigin { kCreated, kInvited, kInPerson };

struct GroupRecord {
  std::string group_id;
  std::string name;
  SecretString key;  // the group key string (base64 of 32 bytes)
  GroupOrigin origin = GroupOrigin::kCreated;
  std::int64_t created_at_ms = 0;
};

// A group invite we received and have not joined.
struct GroupInviteRecord {
  std::string group_id;
  std::string from_user_id;
  std::string name;
  SecretString key;
  std::int64_t server_timestamp = 0;
};

// Protocol v2 groups (schema version 4, docs/protocol-v2.md section 8).
struct GroupMember {
  std::string group_id;
  std::string user_id;
  bool removed = false;
  std::uint32_t sent_epoch = 0;  // the epoch of our sender key they were given; 0: none
};
// A removal notice we owe a member we removed (docs/protocol-v2.md §8.2).
struct RemovalNotice {
  std::string group_id;
  std::string user_id;
};
// A group whose member `removed_by` removed us.
struct ClosedGroup {
  std::string group_id;
  std::string removed_by;
  std::int64_t closed_at_ms = 0;
};
struct OwnSenderKey {
  std::string group_id;
  std::uint32_t epoch = 0;
  SecretBytes state;  // crypto::v2::SenderKeyState::serialize()
};
struct ReceivedSenderKeyRecord {
  std::string group_id;
  std::string owner_user_id;  // the friend whose pairwise v2 channel delivered it
  std::uint32_t epoch = 0;
  std::vector<std::uint8_t> key_id;  // 8 bytes
  SecretBytes state;                 // crypto::v2::ReceivedSenderKey::serialize()
};

enum class ChatKind { kFriend, kGroup };

struct StoredMessage {
  std::int64_t local_id = 0;  // assigned by the store
  std::string chat_id;        // the friend's user id or the group id
  ChatKind chat_kind = ChatKind::kFriend;
  std::string from_user_id;
  std::string from_name;
  std::int64_t message_id = 0;
  std::string type;                 // "TEXT", "IMG", "EMOJI" or whatever unknown type arrived
  std::string text;                 // TEXT: the text; unknown types: raw content
  std::vector<std::uint8_t> image;  // IMG: the PNG bytes
  std::int64_t reply_to_message_id = 0;
  std::string new_emoji;
  std::string old_emoji;
  std::int64_t sender_timestamp = 0;  // the sender's clock (Message.timestamp)
  std::int64_t server_timestamp = 0;  // 0 for our own outgoing messages
  bool outgoing = false;
  // Outgoing: "sent" (the relay took it), "pending" (in the outbox) or "failed" (refused by
  // the relay). Always "sent" for incoming messages. Schema version 5.
  std::string delivery = "sent";
};

// An attachment upload not finished yet (schema version 8, docs/protocol-v2.md §15): the
// file it reads (path, size in bytes, modification time in ns since the epoch) and the FILE
// descriptor (the §15.2 JSON with blob id, key, prefix and SHA-256; a secret).
struct UploadRecord {
  std::int64_t message_id = 0;
  ChatKind chat_kind = ChatKind::kFriend;
  std::string chat_id;
  std::string path;
  std::int64_t size = 0;
  std::int64_t mtime = 0;
  SecretString descriptor;
  std::int64_t created_at_ms = 0;
};
// Something we post that waits in the outbox until the relay took it (schema version 5).
enum class OutboxKind { kDirect, kGroup, kInvite };
struct OutboxItem {
  std::int64_t local_id = 0;  // assigned by the store; the posting order
  OutboxKind kind = OutboxKind::kDirect;
  std::string chat_id;  // the friend (direct) or the group (group, invite)
  std::string to_id;    // the envelope's addressee: friend, group, or the invited friend
  // The message's id (direct, group); for an invite a local id of its own. Unique.
  std::int64_t message_id = 0;
  std::string body;  // the encContent (or the invite's cryptoData) exactly as it is posted
  std::int64_t created_at_ms = 0;
  int attempts = 0;        // posts tried so far
  std::string last_error;  // why the last try failed ("" before any)
  bool failed = false;     // refused for good: kept to be shown, never posted again
};

class Store {
 public:
  // The file names above, inside `home`.
  static std::filesystem::path database_path(const std::filesystem::path& home);
  static std::filesystem::path key_path(const std::filesystem::path& home);
  static bool exists(const std::filesystem::path& home);

  // Creates the home directory (0700) if needed, a new random database key, the key file
  // and the database holding `identity`. kAlreadyExists if a store is already there.
  static Result<std::unique_ptr<Store>> create(const std::filesystem::path& home,
                                               const SecretString& password,
                                               const Identity& identity,
                                               crypto::password::KdfCost cost = {});
  // kNotFound if there is no store; kUnauthenticated "wrong password"; kCorrupt if the key
  // file or the database cannot be read. Never modifies anything on failure.
  static Result<std::unique_ptr<Store>> open(const std::filesystem::path& home,
                                             const SecretString& password);
  // Re-wraps the database key under `new_password` (atomic replace of store.key); the
  // database itself is untouched. A wrong old password changes nothing.
  static Status change_password(const std::filesystem::path& home, const SecretString& old_password,
                                const SecretString& new_password);

  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Runs `body` inside one transaction: committed (durably) if it returns OK, rolled back
  // otherwise. Store calls made inside join it. Not re-entrant across threads.
  Status transaction(const std::function<Status()>& body);

  Result<Identity> identity();
  Status set_nickname(std::string_view nickname);
  // The TLS settings kept with the identity (Identity::ca_file, pin_sha256, allow_insecure_http).
  Status set_connection(std::string_view ca_file, std::string_view pin_sha256,
                        bool allow_insecure_http);

  // Our v2 keys; nullopt until set (stores created before schema version 3).
  Result<std::optional<OwnV2Keys>> own_v2_keys();
  // Sets them once: kAlreadyExists if they are already set (friends hold the public halves,
  // so they are never replaced).
  Status set_own_v2_keys(const OwnV2Keys& keys);

  // Inserts a friend, or replaces the v1 fields (nickname, channel key, protocol) of an
  // existing one; the v2 state of an existing friend is kept.
  Status upsert_friend(const Friend& f);
  // Writes the v2 fields of an existing friend (kNotFound if there is none).
  Status update_friend_v2(const Friend& f);
  Result<std::optional<Friend>> find_friend(std::string_view user_id);
  Result<std::vector<Friend>> friends();  // ordered by created_at
  Status set_friend_nickname(std::string_view user_id, std::string_view nickname);

  Status put_outgoing_request(const OutgoingRequest& r);  // replaces
  Result<std::optional<OutgoingRequest>> find_outgoing_request(std::string_view to_user_id);
  Result<std::vector<OutgoingRequest>> outgoing_requests();
  Status delete_outgoing_request(std::string_view to_user_id);

  Status put_incoming_request(const IncomingRequest& r);  // replaces
  Result<std::optional<IncomingRequest>> find_incoming_request(std::string_view from_user_id);
  Result<std::vector<IncomingRequest>> incoming_requests();
  Status delete_incoming_request(std::string_view from_user_id);

  Status upsert_group(const GroupRecord& g);
  Result<std::optional<GroupRecord>> find_group(std::string_view group_id);
  Result<std::vector<GroupRecord>> groups();  // ordered by created_at

  Status put_group_invite(const GroupInviteRecord& i);  // replaces
  Result<std::optional<GroupInviteRecord>> find_group_invite(std::string_view group_id);
  Result<std::vector<GroupInviteRecord>> group_invites();
  Status delete_group_invite(std::string_view group_id);

  // Group members we know of (removed ones included, flagged). add_group_member keeps an
  // existing row as it is; put_group_member replaces it.
  Status add_group_member(std::string_view group_id, std::string_view user_id);
  Status put_group_member(const GroupMember& m);
  Result<std::vector<GroupMember>> group_members(std::string_view group_id);

  // Whether a member list for the group has been accepted (false for unknown groups).
  Result<bool> member_list_received(std::string_view group_id);
  Status set_member_list_received(std::string_view group_id);

  // Removal notices owed (kept until the relay took one), oldest first.
  Status put_removal_notice(std::string_view group_id, std::string_view user_id);
  Result<std::vector<RemovalNotice>> removal_notices();
  Status delete_removal_notice(std::string_view group_id, std::string_view user_id);
  // Groups that removed us. close_group keeps the first closing.
  Status close_group(const ClosedGroup& c);
  Result<std::optional<ClosedGroup>> closed_group(std::string_view group_id);

  Result<std::optional<OwnSenderKey>> own_sender_key(std::string_view group_id);
  Status put_own_sender_key(const OwnSenderKey& k);  // replaces
  Result<std::optional<ReceivedSenderKeyRecord>> find_received_sender_key(
      std::string_view group_id, std::span<const std::uint8_t> key_id, std::uint32_t epoch);
  Result<std::vector<ReceivedSenderKeyRecord>> received_sender_keys(std::string_view group_id);
  Status put_received_sender_key(const ReceivedSenderKeyRecord& k);  // replaces
  Status delete_received_sender_keys(std::string_view group_id, std::string_view owner_user_id);

  // Unfinished attachment uploads (schema version 8), oldest first; put replaces by message id.
  Status put_upload(const UploadRecord& u);
  Result<std::vector<UploadRecord>> uploads();
  Status delete_upload(std::int64_t message_id);
  // Where download() last saved an attachment ("" if never).
  Status set_saved_path(std::string_view chat_id, std::string_view from_user_id,
                        std::int64_t message_id, std::string_view path);
  Result<std::string> saved_path(std::string_view chat_id, std::string_view from_user_id,
                                 std::int64_t message_id);

  // Returns false (and stores nothing) if (chat_id, from_user_id, message_id) is known.
  Result<bool> insert_message(const StoredMessage& m);
  // The newest `limit` messages of a chat, oldest first (0 = all).
  // With before_local_id > 0: only messages older than that one (a page of a long chat).
  Result<std::vector<StoredMessage>> messages(std::string_view chat_id, std::size_t limit = 0,
                                              std::int64_t before_local_id = 0);
  // What a chat list shows of a chat (schema version 7).
  struct ChatStats {
    std::int64_t message_count = 0;             // reactions included
    std::int64_t unread = 0;                    // incoming messages after the read mark
    std::optional<StoredMessage> last_message;  // newest that is not a reaction
  };
  Result<ChatStats> chat_stats(std::string_view chat_id);
  // Moves the chat's read mark to its newest stored message (never backwards).
  Status mark_read(std::string_view chat_id);

  // Sets the delivery state ("sent", "pending", "failed") of a stored message; deletes one.
  // Both answer false when no such message is stored.
  Result<bool> set_message_delivery(std::string_view chat_id, std::string_view from_user_id,
                                    std::int64_t message_id, std::string_view delivery);
  Result<bool> delete_message(std::string_view chat_id, std::string_view from_user_id,
                              std::int64_t message_id);

  // The outbox, in posting order. put_outbox_item returns the local id it was given
  // (kAlreadyExists if the message id is already in the outbox).
  Result<std::int64_t> put_outbox_item(const OutboxItem& item);
  Result<std::vector<OutboxItem>> outbox_items();
  Result<std::optional<OutboxItem>> find_outbox_item(std::int64_t message_id);
  // Counts one more try with its error; `failed` marks it refused for good.
  Status note_outbox_attempt(std::int64_t local_id, std::string_view error, bool failed);
  // False if it was not there (already posted by another process, or cancelled).
  Result<bool> delete_outbox_item(std::int64_t local_id);

  // Events stored but not yet accepted by the application (opaque serialised text, in the
  // order they were put). delete_undelivered_event: false if it was not there.
  Result<std::int64_t> put_undelivered_event(std::string_view event);
  Result<std::vector<std::pair<std::int64_t, std::string>>> undelivered_events();
  Result<bool> delete_undelivered_event(std::int64_t local_id);

  // Digests of v2 ciphertexts accepted per chat (friend or group id), so that a copy posted
  // again with the same bytes is recognised as a duplicate.
  Result<bool> ciphertext_seen(std::string_view chat_id, std::span<const std::uint8_t> digest);
  Status add_seen_ciphertext(std::string_view chat_id, std::span<const std::uint8_t> digest);

  // Per-channel sync cursors: the largest server timestamp durably processed. Channel is
  // "queue" for the user's direct queue, or "g:<group id>". Unknown channel → 0. A cursor
  // never moves backwards (set_cursor keeps the larger value).
  Result<std::int64_t> cursor(std::string_view channel);
  Status set_cursor(std::string_view channel, std::int64_t timestamp);

 private:
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace secchats::store
