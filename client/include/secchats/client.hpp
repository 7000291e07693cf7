// libsecchats — the Secure Chats client library.
//
// One Client is one account: an encrypted local store in a home directory plus a relay
// server. Every call is blocking and returns a Result; nothing throws. The only types here
// are the standard library's and secchats/common (Result, SecretString): no Boost, OpenSSL or
// SQLite type leaks out.
//
// Protocol: v1 as the existing clients speak it (../shared/protocol/COMPAT.md). Its known
// weaknesses — no forward secrecy, the relay could swap key-exchange values, any group member
// can impersonate another — are properties of v1, shown to users, not hidden. Between two of
// our clients a friendship upgrades itself to protocol v2 (docs/protocol-v2.md: identity keys,
// Double Ratchet, safety numbers); groups are v1.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "secchats/common/result.hpp"
#include "secchats/common/secret.hpp"

namespace secchats {

// Strings a peer controls (FriendInfo::nickname, GroupInfo::name, GroupInviteInfo::name and
// from_nickname, MessageInfo::from_name, text and an unknown type's text) are valid UTF-8
// that may contain any code point, control characters included: exactly what the peer sent,
// with each invalid byte replaced by U+FFFD and nothing after it lost. Names are cut to a byte
// limit on a character boundary (nicknames 64 bytes, group names 100). Escape them before
// showing them on a terminal.
struct FriendInfo {
  std::string user_id;
  std::string nickname;  // as they call themselves (learned from their messages); may be empty
  // "v2" once a v2 message from them has been accepted (from then on v1 from them is refused),
  // else "v1".
  std::string protocol;
  // The safety number was compared (mark_verified) for the identity key they have now.
  bool verified = false;
  // Their identity key changed and the new safety number has not been verified yet.
  bool identity_changed = false;
  // It changed while they were verified: sending to them fails (kInsecure) until verified.
  bool sending_blocked = false;
};

// The safety number of a friendship (docs/protocol-v2.md §7): the same on both sides.
struct SafetyNumberInfo {
  std::string user_id;     // the friend
  std::string digits;      // 60 digits
  std::string formatted;   // 12 groups of 5 digits separated by spaces
  std::string qr_payload;  // "SECCHATS-VERIFY:1:" + digits, for a QR code
  bool verified = false;
  bool identity_changed = false;
};

// The message of mark_verified's error when the numbers differ.
inline constexpr std::string_view kSafetyNumbersDoNotMatch = "safety numbers do not match";

struct PendingRequest {
  std::string user_id;
  bool incoming = false;  // true: they asked us; false: we asked them and wait
  std::int64_t at_ms = 0;
};

enum class GroupOrigin { kCreated, kInvited, kInPerson };

struct GroupInfo {
  std::string group_id;
  std::string name;  // valid UTF-8, may contain any code point including controls; escape it
  GroupOrigin origin = GroupOrigin::kCreated;
  // "v2" (sender keys, docs/protocol-v2.md section 8) or "v1" (the shared group key); for v1,
  // why (e.g. "mixed: <id> is not a v2 friend"). Filled in by groups().
  std::string protocol = "v1";
  std::string protocol_reason;
  // A member removed us (docs/protocol-v2.md section 8.2): sending, reacting, inviting and
  // removing fail with kPermissionDenied, and sync no longer polls the group.
  bool closed = false;
  std::string removed_by;  // the member who removed us (user id), when closed
};

struct GroupInviteInfo {
  std::string group_id;
  std::string name;
  std::string from_user_id;
  std::string from_nickname;
};

enum class ChatKind { kFriend, kGroup };

// An encrypted attachment: a file, photo, voice note or video (protocol v2 only,
// docs/protocol-v2.md §15). The bytes live encrypted in a blob on the relay; the message
// (type "FILE") carries what is below plus the blob id, key and ciphertext hash. Peer-controlled
// strings (file_name, media_type) are valid UTF-8 that may contain any code point: escape them.
struct AttachmentInfo {
  std::string kind;         // "file", "image", "voice" or "video"
  std::string media_type;   // e.g. "image/jpeg", "audio/ogg"; "application/octet-stream" if unknown
  std::string file_name;    // the sender's name for it: no directory part, at most 255 bytes
  std::uint64_t size = 0;   // plaintext bytes
  std::uint32_t width = 0;  // image/video: pixels after EXIF orientation; 0 unknown
  std::uint32_t height = 0;             // image/video: pixels; 0 unknown
  std::int64_t duration_ms = 0;         // voice/video: milliseconds; 0 unknown
  std::vector<std::uint8_t> thumbnail;  // image/video: a JPEG of at most 16 KiB; may be empty
  // Where download() last wrote it in this store's account (absolute path), "" if never.
  std::string saved_path;
  // Outgoing: "uploading" while the blob upload is unfinished (send again to resume), else
  // "uploaded". Incoming: "".
  std::string upload_state;
};

struct MessageInfo {
  std::string chat_id;  // friend's user id or group id
  ChatKind chat_kind = ChatKind::kFriend;
  std::string from_user_id;
  // Valid UTF-8, may contain any code point including controls; escape before showing.
  std::string from_name;
  std::int64_t message_id = 0;
  // "TEXT", "IMG", "EMOJI", "FILE" (an attachment, v2 only) or an unknown type as received
  std::string type;
  // TEXT: everything the friend typed (valid UTF-8, any code point including controls; escape
  // before showing).
  std::string text;
  std::vector<std::uint8_t> image;           // IMG (PNG or JPEG bytes)
  std::optional<AttachmentInfo> attachment;  // FILE
  std::int64_t reply_to_message_id = 0;      // EMOJI: the message reacted to
  std::string emoji;                         // EMOJI: reaction name (EMO_*); "" = removed
  std::int64_t sender_timestamp = 0;
  std::int64_t server_timestamp = 0;
  bool outgoing = false;
  // Outgoing messages: "sent" once the relay took it, "pending" while it waits in the outbox
  // (posted again by the next send, sync or listen), "failed" once the relay refused it for
  // good. Incoming messages: "received".
  std::string delivery = "received";
  // Where the message sits in this store's history of the chat: increasing in arrival order,
  // never reused. For paging (history's before_local_id) and read marks; 0 in a MessageInfo
  // that was not read from the store.
  std::int64_t local_id = 0;
};

// One chat as a chat list shows it (chats()).
struct ChatSummary {
  ChatKind kind = ChatKind::kFriend;
  std::string chat_id;  // the friend's user id or the group id
  // The friend's nickname ("" until learned: show the id) or the group name. Peer-controlled:
  // escape it as the other names.
  std::string title;
  std::string protocol = "v1";  // "v1" or "v2", as FriendInfo/GroupInfo say
  // The newest message that is not a reaction; absent in a chat without messages.
  std::optional<MessageInfo> last_message;
  // Milliseconds since the epoch of the newest message (its sender timestamp), else when the
  // friendship or group began: what the list is ordered by.
  std::int64_t last_activity_ms = 0;
  // Incoming messages after the read mark (mark_read); reactions are not counted (they show
  // on the message they react to, and a badge for them would point at nothing new).
  std::int64_t unread = 0;
  std::int64_t message_count = 0;  // every message in history(), reactions included
  bool closed = false;             // a group that removed us (GroupInfo::closed)
};

// One item of the outbox (pending()): something we sealed and stored but the relay has not
// taken yet, or refused for good.
struct PendingSend {
  // A message or reaction: as history() shows it, delivery "pending" or "failed". A group
  // invite: chat_id the group, type "INVITE", message_id a local id (for cancel_pending).
  MessageInfo message;
  std::string invitee;     // an invite: the friend invited; else ""
  int attempts = 0;        // posts tried so far
  std::string last_error;  // why the last post failed ("" before any)
  std::int64_t queued_at_ms = 0;
};

// What a sync round or a listen loop brings in.
struct Event {
  enum class Kind {
    kFriendRequest,   // user_id asks to be friends
    kFriendAccepted,  // user_id accepted our request; the channel is ready
    kGroupInvite,     // invite.* is set
    kMessage,         // message.* is set
    kWarning,         // something arrived that we refused (text says what; never content)
    // The outbox delivered something an earlier call answered as queued, not sent (a message,
    // reaction or image: message.* as history() shows it, delivery "sent"; a group invite:
    // message.type "INVITE", message.chat_id the group, message.message_id its pending id).
    // user_id: the friend (a direct message's chat, an invite's invitee), text: that friend's
    // nickname; invite.group_id/name: the group of a group message or invite. Handed out by
    // sync() and listen(), once, like every event (kept until the sink takes it). A send's
    // own message posted by that send is answered by the send, not by this event.
    kSent,
  };
  Kind kind = Kind::kMessage;
  std::string user_id;
  GroupInviteInfo invite;
  MessageInfo message;
  std::string text;  // kWarning: what was refused; kFriendRequest: an optional note; kSent: above
};

// What one post_outbox() round did.
struct OutboxPostResult {
  // Items still waiting to be posted again after this round (not counting those the relay
  // refused for good, which stay in pending() as "failed"). 0: the outbox has nothing left
  // to post.
  std::size_t waiting = 0;
  // The kWarning events sync() shows for this round: one per item not taken this time
  // ("… is still not sent (tried again at the next sync): <reason>") or refused for good
  // ("… was refused by the relay and is not sent: <reason> …"). Never message content.
  std::vector<Event> warnings;
};

// The reaction names of COMPAT.md §5, in their canonical order. "EMO_SMILE_PLUS" = none.
const std::vector<std::string>& reaction_names();
// Accepts a COMPAT name (EMO_HEART), a short name (heart) or the emoji character itself;
// "none" or EMO_SMILE_PLUS removes a reaction. Anything else, "" included: kInvalidArgument.
Result<std::string> normalize_reaction(std::string_view input);
// The character shown for a reaction name ("" for none).
std::string reaction_symbol(std::string_view name);

// How to reach the relay securely. Kept in the encrypted store with the account and used
// by every later open().
struct ConnectionOptions {
  // https:// only: a PEM file of trusted certificates used instead of the system's (a private
  // CA, or the relay's own self-signed certificate). The path is stored, not the contents.
  std::string ca_file;
  // https:// only: SHA-256 of the relay certificate's DER encoding, base64 or hex (what
  // secchats-server prints at start). Only that certificate is accepted; without ca_file the
  // chain and host name are not checked, so a self-signed certificate works with the pin.
  std::string pin_sha256;
  // Allows plain http:// to a host that is not loopback (tokens and ciphertext unencrypted).
  bool allow_insecure_http = false;
};

// Progress of an attachment transfer (send_file, download), reported about every 256 KiB
// and at the end of each phase. Sizes in bytes.
struct TransferProgress {
  enum class Phase {
    kPreparing,    // reading the file, making the thumbnail, converting audio
    kUploading,    // ciphertext to the relay (total_bytes = ciphertext size)
    kDownloading,  // ciphertext from the relay
    kVerifying,    // SHA-256, then decryption to a temporary file: total_bytes = 2 × ciphertext
  };
  Phase phase = Phase::kPreparing;
  std::uint64_t done_bytes = 0;    // of this phase so far, including bytes resumed
  std::uint64_t total_bytes = 0;   // of this phase
  std::uint64_t resumed_from = 0;  // bytes already done when this call began (for a rate)
};
// Called on the calling thread. Return false to stop: the call ends with kUnavailable
// "transfer stopped; run it again to resume", and the transfer stays resumable.
using ProgressCallback = std::function<bool(const TransferProgress&)>;

// How send_file sends a file.
struct SendFileOptions {
  // "auto": a photo the image decoder reads (JPEG, PNG, WebP, GIF, HEIC) is sent as kind
  // "image" — EXIF orientation applied, every metadata block (EXIF GPS!) dropped, re-encoded
  // as JPEG with the long edge at most 4096 px — with a thumbnail; a video gets its
  // dimensions, duration and a thumbnail where the decoder reads it; anything else is kind
  // "file", its bytes untouched. "file": the bytes untouched whatever they are.
  // "voice": Ogg/Opus is sent as it is, other audio converted to Ogg/Opus, with its duration;
  // audio that cannot be read is kInvalidArgument naming why.
  std::string kind = "auto";
  std::string file_name;  // what the friend sees; default: the path's file name
  // For an application that knows better (the desktop app's video frame): used instead of
  // what the library derives when non-empty / non-zero.
  std::vector<std::uint8_t> thumbnail;
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::int64_t duration_ms = 0;
};

class Client {
 public:
  // Registers a new identity on `server_url` and creates the encrypted store in `home`.
  // https:// certificates are verified (system CAs unless `connection` says otherwise);
  // plain http:// is refused for hosts other than loopback unless allowed.
  static Result<std::unique_ptr<Client>> create_account(const std::filesystem::path& home,
                                                        const SecretString& password,
                                                        std::string_view server_url,
                                                        std::string_view nickname,
                                                        const ConnectionOptions& connection = {});
  // Unlocks an existing store. kUnauthenticated "wrong password"; kNotFound if none.
  static Result<std::unique_ptr<Client>> open(const std::filesystem::path& home,
                                              const SecretString& password);
  // Re-wraps the store key; the database is not rewritten. A wrong old password changes nothing.
  static Status change_password(const std::filesystem::path& home, const SecretString& old_password,
                                const SecretString& new_password);
  static bool exists(const std::filesystem::path& home);

  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const std::string& user_id() const;
  const std::string& nickname() const;
  const std::string& server_url() const;
  // The TLS settings in use (as given to create_account or set_connection).
  ConnectionOptions connection() const;
  // Replaces the TLS settings — say, the relay's certificate was renewed and has a new pin —
  // after trying them: one authenticated request must succeed with the new settings, else
  // nothing changes and the error says why (kInvalidArgument for a malformed pin or a CA
  // file given for http://, kNetwork/kInsecure-style messages from the TLS handshake). The
  // relay URL itself cannot change: the account lives on that relay.
  Status set_connection(const ConnectionOptions& connection);

