// The state behind secchats::Client, shared by the account/messaging code (client.cpp) and
// the sync engine (sync.cpp). Internal to libsecchats.
#pragma once

#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "group_v2.hpp"
#include "message_codec.hpp"
#include "pairwise_v2.hpp"
#include "secchats/client.hpp"
#include "secchats/crypto/v1.hpp"
#include "secchats/net/relay_client.hpp"
#include "secchats/protocol/objects.hpp"
#include "secchats/store/store.hpp"

namespace secchats {

struct Client::Impl {
  std::filesystem::path home;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<net::RelayClient> relay;
  crypto::v1::MessageCipher cipher;
  std::string user_id;
  std::string nickname;
  std::string server_url;
  net::RelayOptions relay_options;  // TLS settings from the store; also for the long-poller
  net::Credentials credentials;
  std::unique_ptr<core::PairwiseV2> v2;      // protocol v2 with friends (uses store and cipher)
  std::unique_ptr<core::GroupV2> groups_v2;  // protocol v2 groups (sender keys)

  // interrupt_listen() from another thread: the long-poller in flight and a request flag for
  // the moments between polls (and the back-off sleep). Guarded by listen_mutex.
  std::mutex listen_mutex;
  std::condition_variable listen_wake;
  net::RelayClient* active_poller = nullptr;
  bool interrupt_requested = false;

  // Wires an unlocked store and its relay client into a ready Impl (create_account and open);
  // makes the account's v2 keys if it has none yet.
  static Result<std::unique_ptr<Impl>> make(const std::filesystem::path& home,
                                            std::unique_ptr<store::Store> store,
                                            std::unique_ptr<net::RelayClient> relay,
                                            const store::Identity& identity);

  core::Sender sender() const { return {user_id, nickname}; }

  // Encrypts a Message for a channel key (pairwise or group).
  std::string seal(const SecretString& key, const protocol::Message& m);

  // Sends `m` to a friend (/postmsg, v2 when the friendship has upgraded) or a group
  // (/postgroup) through the outbox: sealed, queued and stored as a pending outgoing message
  // in one transaction, then posted (after anything older queued for that chat). The info
  // with delivery "sent", or the queued/refused error of Client::pending's docstring.
  Result<MessageInfo> deliver(ChatKind kind, const std::string& chat_id, const SecretString& key,
                              const protocol::Message& m);

  // Outbox (outbox.cpp). One item the relay did not take in a flush.
  struct OutboxFailure {
    store::OutboxItem item;
    Error error;
    bool final;  // refused for good (marked failed), else still pending
  };
  // Posts the outbox, oldest first: every chat, or only `chat_id`. A chat stops at its first
  // item the relay did not take, so later ones never overtake it. A posted item leaves the
  // outbox and its message becomes "sent" (one transaction; nothing if it was cancelled
  // meanwhile); a posted invite then records the member and sends the member list.
  // Every posted item but `own_id` (the one the calling send or invite answers for itself)
  // leaves with an Event::kSent stored in the event inbox in the same commit; sync() and
  // listen() hand those out. (An item another process queued a moment ago and is posting
  // itself may so be reported twice: at least once, never lost.)
  std::vector<OutboxFailure> flush_outbox(const std::string* chat_id = nullptr,
                                          std::int64_t own_id = 0);
  // The Event::kSent of an item the relay took (see Event in client.hpp).
  Result<Event> sent_event(const store::OutboxItem& item);
  // The error a send call answers for an item still in the outbox after its flush.
  Error outbox_error(const store::OutboxItem& item, const std::vector<OutboxFailure>& failures);
  // The events kWarning for a flush's failures (sync and listen show them).
  static std::vector<Event> outbox_warnings(const std::vector<OutboxFailure>& failures);

  // Where a message goes: a friend's pairwise channel or a group, with its key.
  struct Channel {
    ChatKind kind;
    std::string id;
    SecretString key;
  };
  Result<Channel> channel(ChatKind kind, std::string_view id);
  Result<MessageInfo> send_text(ChatKind kind, std::string_view id, std::string_view text);
  Result<MessageInfo> send_image(ChatKind kind, std::string_view id,
                                 const std::vector<std::uint8_t>& photo);
  Result<MessageInfo> react(ChatKind kind, std::string_view id, std::int64_t message_id,
                            std::string_view reaction);

