#include "support/v1_peer.hpp"

#include <algorithm>
#include <array>

#include "secchats/common/clock.hpp"
#include "secchats/common/encoding.hpp"
#include "secchats/crypto/random.hpp"
#include "secchats/protocol/json_codec.hpp"

namespace secchats::testing {
namespace v1 = crypto::v1;
using protocol::UnknownFields;

const char* to_string(V1Anomaly::Kind kind) {
  switch (kind) {
    case V1Anomaly::Kind::kUndecryptable:
      return "undecryptable";
    case V1Anomaly::Kind::kMalformed:
      return "malformed";
    case V1Anomaly::Kind::kUnknownType:
      return "unknown type";
    case V1Anomaly::Kind::kDuplicate:
      return "duplicate";
    case V1Anomaly::Kind::kFromStranger:
      return "from a stranger";
    case V1Anomaly::Kind::kRefusedKeyExchange:
      return "refused key exchange";
    case V1Anomaly::Kind::kUnexpectedResponse:
      return "unexpected friend response";
    case V1Anomaly::Kind::kGroupInvite:
      return "group invite";
  }
  return "?";
}

namespace {

void require_ok(const HttpResult& r, std::string_view what) {
  if (r.status != 200) {
    throw V1PeerError(std::string(what) + ": HTTP " + std::to_string(r.status) + ": " + r.body);
  }
}

}  // namespace

V1Peer::V1Peer(unsigned short port, std::string nickname)
    : http_(port), nickname_(std::move(nickname)) {}

V1Peer::~V1Peer() = default;

void V1Peer::require_registered() const {
  if (user_id_.empty()) throw V1PeerError("V1Peer: register_account() first");
}

void V1Peer::register_account() {
  auto r = http_.get("/register");
  require_ok(r, "/register");
  auto user = protocol::decode_user(r.body, UnknownFields::kReject);
  if (!user.ok()) throw V1PeerError("/register: response rejected: " + user.error().message());
  if (!user->user_id || user->user_id->empty() || !user->auth_token || user->auth_token->empty()) {
    throw V1PeerError("/register: no userId or authToken in " + r.body);
  }
  user_id_ = *user->user_id;
  auth_token_ = *user->auth_token;
}

int V1Peer::add_friend(const std::string& user_id, v1::Curve curve) {
  require_registered();
  auto session = v1::EcdhSession::generate(curve);
  if (!session.ok()) throw V1PeerError("ECDH key generation: " + session.error().message());
  protocol::FriendRequest req;
  req.from_user_id = user_id_;
  req.auth_token = auth_token_;
  req.to_user_id = user_id;
  req.timestamp = 0;
  req.protocol = std::string(protocol::kKeyAgreementProtocol);
  req.crypto_data = session->public_crypto_data();
  auto r = http_.post("/connect", protocol::encode(req));
  if (r.status == 200) outgoing_.insert_or_assign(user_id, std::move(*session));
  return r.status;
}

bool V1Peer::answer(const std::string& from, V1PollResult* result) {
  auto it = incoming_.find(from);
  if (it == incoming_.end()) throw V1PeerError("no friend request from " + from);
  const std::string their_value = it->second;
  auto refuse = [&](const std::string& why) {
    V1Anomaly a{V1Anomaly::Kind::kRefusedKeyExchange, from, why, their_value, {}, {}, 0};
    if (result) {
      add_anomaly(*result, std::move(a));
    } else {
      anomalies_.push_back(std::move(a));
    }
    incoming_.erase(from);
    return false;
  };
  auto curve = v1::inspect_public_crypto_data(their_value);
  if (!curve.ok()) return refuse(curve.error().message());
  auto session = v1::EcdhSession::generate(*curve);
  if (!session.ok()) return refuse(session.error().message());
  auto key = session->derive_channel_key(their_value);
  if (!key.ok()) return refuse(key.error().message());
  protocol::FriendResponse res;
  res.from_user_id = user_id_;
  res.auth_token = auth_token_;
  res.to_user_id = from;
  res.timestamp = 0;
  res.crypto_data = session->public_crypto_data();
  auto r = http_.post("/connect2", protocol::encode(res));
  require_ok(r, "/connect2");
  friends_.insert_or_assign(from, std::move(*key));
  incoming_.erase(from);
  // Their request replaces ours: a later answer to ours is not applied.
  outgoing_.erase(from);
  if (result) result->accepted.push_back(from);
  return true;
}

void V1Peer::accept(const std::string& user_id) {
  answer(user_id, nullptr);
}

std::string V1Peer::receive_body() const {
  protocol::User u;
  u.user_id = user_id_;
  u.name = "";
  u.auth_token = auth_token_;
  u.last_message_timestamp = cursor_;
  return protocol::encode(u);
}

std::string V1Peer::postmsg_body(const std::string& to_id, std::string_view enc_content) const {
  protocol::SendMessage m;
  m.to_id = to_id;
  m.auth_token = auth_token_;
  m.from_user_id = user_id_;
  m.enc_content = std::string(enc_content);
  m.timestamp = 0;
  return protocol::encode(m);
}

void V1Peer::add_anomaly(V1PollResult& result, V1Anomaly anomaly) {
  anomalies_.push_back(anomaly);
  result.anomalies.push_back(std::move(anomaly));
}

void V1Peer::handle_message(const protocol::SendMessage& m, V1PollResult& result) {
  const std::string from = m.from_user_id.value_or("");
  const std::string enc = m.enc_content.value_or("");
  V1Anomaly a{V1Anomaly::Kind::kFromStranger, from, {}, enc, {}, {}, m.timestamp};
  auto f = friends_.find(from);
  if (f == friends_.end()) {
    a.detail = "message from a stranger";
    add_anomaly(result, std::move(a));
    return;
  }
  auto plaintext = cipher_.decrypt(f->second, enc);
  if (!plaintext.ok()) {
    a.kind = V1Anomaly::Kind::kUndecryptable;
    a.detail = plaintext.error().message();
    add_anomaly(result, std::move(a));
    return;
  }
  a.plaintext = *plaintext;
  auto message = protocol::decode_message(*plaintext, UnknownFields::kReject);
  if (!message.ok()) {
    a.kind = V1Anomaly::Kind::kMalformed;
    a.detail = message.error().message();
    add_anomaly(result, std::move(a));
    return;
  }
  a.message = *message;
  if (!seen_.insert({from, message->message_id}).second) {
    a.kind = V1Anomaly::Kind::kDuplicate;
    a.detail = "duplicate messageId " + std::to_string(message->message_id);
    add_anomaly(result, std::move(a));
    return;
  }
  const std::string type = message->type.value_or("");
  V1Received got;
  got.from_user_id = from;
  got.from_name = message->from_name.value_or("");
  got.type = type;
  got.message_id = message->message_id;
  got.server_timestamp = m.timestamp;
  if (type == "TEXT" || type == "IMG") {
    auto text = base64_decode_to_string(message->content.value_or(""));
    if (!text) {
      a.kind = V1Anomaly::Kind::kMalformed;
      a.detail = "content is not base64";
      add_anomaly(result, std::move(a));
      return;
    }
    got.text = std::move(*text);
    if (type == "IMG") {
      // The UI base64-decodes the text; an IllegalArgumentException loses the image.
      auto png = base64_decode(got.text);
      if (!png) {
        a.kind = V1Anomaly::Kind::kMalformed;
        a.detail = "Illegal base64 character in image text";
        add_anomaly(result, std::move(a));
        return;
      }
      got.image = std::move(*png);
    }
  } else if (type == "EMOJI") {
    // The UI looks both names up in its enum; anything else is not shown.
    static constexpr std::array<std::string_view, 8> kNames = {
        "EMO_SMILE",      "EMO_HEART", "EMO_THUMB_UP", "EMO_GRIN_STARS",
        "EMO_THUMB_DOWN", "EMO_ANGRY", "EMO_POOP",     "EMO_SMILE_PLUS"};
    auto known = [&](const std::optional<std::string>& name) {
      return name && std::find(kNames.begin(), kNames.end(), *name) != kNames.end();
    };
    if (!known(message->new_emoji) || !known(message->old_emoji)) {
      a.kind = V1Anomaly::Kind::kMalformed;
      a.detail = "reaction is not one of the UI's enum names";
      add_anomaly(result, std::move(a));
      return;
    }
    got.emoji = *message->new_emoji;
  } else {
    a.kind = V1Anomaly::Kind::kUnknownType;
    a.detail = type;
    add_anomaly(result, std::move(a));
    return;
  }
  got.message = std::move(*message);
  result.messages.push_back(std::move(got));
}

V1PollResult V1Peer::poll() {
  require_registered();
  auto r = http_.post("/receive", receive_body());
  require_ok(r, "/receive");
  auto batch = protocol::decode_notifications(r.body, UnknownFields::kReject);
  if (!batch.ok()) {
    throw V1PeerError("/receive: response rejected: " + batch.error().message() + ": " + r.body);
  }
  V1PollResult result;
  result.raw_body = r.body;
  std::int64_t newest = cursor_;
  for (const auto& req : batch->friend_requests) {
    newest = std::max(newest, req.timestamp);
    const std::string from = req.from_user_id.value_or("");
    if (from.empty() || from == user_id_) continue;
    incoming_.insert_or_assign(from, req.crypto_data.value_or(""));
    result.requests.push_back(from);
    if (auto_accept_) answer(from, &result);
  }
  for (const auto& res : batch->friend_responses) {
    newest = std::max(newest, res.timestamp);
    const std::string from = res.from_user_id.value_or("");
    const std::string value = res.crypto_data.value_or("");
    auto pending = outgoing_.find(from);
    if (pending == outgoing_.end()) {
      add_anomaly(result, {V1Anomaly::Kind::kUnexpectedResponse,
                           from,
                           "no request pending",
                           value,
                           {},
                           {},
                           res.timestamp});
      continue;
    }
    auto key = pending->second.derive_channel_key(value);
    if (!key.ok()) {
      add_anomaly(result, {V1Anomaly::Kind::kRefusedKeyExchange,
                           from,
                           key.error().message(),
                           value,
                           {},
                           {},
                           res.timestamp});
      continue;
    }
    friends_.insert_or_assign(from, std::move(*key));
    outgoing_.erase(pending);
    incoming_.erase(from);
    result.completed.push_back(from);
  }
  for (const auto& inv : batch->group_invites) {
    newest = std::max(newest, inv.timestamp);
    add_anomaly(result, {V1Anomaly::Kind::kGroupInvite,
                         inv.from_user_id.value_or(""),
                         "group " + inv.group_id.value_or(""),
                         inv.crypto_data.value_or(""),
                         {},
                         {},
                         inv.timestamp});
  }
  for (const auto& m : batch->messages) {
    newest = std::max(newest, m.timestamp);
    handle_message(m, result);
  }
  cursor_ = newest;
  return result;
}

protocol::Message V1Peer::make_text(const std::string& friend_id, std::string_view text) const {
  protocol::Message m;
  m.from_user_id = user_id_;
  m.from_name = nickname_;
  m.to_id = friend_id;
  m.reply_to_message_id = 0;
  m.message_id = crypto::random_int63();
  m.type = "TEXT";
  m.content = base64_encode(text);
  m.timestamp = unix_millis_now();
  return m;
}

std::int64_t V1Peer::send_text(const std::string& friend_id, std::string_view text) {
  const auto m = make_text(friend_id, text);
  require_ok(send_message(friend_id, m), "/postmsg");
  return m.message_id;
}

HttpResult V1Peer::send_message(const std::string& friend_id, const protocol::Message& message) {
  return send_plaintext(friend_id, protocol::encode(message));
}

HttpResult V1Peer::send_plaintext(const std::string& friend_id, std::string_view plaintext) {
  require_registered();
  const std::string enc = encrypt_for(friend_id, plaintext);
  return http_.post("/postmsg", postmsg_body(friend_id, enc));
}

const SecretString& V1Peer::key_of(const std::string& friend_id) const {
  auto it = friends_.find(friend_id);
  if (it == friends_.end()) throw V1PeerError(friend_id + " is not a friend");
  return it->second;
}

std::string V1Peer::encrypt_for(const std::string& friend_id, std::string_view plaintext) {
  return cipher_.encrypt(key_of(friend_id), plaintext);
}

Result<std::string> V1Peer::decrypt_from(const std::string& friend_id,
                                         std::string_view enc_content) {
  return cipher_.decrypt(key_of(friend_id), enc_content);
}

HttpResult V1Peer::raw_post(std::string_view path, std::string_view body) {
  return http_.post(path, body);
}

std::vector<std::string> V1Peer::friends() const {
  std::vector<std::string> out;
  for (const auto& [id, key] : friends_)
    out.push_back(id);
  return out;
}

std::string V1Peer::channel_key(const std::string& friend_id) const {
  auto it = friends_.find(friend_id);
  return it == friends_.end() ? std::string() : it->second.str();
}

void V1Peer::set_channel_key(const std::string& friend_id, std::string key_string) {
  friends_.insert_or_assign(friend_id, SecretString(std::move(key_string)));
}

bool V1Peer::has_pending_request_to(const std::string& user_id) const {
  return outgoing_.count(user_id) != 0;
}

bool V1Peer::has_pending_request_from(const std::string& user_id) const {
  return incoming_.count(user_id) != 0;
}

}  // namespace secchats::testing