  // Friends and requests.
  Status add_friend(std::string_view user_id);  // sends our ECDH half (P-521)
  Result<std::vector<PendingRequest>> requests();
  Result<FriendInfo> accept(std::string_view user_id);  // answers on the initiator's curve
  Status decline(std::string_view user_id);
  Result<std::vector<FriendInfo>> friends();

  // Verification (protocol v2 only). kNotFound until the friend's identity key has arrived.
  Result<SafetyNumberInfo> safety_number(std::string_view friend_id);
  // Checks what the user typed (60 digits, any spacing) or scanned (the QR payload) against
  // the safety number for the friend's current identity key. Match: verified, and the
  // identity-changed mark and any sending block are cleared. Mismatch: kInvalidArgument
  // kSafetyNumbersDoNotMatch and nothing changes (input that is no safety number at all:
  // kInvalidArgument with another message).
  Status mark_verified(std::string_view friend_id, std::string_view typed_or_scanned);

  // Resolve "an id or a unique nickname/name" as typed by a person.
  Result<FriendInfo> find_friend(std::string_view id_or_nickname);
  Result<GroupInfo> find_group(std::string_view id_or_name);
  // A friend or a group; kInvalidArgument if it is ambiguous.
  Result<std::pair<ChatKind, std::string>> find_chat(std::string_view id_or_name);

