// Account, friends and direct messages. Groups are in groups.cpp, the sync engine in sync.cpp.
#include <algorithm>
#include <limits>
#include <optional>

#include "client_impl.hpp"
#include "file_descriptor.hpp"
#include "relay_ids.hpp"
#include "secchats/common/clock.hpp"
#include "secchats/common/encoding.hpp"
#include "secchats/crypto/random.hpp"
#include "secchats/media/image.hpp"
#include "secchats/protocol/json_codec.hpp"

namespace secchats {
namespace {

constexpr std::size_t kMaxNicknameBytes = 64;
constexpr std::size_t kMaxTextBytes = 64 * 1024;
Status check_user_id(std::string_view id) {
  if (!core::is_relay_user_id(id)) {
    return Error(ErrorCode::kInvalidArgument,
                 "not a Secure Chats ID (expected 8-128 lowercase hex characters)");
  }
  return ok_status();
}

GroupOrigin from_store(store::GroupOrigin o) {
  switch (o) {
    case store::GroupOrigin::kCreated:
      return GroupOrigin::kCreated;
    case store::GroupOrigin::kInvited:
      return GroupOrigin::kInvited;
    case store::GroupOrigin::kInPerson:
      return GroupOrigin::kInPerson;
  }
  return GroupOrigin::kCreated;
}

FriendInfo to_info(const store::Friend& f) {
  FriendInfo info;
  info.user_id = f.user_id;
  info.nickname = f.nickname;
  info.protocol = f.v2_active ? "v2" : "v1";
  // Verified for the key they have now (a changed key clears the mark anyway).
  info.verified = !f.verified_ik.empty() && f.peer_bundle.size() >= f.verified_ik.size() &&
                  std::equal(f.verified_ik.begin(), f.verified_ik.end(), f.peer_bundle.begin());
  info.identity_changed = f.identity_changed;
  info.sending_blocked = f.send_blocked;
  return info;
}

}  // namespace

// Shared with groups.cpp (client_impl.hpp).
Status check_display_name(std::string_view what, std::string_view name, std::size_t max) {
  SC_TRY(core::check_outgoing_text(what, name));
  if (name.size() > max) {
    return Error(ErrorCode::kInvalidArgument,
                 std::string(what) + " is longer than " + std::to_string(max) + " bytes");
  }
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Error(ErrorCode::kInvalidArgument, std::string(what) + " contains control characters");
    }
  }
  return ok_status();
}

// Lowercase ASCII comparison for name lookups.
bool same_name(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
    return lower(x) == lower(y);
  });
}

MessageInfo to_info(const store::StoredMessage& m) {
  MessageInfo i;
  i.chat_id = m.chat_id;
  i.chat_kind = m.chat_kind == store::ChatKind::kGroup ? ChatKind::kGroup : ChatKind::kFriend;
  i.from_user_id = m.from_user_id;
  i.from_name = m.from_name;
  i.message_id = m.message_id;
  i.type = m.type;
  if (m.type == "FILE") {
    // The stored descriptor (with its key) stays inside: only what it shows comes out.
    auto d = core::decode_file_descriptor(m.text);
    if (d.ok()) i.attachment = std::move(d->info);
  } else {
    i.text = m.text;
  }
  i.image = m.image;
  i.reply_to_message_id = m.reply_to_message_id;
  i.emoji = m.new_emoji;
  i.sender_timestamp = m.sender_timestamp;
  i.server_timestamp = m.server_timestamp;
  i.outgoing = m.outgoing;
  i.delivery = m.outgoing ? m.delivery : "received";
  i.local_id = m.local_id;
  return i;
}

store::StoredMessage to_stored(const MessageInfo& i) {
  store::StoredMessage m;
  m.chat_id = i.chat_id;
  m.chat_kind =
      i.chat_kind == ChatKind::kGroup ? store::ChatKind::kGroup : store::ChatKind::kFriend;
  m.from_user_id = i.from_user_id;
  m.from_name = i.from_name;
  m.message_id = i.message_id;
  m.type = i.type;
  m.text = i.text;
  m.image = i.image;
  m.reply_to_message_id = i.reply_to_message_id;
  m.new_emoji = i.emoji;
  m.sender_timestamp = i.sender_timestamp;
  m.server_timestamp = i.server_timestamp;
  m.outgoing = i.outgoing;
  m.delivery =
      i.outgoing && (i.delivery == "pending" || i.delivery == "failed") ? i.delivery : "sent";
  return m;
}