  // Attachments (attachments_send.cpp, attachments_download.cpp; docs/protocol-v2.md §15).
  Result<MessageInfo> send_file(ChatKind kind, std::string_view id,
                                const std::filesystem::path& path, const SendFileOptions& options,
                                const ProgressCallback& progress);
  // Fills attachment->saved_path and upload_state of a FILE read from the store.
  void decorate_attachment(MessageInfo& info);
  // Unfinished uploads as pending() shows them (delivery "pending", upload_state "uploading").
  Result<std::vector<PendingSend>> pending_uploads();
  // Drops an unfinished upload and its placeholder message, and DELETEs its blob (best
  // effort). False if there is no such upload.
  Result<bool> cancel_upload(std::int64_t message_id);

  Result<store::Friend> require_friend(std::string_view user_id);
  Result<store::GroupRecord> require_group(std::string_view group_id);
  // The public view of a group, with the protocol it runs for us (v1/v2 and why).
  Result<GroupInfo> describe(const store::GroupRecord& g);

  // Sync engine (sync.cpp). Each round's events are stored in the round's transaction
  // (stash_events) and handed to the sink after it commits (hand_out); a refused event ends
  // the sync with an error and stays stored for the next one.
  using EventSink = Client::EventSink;
  Status sync_queue(const EventSink& emit);
  Status sync_group(const store::GroupRecord& group, const EventSink& emit);
  // Stores events as undelivered; call inside the round's transaction. Returns their ids.
  Result<std::vector<std::int64_t>> stash_events(const std::vector<Event>& events);
  // Hands stored events to the sink in order and removes the ones it took. kInternal at the
  // first one it refused (that one and the rest stay stored).
  Status hand_out(const std::vector<Event>& events, const std::vector<std::int64_t>& ids,
                  const EventSink& emit);
  // Removes stored events the sink took, in one transaction.
  Status forget_events(const std::vector<std::int64_t>& ids);
  // Hands out everything stored and not yet taken (a previous sync's refused events).
  Status redeliver(const EventSink& emit);

  // Posts the v2 upgrade traffic we owe a friend: our bundle (a v1 UPDATE), then a v2 key
  // confirmation or its answer. Each is marked sent only once the relay took it, so anything
  // that fails is tried again at the next sync.
  Status send_pending_upgrade(const std::string& friend_id);
  // The same for every friend that is owed something; failures become warnings (a refused
  // warning is an error).
  Status send_pending_upgrades(const EventSink& emit);

  // Posts one group control text (group_v2.hpp) to a friend as a v2 UPDATE. kUnavailable if
  // there is no v2 session with them: group control never travels over v1.
  Status send_group_control(const std::string& friend_id, const SecretString& content);
  // Posts our sender key to every member still owed it (marked once the relay took it);
  // returns the members it could not reach.
  std::vector<std::string> distribute_sender_keys(const std::string& group_id);
  // groups_v2->prepare_send, and in an in-person group our QR announcement posted to the
  // group first if the relay has not taken it yet (docs/protocol-v2.md section 8.1). True:
  // send v2. An error: the announcement could not be posted (nothing else was sent).
  Result<bool> prepare_group_send(const store::GroupRecord& g);
  // Posts every removal notice still owed (docs/protocol-v2.md section 8.2), marking each
  // once the relay took it; returns the removed members that could not be told now.
  std::vector<std::string> send_removal_notices();
  // After we invited someone: the member list to every member we have a v2 channel with.
  void send_member_list(const std::string& group_id);

  Client* owner = nullptr;  // for the crossed-request auto-accept
};

// What sync and listen answer when the application's sink did not take an event.
inline Error event_not_taken() {
  return Error(ErrorCode::kInternal,
               "the application did not take an event (kept for the next sync)");
}

// Conversions between the store's records and the public API's.
MessageInfo to_info(const store::StoredMessage& m);
store::StoredMessage to_stored(const MessageInfo& m);
// The same for a message we have as a protocol Message too: a FILE keeps its descriptor.
store::StoredMessage to_stored(const MessageInfo& i, const protocol::Message& m);
GroupInfo to_info(const store::GroupRecord& g);

// A nickname or group name we are about to use (our own, or a new group's): valid UTF-8 with
// something visible, at most `max` bytes, no control characters; kInvalidArgument naming
// `what` otherwise.
Status check_display_name(std::string_view what, std::string_view name, std::size_t max);
// Case-insensitive (ASCII) comparison for looking up friends, groups and invites by name.
bool same_name(std::string_view a, std::string_view b);

}  // namespace secchats