  // Direct messages to a friend (returns what was sent and stored): v2 once the friendship has
  // upgraded, else v1. kInsecure while sending to them is blocked (FriendInfo::sending_blocked).
  // Text that is empty, not valid UTF-8, or has no visible character (only white space,
  // control or format characters) is refused with kInvalidArgument, and so are such nicknames
  // and group names. Reactions travel as EMO_* names, the form the reference UI shows
  // (COMPAT.md §5).
  Result<MessageInfo> send_text(std::string_view friend_id, std::string_view text);
  // send_image takes the bytes of any photo: JPEG, PNG, WebP, GIF's first frame, HEIC where
  // decodable (at most kMaxPhotoInputBytes). It is oriented (EXIF), metadata dropped (EXIF
  // GPS, XMP, comments: it is re-encoded from pixels) and scaled to fit what a reference
  // client shows: a JPEG or PNG of at most 384 KiB and 2048 px, sent as an IMG base64'd twice
  // (COMPAT.md §5); MessageInfo::image holds the bytes sent. Errors, nothing stored or sent:
  // kInvalidArgument "not an image this client can read (JPEG, PNG, WebP, GIF or HEIC)",
  // "image is corrupt or cut short: <reason>", "HEIC photos cannot be decoded on this
  // system (no HEVC decoder)"; kTooLarge "photo larger than 64 MiB", "image is W×H pixels:
  // at most 16384 on a side and 100 megapixels" (media/image.hpp).
  static constexpr std::size_t kMaxPhotoInputBytes = 64 * 1024 * 1024;  // bytes
  Result<MessageInfo> send_image(std::string_view friend_id, std::vector<std::uint8_t> photo);
  Result<MessageInfo> react(std::string_view friend_id, std::int64_t message_id,
                            std::string_view reaction);