store::StoredMessage to_stored(const MessageInfo& i, const protocol::Message& m) {
  store::StoredMessage out = to_stored(i);
  // A FILE keeps its whole descriptor (blob, key, hash) in the encrypted store, for download.
  if (i.type == "FILE") {
    if (auto text = core::file_descriptor_text(m); text.ok()) out.text = std::move(*text);
  }
  return out;
}

GroupInfo to_info(const store::GroupRecord& g) {
  GroupInfo info;
  info.group_id = g.group_id;
  info.name = g.name;
  info.origin = from_store(g.origin);
  return info;
}

// ---------------------------------------------------------------------------------------------
// Impl helpers

std::string Client::Impl::seal(const SecretString& key, const protocol::Message& m) {
  std::string plaintext = protocol::encode(m);
  std::string sealed = cipher.encrypt(key, plaintext);
  secure_wipe(plaintext.data(), plaintext.size());
  return sealed;
}

Result<MessageInfo> Client::Impl::deliver(ChatKind kind, const std::string& chat_id,
                                          const SecretString& key, const protocol::Message& m) {
  SC_ASSIGN_OR_RETURN(MessageInfo info, core::interpret(m, kind, chat_id, user_id, 0));
  info.outgoing = true;
  info.delivery = "pending";
  store::OutboxItem item;
  item.kind = kind == ChatKind::kFriend ? store::OutboxKind::kDirect : store::OutboxKind::kGroup;
  item.chat_id = chat_id;
  item.to_id = chat_id;
  item.message_id = info.message_id;
  item.created_at_ms = unix_millis_now();
  std::optional<store::GroupRecord> group;
  bool group_v2 = false;
  if (kind == ChatKind::kFriend) {
    // Upgrade traffic still owed goes first, so the friend has our bundle (and the session is
    // confirmed) before a v2 message arrives. Its failure is not this message's: it is
    // retried at the next sync.
    (void)send_pending_upgrade(chat_id);
  } else {
    SC_ASSIGN_OR_RETURN(group, require_group(chat_id));
    auto prepared = prepare_group_send(*group);
    if (prepared.ok()) {
      group_v2 = *prepared;
    } else {
      // Only an in-person group's key announcement goes over the network here; until the
      // relay took it the group is v1 for us and members accept v1 (section 8.1), so the
      // message is queued as v1 like any other. A store failure ends the send.
      const ErrorCode code = prepared.error().code();
      if (code != ErrorCode::kNetwork && code != ErrorCode::kUnavailable &&
          code != ErrorCode::kRateLimited && code != ErrorCode::kRefused) {
        return std::move(prepared).error();
      }
    }
    // Members still owed our key get it first; one we cannot reach now gets it at the next
    // sync and reads our later messages (the chain moves on), not this one.
    if (group_v2) (void)distribute_sender_keys(group->group_id);
  }
  // Sealed and queued in one transaction: a v2 seal's ratchet (or sender-key chain) step
  // commits together with the ciphertext it made, so a retry posts those same bytes and no
  // message key is ever used for two different ciphertexts.
  SC_TRY(store->transaction([&]() -> Status {
    if (kind == ChatKind::kFriend && m.type == "FILE") {
      // An attachment never travels as v1 (docs/protocol-v2.md §15.2).
      SC_ASSIGN_OR_RETURN(auto sealed, v2->seal_v2_only(chat_id, m));
      if (!sealed) {
        return Error(ErrorCode::kInvalidArgument,
                     "files need protocol v2: the v2 session with this friend cannot send");
      }
      item.body = std::move(*sealed);
    } else if (kind == ChatKind::kFriend) {
      SC_ASSIGN_OR_RETURN(item.body, v2->seal(chat_id, m));
    } else if (!group_v2 && m.type == "FILE") {
      return Error(ErrorCode::kInvalidArgument,
                   "files need protocol v2: this group runs v1 for now");
    } else if (group_v2) {
      SC_ASSIGN_OR_RETURN(item.body, groups_v2->seal(group->group_id, m));
    } else {
      item.body = seal(key, m);
    }
    SC_ASSIGN_OR_RETURN(item.local_id, store->put_outbox_item(item));
    SC_TRY(store->insert_message(to_stored(info, m)));
    return ok_status();
  }));
  const auto failures = flush_outbox(&chat_id, item.message_id);
  SC_ASSIGN_OR_RETURN(auto left, store->find_outbox_item(item.message_id));
  if (left) return outbox_error(*left, failures);
  info.delivery = "sent";
  return info;
}