  // Groups.
  Result<GroupInfo> create_group(std::string_view name);
  Status invite_to_group(std::string_view group_id, std::string_view friend_id);
  Result<std::vector<GroupInviteInfo>> group_invites();
  Result<GroupInfo> join_group(std::string_view group_id);
  // Forgets an invite (an id or a unique group name) without joining. Local only: v1 has no
  // message for it, so the inviter is not told. kNotFound if there is no such invite.
  Status decline_group_invite(std::string_view group_id);
  Result<std::vector<GroupInfo>> groups();
  // Removes a member (an id, or a friend's nickname) from our view of the group: their sender
  // keys are deleted, ours is replaced by a new epoch given to the remaining members only, and
  // those members are told to do the same. kNotFound if they are not a member we know of;
  // kUnavailable (after trying everyone) naming the members that could not be reached.
  // The removed member is sent a notice (retried at each sync until the relay took it) that
  // closes the group for them (docs/protocol-v2.md section 8.2).
  Status remove_group_member(std::string_view group_id, std::string_view member);
  // In a group that removed us (GroupInfo::closed) sending, reacting, inviting and removing
  // fail with kPermissionDenied "you were removed from this group (by <id>)".
  Result<MessageInfo> send_group_text(std::string_view group_id, std::string_view text);
  // Any photo, prepared as for send_image.
  Result<MessageInfo> send_group_image(std::string_view group_id, std::vector<std::uint8_t> photo);
  Result<MessageInfo> react_in_group(std::string_view group_id, std::int64_t message_id,
                                     std::string_view reaction);
  // In-person groups: the payload (docs/qr-payload.md) carries id, key and name; it never
  // touches the network. Creating still asks the relay for a fresh group id (/register2).
  Result<std::pair<GroupInfo, SecretString>> create_in_person_group(std::string_view name);
  Result<GroupInfo> join_in_person_group(std::string_view payload);

  // Attachments (protocol v2 friends and v2 groups only; docs/protocol-v2.md §15). The file is
  // encrypted in 64 KiB chunks under a fresh key, uploaded as a blob (only ciphertext leaves
  // the machine), then a "FILE" message with the blob id, key, ciphertext SHA-256 and the
  // AttachmentInfo goes through the outbox like any message. A v1 friend or v1 group:
  // kInvalidArgument "files need protocol v2: ...". The relay's limits come back as kTooLarge
  // (413: larger than its blob limit), kRateLimited (429) or kUnavailable "relay storage
  // full or quota exceeded: ..." (507). An upload cut short (network, progress returning
  // false, the process killed) is resumed by the next send_file of the same path (same size
  // and modification time) to the same chat, from where the relay's copy stops; until then
  // the message is in pending() with attachment->upload_state "uploading", and
  // cancel_pending() drops it and its partial blob.
  Result<MessageInfo> send_file(std::string_view friend_id, const std::filesystem::path& path,
                                const SendFileOptions& options = {},
                                const ProgressCallback& progress = {});
  Result<MessageInfo> send_group_file(std::string_view group_id, const std::filesystem::path& path,
                                      const SendFileOptions& options = {},
                                      const ProgressCallback& progress = {});
  // Downloads a received (or sent) attachment, checks the ciphertext's SHA-256 and every
  // chunk's AEAD tag, and writes the plaintext to `out` (a directory: the sender's file name,
  // made safe, inside it). Nothing is ever written under the final name until all of it is
  // verified: the ciphertext collects in "<final>.<16 hex>.secchats-part" (named after the
  // blob's hash, so only the same attachment resumes from it; a download cut short resumes
  // from there, with an HTTP Range request), the plaintext in a temporary file renamed into
  // place. Returns the path written. kNotFound: no such message with an attachment, or the
  // relay no longer has the blob (retention); kCorrupt: hash or AEAD check failed (the partial
  // file is deleted, nothing written); kAlreadyExists: `out` names an existing file.
  Result<std::filesystem::path> download(std::string_view chat_id, std::int64_t message_id,
                                         const std::filesystem::path& out,
                                         const ProgressCallback& progress = {});

  // The newest `limit` messages of a chat (0 = all), oldest first; our own messages still in
  // the outbox are there too, with delivery "pending" or "failed". With before_local_id > 0
  // only messages older than that one (MessageInfo::local_id): the page before it, for an
  // app that loads a long chat as the user scrolls up.
  Result<std::vector<MessageInfo>> history(std::string_view chat_id, std::size_t limit = 0,
                                           std::int64_t before_local_id = 0);