Status Client::Impl::send_pending_upgrade(const std::string& friend_id) {
  auto post = [&](std::string enc_content) -> Status {
    protocol::SendMessage envelope;
    envelope.to_id = friend_id;
    envelope.enc_content = std::move(enc_content);
    return relay->post_message(credentials, std::move(envelope));
  };
  SC_ASSIGN_OR_RETURN(auto update, v2->seal_bundle_update(friend_id, sender()));
  if (update) {
    SC_TRY(post(std::move(*update)));
    SC_TRY(v2->mark_update_sent(friend_id));
  }
  SC_ASSIGN_OR_RETURN(auto control, v2->seal_pending_control(friend_id, sender()));
  if (control) {
    SC_TRY(post(std::move(*control)));
    SC_TRY(v2->mark_control_sent(friend_id));
  }
  return ok_status();
}

Status Client::Impl::send_pending_upgrades(const EventSink& emit) {
  auto all = store->friends();
  if (!all.ok()) return ok_status();
  for (const auto& f : *all) {
    if (f.update_sent && !f.control_pending) continue;
    auto sent = send_pending_upgrade(f.user_id);
    if (!sent.ok()) {
      Event e;
      e.kind = Event::Kind::kWarning;
      e.text = "could not send the protocol v2 upgrade to " + f.user_id +
               " (tried again at the next sync): " + sent.error().message();
      if (!emit(e)) return event_not_taken();
    }
  }
  return ok_status();
}

Result<store::Friend> Client::Impl::require_friend(std::string_view id) {
  SC_ASSIGN_OR_RETURN(auto found, store->find_friend(id));
  if (!found) return Error(ErrorCode::kNotFound, "no such friend");
  return std::move(*found);
}

Result<store::GroupRecord> Client::Impl::require_group(std::string_view id) {
  SC_ASSIGN_OR_RETURN(auto found, store->find_group(id));
  if (!found) return Error(ErrorCode::kNotFound, "no such group (join it first)");
  return std::move(*found);
}

// ---------------------------------------------------------------------------------------------
// Lifecycle

namespace {

// The connection settings an account was created with, as the relay client takes them.
net::RelayOptions relay_options_of(const store::Identity& identity) {
  net::RelayOptions options;
  options.ca_file = identity.ca_file;
  options.pin_sha256 = identity.pin_sha256;
  options.allow_insecure_http = identity.allow_insecure_http;
  return options;
}

}  // namespace

Result<std::unique_ptr<Client::Impl>> Client::Impl::make(const std::filesystem::path& home,
                                                         std::unique_ptr<store::Store> store,
                                                         std::unique_ptr<net::RelayClient> relay,
                                                         const store::Identity& identity) {
  auto impl = std::make_unique<Impl>();
  impl->home = home;
  impl->store = std::move(store);
  impl->relay = std::move(relay);
  impl->user_id = identity.user_id;
  impl->nickname = identity.nickname;
  impl->server_url = identity.server_url;
  impl->relay_options = relay_options_of(identity);
  impl->credentials = {identity.user_id, identity.auth_token};
  SC_ASSIGN_OR_RETURN(impl->v2,
                      core::PairwiseV2::load(*impl->store, identity.user_id, impl->cipher));
  impl->groups_v2 = std::make_unique<core::GroupV2>(*impl->store, identity.user_id, impl->cipher);
  return impl;
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
  impl_->owner = this;
}
Client::~Client() = default;

bool Client::exists(const std::filesystem::path& home) {
  return store::Store::exists(home);
}