  // Every friend and group as a chat, most recent activity first, with its newest message and
  // unread count. Pending requests and invites are not chats (requests(), group_invites()).
  Result<std::vector<ChatSummary>> chats();
  // Marks every message of the chat stored so far as read. kNotFound for an unknown chat.
  Status mark_read(std::string_view chat_id);

  // The outbox. Every outgoing message (text, image, reaction; direct and group) and group
  // invite is sealed and stored here — in the transaction that advances any v2 ratchet or
  // sender-key state — before it is posted, and leaves it when the relay answers 200. A post
  // that fails keeps its messageId and ciphertext: the next send, sync or listen posts the
  // same bytes again, oldest first and in order per chat (a chat waits behind its first item
  // the relay did not take). Receivers drop the copy if the first post did arrive: v1 by
  // (fromUserId, messageId) (COMPAT.md §5), v2 as a ciphertext already accepted
  // (docs/protocol-v2.md). A definite refusal (HTTP 4xx other than 408 and 429) marks the
  // item failed with the reason and it is never posted again; network errors, 5xx and 429
  // leave it pending. So the send calls answer:
  //   - the MessageInfo (delivery "sent") once the relay took it;
  //   - kNetwork (or kUnauthenticated) "message #ID queued, not sent yet: <reason> ..." when
  //     it stays pending;
  //   - kRefused "message #ID refused by the relay: <reason> ..." when it failed for good.
  // pending() lists the outbox, oldest first (failed items included).
  Result<std::vector<PendingSend>> pending();
  // Drops an outbox item (pending or failed) and its message from history, in one store
  // transaction, so it cannot race a concurrent retry into a half state. kNotFound if no
  // such item is in the outbox (it may have been delivered meanwhile). Cancelled here only:
  // if a post whose answer was lost had reached the relay, the friend may still get it.
  Status cancel_pending(std::int64_t message_id);
  // Posts the outbox now, as the first step of sync() does, without fetching anything: for
  // an application that keeps a Client open with nobody taking events (the daemon of
  // docs/cli.md, "The daemon") and wants a queued send to go out once the relay is
  // reachable. Each item the relay takes leaves the outbox, and its delivery is stored as
  // an Event::kSent that the next sync() or listen() hands out (as for sync's own posts);
  // items it did not take stay pending (or are marked failed on a definite refusal) exactly
  // as after a send or sync. A relay that is unreachable is not an error here: it is in
  // `warnings`, and `waiting` says how many items still wait. Errors: the store's (kInternal,
  // kCorrupted …) if the outbox could not be read after the round. Same thread rules as
  // sync(): not concurrently with other calls on this Client.
  Result<OutboxPostResult> post_outbox();

  // What the application does with each event: true once it has it (printed, saved), false
  // if it could not take it (say, its output failed). A false ends the sync or listen with
  // an error and the event, with every later one, is handed out again at the next sync.
  using EventSink = std::function<bool(const Event&)>;

  // One round: first the outbox is posted (above), then the direct queue and every group,
  // each from its own cursor. Items are stored and the cursor moved in one transaction, so a
  // crash loses and duplicates nothing.
  Result<std::vector<Event>> sync();
  // The same, handing each event to `on_event` as soon as its channel's round has committed.
  // Delivery is at least once: each round's events are stored with its items and cursor
  // (an "undelivered events" inbox) and removed only once `on_event` returned true for
  // them. Events the sink refused, or that a crash or an error kept from it, are handed out
  // again — first, in their order — by the next sync or listen; an event may thus be seen
  // twice (the sink returned true but we died before removing it; or a sync and a listen
  // of the same account ran at once), never lost. Warnings about the network (retries,
  // items still pending) are not stored: they describe the moment. A false from the sink
  // ends the call with kInternal "the application did not take an event".
  Status sync(const EventSink& on_event);
  // Long-polls and syncs until `keep_going` returns false (checked between rounds), handing
  // each event to `on_event` as soon as it is stored (as sync). Network errors are retried
  // with backoff and reported as kWarning events; a false from `on_event` ends the listen
  // as for sync.
  Status listen(const EventSink& on_event, const std::function<bool()>& keep_going);
  // The one method that may be called from any thread, while another thread is inside
  // listen(): the long-poll in flight (or the next one, if none is) returns at once, so
  // listen checks keep_going again without waiting out the relay's hold (up to 24 s). An
  // application that runs listen on a worker thread calls it after queueing work for that
  // thread. Does nothing to a call other than listen's long-poll.
  void interrupt_listen();

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace secchats