Result<std::unique_ptr<Client>> Client::create_account(const std::filesystem::path& home,
                                                       const SecretString& password,
                                                       std::string_view server_url,
                                                       std::string_view nickname,
                                                       const ConnectionOptions& connection) {
  SC_TRY(check_display_name("nickname", nickname, kMaxNicknameBytes));
  if (store::Store::exists(home)) {
    return Error(ErrorCode::kAlreadyExists, "an account already exists in " + home.string());
  }
  if (password.view().empty()) return Error(ErrorCode::kInvalidArgument, "empty password");
  store::Identity identity;
  identity.server_url = std::string(server_url);
  identity.ca_file = connection.ca_file;
  identity.pin_sha256 = connection.pin_sha256;
  identity.allow_insecure_http = connection.allow_insecure_http;
  SC_ASSIGN_OR_RETURN(auto relay, net::RelayClient::create(server_url, relay_options_of(identity)));
  SC_ASSIGN_OR_RETURN(protocol::User user, relay->register_user());
  if (!user.user_id || !user.auth_token || user.user_id->empty() || user.auth_token->empty()) {
    return Error(ErrorCode::kRefused, "the server's /register answer has no id or token");
  }
  identity.user_id = *user.user_id;
  identity.auth_token = SecretString(*user.auth_token);
  identity.nickname = std::string(nickname);
  identity.created_at_ms = unix_millis_now();
  SC_ASSIGN_OR_RETURN(auto st, store::Store::create(home, password, identity));
  // Makes the v2 identity key now; were this interrupted, the next open() makes it.
  SC_ASSIGN_OR_RETURN(auto impl, Impl::make(home, std::move(st), std::move(relay), identity));
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

Result<std::unique_ptr<Client>> Client::open(const std::filesystem::path& home,
                                             const SecretString& password) {
  SC_ASSIGN_OR_RETURN(auto st, store::Store::open(home, password));
  SC_ASSIGN_OR_RETURN(store::Identity identity, st->identity());
  SC_ASSIGN_OR_RETURN(auto relay,
                      net::RelayClient::create(identity.server_url, relay_options_of(identity)));
  SC_ASSIGN_OR_RETURN(auto impl, Impl::make(home, std::move(st), std::move(relay), identity));
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

ConnectionOptions Client::connection() const {
  ConnectionOptions c;
  c.ca_file = impl_->relay_options.ca_file;
  c.pin_sha256 = impl_->relay_options.pin_sha256;
  c.allow_insecure_http = impl_->relay_options.allow_insecure_http;
  return c;
}

Status Client::set_connection(const ConnectionOptions& connection) {
  store::Identity probe;
  probe.ca_file = connection.ca_file;
  probe.pin_sha256 = connection.pin_sha256;
  probe.allow_insecure_http = connection.allow_insecure_http;
  const net::RelayOptions options = relay_options_of(probe);
  SC_ASSIGN_OR_RETURN(auto relay, net::RelayClient::create(impl_->server_url, options));
  // One authenticated round trip proves the settings: a cursor past any timestamp returns
  // nothing, so no item is served (and no long-poll mark moves) for it.
  SC_TRY(relay->receive(impl_->credentials, std::numeric_limits<std::int64_t>::max() / 2));
  SC_TRY(impl_->store->set_connection(connection.ca_file, connection.pin_sha256,
                                      connection.allow_insecure_http));
  impl_->relay = std::move(relay);
  impl_->relay_options = options;
  return ok_status();
}

Status Client::change_password(const std::filesystem::path& home, const SecretString& old_password,
                               const SecretString& new_password) {
  if (new_password.view().empty()) return Error(ErrorCode::kInvalidArgument, "empty password");
  return store::Store::change_password(home, old_password, new_password);
}

const std::string& Client::user_id() const {
  return impl_->user_id;
}
const std::string& Client::nickname() const {
  return impl_->nickname;
}
const std::string& Client::server_url() const {
  return impl_->server_url;
}

// ---------------------------------------------------------------------------------------------
// Friends

Status Client::add_friend(std::string_view id) {
  SC_TRY(check_user_id(id));
  if (id == impl_->user_id) return Error(ErrorCode::kInvalidArgument, "that is your own ID");
  SC_ASSIGN_OR_RETURN(auto existing, impl_->store->find_friend(id));
  if (existing) return Error(ErrorCode::kAlreadyExists, "already friends");
  // They asked first: adding them back means yes. One handshake, one key.
  SC_ASSIGN_OR_RETURN(auto theirs, impl_->store->find_incoming_request(id));
  if (theirs) {
    auto accepted = accept(id);
    if (!accepted.ok()) return std::move(accepted).error();
    return ok_status();
  }

  // A repeated `add` re-sends the same public value: the peer may already have answered the
  // first one, and a new private half would no longer match that answer.
  SC_ASSIGN_OR_RETURN(auto pending, impl_->store->find_outgoing_request(id));
  std::optional<crypto::v1::EcdhSession> session;
  if (pending) {
    auto stored = crypto::v1::EcdhSession::from_session_string(pending->session_string.view());
    if (!stored.ok()) return std::move(stored).error();
    session.emplace(std::move(*stored));
  } else {
    SC_ASSIGN_OR_RETURN(auto fresh, crypto::v1::EcdhSession::generate(crypto::v1::kDefaultCurve));
    session.emplace(std::move(fresh));
    // The private half is stored before the request leaves, so an answer arriving after a
    // crash can still complete the handshake.
    SC_TRY(impl_->store->put_outgoing_request(
        {std::string(id), session->session_string(), unix_millis_now()}));
  }

  protocol::FriendRequest request;
  request.to_user_id = std::string(id);
  request.protocol = std::string(protocol::kKeyAgreementProtocol);
  // Marked as one of ours (docs/protocol-v2.md §2.1): same point, same key for everyone.
  request.crypto_data = core::mark_v2_capable(session->public_crypto_data());
  auto sent = impl_->relay->connect(impl_->credentials, std::move(request));
  if (!sent.ok()) {
    if (sent.error().code() == ErrorCode::kNotFound) {
      // Definitely not delivered: forget the private half.
      (void)impl_->store->delete_outgoing_request(id);
      return Error(ErrorCode::kNotFound, "this ID does not exist on this server");
    }
    // Maybe delivered (a timeout after the relay queued it): keep the private half so a late
    // answer still completes; running `add` again re-sends the same value.
    return Error(sent.error().code(),
                 sent.error().message() + " (the request is kept; run add again to retry)");
  }
  return ok_status();
}

Result<std::vector<PendingRequest>> Client::requests() {
  std::vector<PendingRequest> out;
  SC_ASSIGN_OR_RETURN(auto incoming, impl_->store->incoming_requests());
  for (const auto& r : incoming)
    out.push_back({r.from_user_id, true, r.received_at_ms});
  SC_ASSIGN_OR_RETURN(auto outgoing, impl_->store->outgoing_requests());
  for (const auto& r : outgoing)
    out.push_back({r.to_user_id, false, r.created_at_ms});
  return out;
}

Result<FriendInfo> Client::accept(std::string_view id) {
  SC_ASSIGN_OR_RETURN(auto request, impl_->store->find_incoming_request(id));
  if (!request) return Error(ErrorCode::kNotFound, "no friend request from that ID");
  SC_ASSIGN_OR_RETURN(crypto::v1::Curve curve,
                      crypto::v1::inspect_public_crypto_data(request->crypto_data));
  SC_ASSIGN_OR_RETURN(auto session, crypto::v1::EcdhSession::generate(curve));
  SC_ASSIGN_OR_RETURN(SecretString key, session.derive_channel_key(request->crypto_data));

  // Answer first, store after: no store lock is held across the network, and a failed answer
  // leaves the request in place to be accepted again. (A timeout after the relay queued the
  // answer is the one ambiguous case; the peer recovers by sending a new request, which then
  // replaces this channel key when accepted.)
  protocol::FriendResponse response;
  response.to_user_id = std::string(id);
  response.crypto_data = core::mark_v2_capable(session.public_crypto_data());
  SC_TRY(impl_->relay->respond(impl_->credentials, std::move(response)));

  store::Friend f;
  f.user_id = std::string(id);
  f.channel_key = std::move(key);
  f.created_at_ms = unix_millis_now();
  f.peer_v2_capable = core::has_v2_marker(request->crypto_data);
  if (auto known = impl_->store->find_friend(id); known.ok() && *known) {
    f.nickname = (*known)->nickname;
  }
  SC_TRY(impl_->store->transaction([&]() -> Status {
    SC_TRY(impl_->store->upsert_friend(f));
    SC_TRY(impl_->store->delete_incoming_request(id));
    return impl_->store->delete_outgoing_request(id);  // crossed requests: one handshake wins
  }));
  // Offer v2 right away if they are one of ours. If the relay does not take it now, the next
  // sync sends it.
  (void)impl_->send_pending_upgrade(f.user_id);
  SC_ASSIGN_OR_RETURN(store::Friend stored, impl_->require_friend(id));
  return to_info(stored);
}

Status Client::decline(std::string_view id) {
  SC_ASSIGN_OR_RETURN(auto request, impl_->store->find_incoming_request(id));
  if (!request) return Error(ErrorCode::kNotFound, "no friend request from that ID");
  // v1 has no "declined" message: the requester simply never hears back.
  return impl_->store->delete_incoming_request(id);
}

Result<std::vector<FriendInfo>> Client::friends() {
  SC_ASSIGN_OR_RETURN(auto all, impl_->store->friends());
  std::vector<FriendInfo> out;
  for (const auto& f : all)
    out.push_back(to_info(f));
  return out;
}

Result<SafetyNumberInfo> Client::safety_number(std::string_view friend_id) {
  SC_ASSIGN_OR_RETURN(store::Friend f, impl_->require_friend(friend_id));
  SC_ASSIGN_OR_RETURN(auto number, impl_->v2->safety_number(f.user_id));
  const FriendInfo info = to_info(f);
  SafetyNumberInfo out;
  out.user_id = f.user_id;
  out.digits = number.digits();
  out.formatted = number.formatted();
  out.qr_payload = number.qr_payload();
  out.verified = info.verified;
  out.identity_changed = info.identity_changed;
  return out;
}

Status Client::mark_verified(std::string_view friend_id, std::string_view typed_or_scanned) {
  SC_ASSIGN_OR_RETURN(store::Friend f, impl_->require_friend(friend_id));
  return impl_->v2->mark_verified(f.user_id, typed_or_scanned);
}

Result<FriendInfo> Client::find_friend(std::string_view id_or_nickname) {
  SC_ASSIGN_OR_RETURN(auto all, impl_->store->friends());
  for (const auto& f : all) {
    if (f.user_id == id_or_nickname) return to_info(f);
  }
  const store::Friend* match = nullptr;
  for (const auto& f : all) {
    if (!f.nickname.empty() && same_name(f.nickname, id_or_nickname)) {
      if (match) {
        return Error(ErrorCode::kInvalidArgument,
                     "more than one friend is called that; use the ID");
      }
      match = &f;
    }
  }
  if (!match) return Error(ErrorCode::kNotFound, "no friend with that ID or nickname");
  return to_info(*match);
}

Result<GroupInfo> Client::find_group(std::string_view id_or_name) {
  SC_ASSIGN_OR_RETURN(auto all, impl_->store->groups());
  for (const auto& g : all) {
    if (g.group_id == id_or_name) return to_info(g);
  }
  const store::GroupRecord* match = nullptr;
  for (const auto& g : all) {
    if (same_name(g.name, id_or_name)) {
      if (match) {
        return Error(ErrorCode::kInvalidArgument, "more than one group has that name; use the ID");
      }
      match = &g;
    }
  }
  if (!match) return Error(ErrorCode::kNotFound, "no group with that ID or name");
  return to_info(*match);
}

Result<std::pair<ChatKind, std::string>> Client::find_chat(std::string_view id_or_name) {
  auto f = find_friend(id_or_name);
  auto g = find_group(id_or_name);
  if (f.ok() && g.ok()) {
    return Error(ErrorCode::kInvalidArgument, "both a friend and a group match; use the ID");
  }
  if (f.ok()) return std::pair{ChatKind::kFriend, f->user_id};
  if (g.ok()) return std::pair{ChatKind::kGroup, g->group_id};
  if (f.error().code() != ErrorCode::kNotFound) return std::move(f).error();
  if (g.error().code() != ErrorCode::kNotFound) return std::move(g).error();
  return Error(ErrorCode::kNotFound, "no friend or group with that ID or name");
}

// ---------------------------------------------------------------------------------------------
// Messages

namespace {

Status check_text(std::string_view text) {
  if (text.empty()) return Error(ErrorCode::kInvalidArgument, "empty message");
  // What the friend sees must be what was typed: no invalid UTF-8, nothing that shows empty.
  SC_TRY(core::check_outgoing_text("message", text));
  if (text.size() > kMaxTextBytes) {
    return Error(ErrorCode::kTooLarge, "message longer than 64 KiB");
  }
  return ok_status();
}

// Any photo the user picks becomes what a reference-client friend can show (COMPAT §5: a
// JPEG or PNG of at most 384 KiB, since it is base64'd twice and the ciphertext once more,
// ×2.4 in all, under the relay's 1 MiB body): decoded, turned upright, stripped of every
// metadata block and scaled down by media::prepare_v1_photo. A file cut short, not an image,
// or claiming a gigapixel size is refused before anything is stored or sent.
Result<std::vector<std::uint8_t>> prepare_image(const std::vector<std::uint8_t>& photo) {
  if (photo.size() > Client::kMaxPhotoInputBytes) {
    return Error(ErrorCode::kTooLarge, "photo larger than 64 MiB");
  }
  SC_ASSIGN_OR_RETURN(media::EncodedImage prepared, media::prepare_v1_photo(photo));
  return std::move(prepared.bytes);
}

// Our previous reaction to `target` in this chat, so the new one can say what it replaces.
Result<std::string> previous_reaction(store::Store& st, std::string_view chat_id,
                                      std::string_view me, std::int64_t target) {
  SC_ASSIGN_OR_RETURN(auto all, st.messages(chat_id));
  bool target_known = false;
  std::string previous = "EMO_SMILE_PLUS";
  for (const auto& m : all) {
    if (m.message_id == target && m.type != "EMOJI") target_known = true;
    if (m.type == "EMOJI" && m.from_user_id == me && m.reply_to_message_id == target) {
      previous = m.new_emoji.empty() ? "EMO_SMILE_PLUS" : m.new_emoji;
    }
  }
  if (!target_known) return Error(ErrorCode::kNotFound, "no such message in this chat");
  return previous;
}

}  // namespace

Result<Client::Impl::Channel> Client::Impl::channel(ChatKind kind, std::string_view id) {
  if (kind == ChatKind::kFriend) {
    SC_ASSIGN_OR_RETURN(auto f, require_friend(id));
    return Channel{kind, f.user_id, f.channel_key};
  }
  SC_ASSIGN_OR_RETURN(auto g, require_group(id));
  // Everyone left in a group that removed us drops what we post there (section 8.2).
  SC_TRY(groups_v2->require_open(g.group_id));
  return Channel{kind, g.group_id, g.key};
}

Result<MessageInfo> Client::Impl::send_text(ChatKind kind, std::string_view id,
                                            std::string_view text) {
  SC_TRY(check_text(text));
  SC_ASSIGN_OR_RETURN(Channel c, channel(kind, id));
  auto m = core::make_text(sender(), c.id, crypto::random_int63(), unix_millis_now(), text);
  return deliver(c.kind, c.id, c.key, m);
}

Result<MessageInfo> Client::Impl::send_image(ChatKind kind, std::string_view id,
                                             const std::vector<std::uint8_t>& photo) {
  SC_ASSIGN_OR_RETURN(std::vector<std::uint8_t> image, prepare_image(photo));
  SC_ASSIGN_OR_RETURN(Channel c, channel(kind, id));
  auto m = core::make_image(sender(), c.id, crypto::random_int63(), unix_millis_now(), image);
  return deliver(c.kind, c.id, c.key, m);
}

Result<MessageInfo> Client::Impl::react(ChatKind kind, std::string_view id, std::int64_t message_id,
                                        std::string_view reaction) {
  SC_ASSIGN_OR_RETURN(std::string name, normalize_reaction(reaction));
  SC_ASSIGN_OR_RETURN(Channel c, channel(kind, id));
  SC_ASSIGN_OR_RETURN(std::string old, previous_reaction(*store, c.id, user_id, message_id));
  auto m = core::make_reaction(sender(), c.id, crypto::random_int63(), unix_millis_now(),
                               message_id, name, old);
  return deliver(c.kind, c.id, c.key, m);
}

Result<MessageInfo> Client::send_text(std::string_view friend_id, std::string_view text) {
  return impl_->send_text(ChatKind::kFriend, friend_id, text);
}

Result<MessageInfo> Client::send_image(std::string_view friend_id,
                                       std::vector<std::uint8_t> photo) {
  return impl_->send_image(ChatKind::kFriend, friend_id, photo);
}

Result<MessageInfo> Client::react(std::string_view friend_id, std::int64_t message_id,
                                  std::string_view reaction) {
  return impl_->react(ChatKind::kFriend, friend_id, message_id, reaction);
}

}  // namespace secchats
