// A minimal stand-in for the EXISTING reference client (protocol v1 only), built from
// ../shared/protocol/COMPAT.md alone: raw HTTP to the relay, ECDH friend handshakes, v1
// messages. It is as strict as the reference: a response with a field it does not know is
// an error (the whole response is lost and the cursor does not move). A message it cannot
// decrypt, or of a type it does not know (e.g. "UPDATE"), is recorded and skipped, the way
// the reference UI shows a debug line and goes on. Images and reactions are read as the
// reference UI reads them (COMPAT.md §5): an IMG whose decoded text is not base64, or an
// EMOJI whose newEmoji is not an enum name, is recorded as malformed (the UI drops it).
//
// Errors that the reference client would surface to its user (transport failures, non-200
// answers where 200 is required, responses it cannot parse) throw V1PeerError. Not
// thread-safe: one test thread drives a peer.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "secchats/crypto/v1.hpp"
#include "secchats/protocol/objects.hpp"
#include "support/http_client.hpp"

namespace secchats::testing {

class V1PeerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A message the peer accepted (TEXT, IMG or EMOJI from a friend).
struct V1Received {
  std::string from_user_id;  // the relay envelope's sender (the friend's id)
  std::string from_name;
  std::string type;  // "TEXT", "IMG", "EMOJI"
  // TEXT: the UTF-8 text; IMG: the decoded content (itself base64 of the PNG); EMOJI: "".
  std::string text;
  // IMG: the PNG bytes, decoded as the reference UI does (base64 of the decoded content).
  std::vector<std::uint8_t> image;
  // EMOJI: newEmoji, one of the reference UI's enum names (EMO_SMILE_PLUS: removed).
  std::string emoji;
  std::int64_t message_id = 0;
  std::int64_t server_timestamp = 0;
  protocol::Message message;  // the whole decrypted plaintext
};

// Something the peer received and did not show as a message.
struct V1Anomaly {
  enum class Kind {
    kUndecryptable,       // encContent did not decrypt under the friend's channel key
    kMalformed,           // decrypted, but not a Message the reference UI accepts or shows
    kUnknownType,         // a valid Message of a type other than TEXT/IMG/EMOJI ("UPDATE")
    kDuplicate,           // (fromUserId, messageId) seen before: dropped
    kFromStranger,        // a message from someone who is not a friend
    kRefusedKeyExchange,  // a friend request/response whose cryptoData we cannot use
    kUnexpectedResponse,  // a FriendResponse with no request of ours pending
    kGroupInvite,         // group invites are not modelled: recorded, not joined
  };
  Kind kind;
  std::string from_user_id;
  std::string detail;                        // error message or the unknown type
  std::string enc_content;                   // the ciphertext (or cryptoData) as received
  std::optional<protocol::Message> message;  // for kUnknownType and kDuplicate
  std::optional<std::string> plaintext;      // when decryption worked
  std::int64_t server_timestamp = 0;
};

const char* to_string(V1Anomaly::Kind kind);

// What one poll() round brought.
struct V1PollResult {
  std::vector<V1Received> messages;
  std::vector<std::string> requests;   // friend requests that arrived (their senders' ids)
  std::vector<std::string> accepted;   // requests we answered with /connect2 this round
  std::vector<std::string> completed;  // our requests completed by the friend's response
  std::vector<V1Anomaly> anomalies;
  std::string raw_body;  // the /receive response body as received
};

class V1Peer {
 public:
  // Talks to 127.0.0.1:port (the relay, or a TamperingProxy in front of it).
  explicit V1Peer(unsigned short port, std::string nickname = "RefPeer");
  ~V1Peer();
  V1Peer(const V1Peer&) = delete;
  V1Peer& operator=(const V1Peer&) = delete;

  // GET /register with no body, as the reference client does; strict User parsing.
  void register_account();
  const std::string& user_id() const { return user_id_; }
  const std::string& auth_token() const { return auth_token_; }
  const std::string& nickname() const { return nickname_; }

  // POST /connect with a fresh ECDH public value on `curve` (the reference picks P-521).
  // Returns the HTTP status (404: no such user); the request is pending only on 200.
  int add_friend(const std::string& user_id, crypto::v1::Curve curve = crypto::v1::kDefaultCurve);
  // Whether incoming friend requests are answered during poll() (default) or left pending
  // for accept().
  void set_auto_accept(bool on) { auto_accept_ = on; }
  // Answers a pending incoming request (/connect2 on the requester's curve). Throws if none.
  void accept(const std::string& user_id);

  // POST /receive from the cursor; handles everything that arrived (see V1PollResult) and
  // moves the cursor to the largest timestamp seen.
  V1PollResult poll();

  // A TEXT message exactly as COMPAT §5 (fields in the reference order, content = base64 of
  // UTF-8), encrypted under the channel key and posted with /postmsg. Returns its messageId.
  std::int64_t send_text(const std::string& friend_id, std::string_view text);
  // Encrypts and posts any Message (fromUserId/toId are not filled in: forge freely).
  // Returns the /postmsg result without judging it.
  HttpResult send_message(const std::string& friend_id, const protocol::Message& message);
  // Encrypts any plaintext under the friend's channel key and posts it with /postmsg.
  HttpResult send_plaintext(const std::string& friend_id, std::string_view plaintext);
  // The Message send_text would send (fresh messageId, timestamp now), unencrypted.
  protocol::Message make_text(const std::string& friend_id, std::string_view text) const;

  // v1 encryption under the friend's channel key (throws if not a friend).
  std::string encrypt_for(const std::string& friend_id, std::string_view plaintext);
  Result<std::string> decrypt_from(const std::string& friend_id, std::string_view enc_content);

  // Request bodies the reference client would send now (tokens included), for forging.
  std::string receive_body() const;
  std::string postmsg_body(const std::string& to_id, std::string_view enc_content) const;

  // Any request, as is, on this peer's connection.
  HttpResult raw_post(std::string_view path, std::string_view body);

  bool is_friend(const std::string& user_id) const { return friends_.count(user_id) != 0; }
  std::vector<std::string> friends() const;
  // The channel key string ("privateEncKey", base64 of 32 bytes); "" if not a friend.
  std::string channel_key(const std::string& friend_id) const;
  // Replaces (or sets) a friend's channel key, e.g. to simulate a key mismatch.
  void set_channel_key(const std::string& friend_id, std::string key_string);
  bool has_pending_request_to(const std::string& user_id) const;
  bool has_pending_request_from(const std::string& user_id) const;
  std::int64_t cursor() const { return cursor_; }
  // Every anomaly since construction, in order.
  const std::vector<V1Anomaly>& anomalies() const { return anomalies_; }

 private:
  void require_registered() const;
  const SecretString& key_of(const std::string& friend_id) const;
  // Answers the stored incoming request of `from`; false (with an anomaly) if refused.
  bool answer(const std::string& from, V1PollResult* result);
  void handle_message(const protocol::SendMessage& m, V1PollResult& result);
  void add_anomaly(V1PollResult& result, V1Anomaly anomaly);

  HttpClient http_;
  std::string nickname_;
  std::string user_id_;
  std::string auth_token_;
  std::int64_t cursor_ = 0;
  bool auto_accept_ = true;
  crypto::v1::MessageCipher cipher_;
  std::map<std::string, SecretString> friends_;              // id -> channel key string
  std::map<std::string, crypto::v1::EcdhSession> outgoing_;  // our pending requests
  std::map<std::string, std::string> incoming_;              // id -> their cryptoData
  std::set<std::pair<std::string, std::int64_t>> seen_;      // (fromUserId, messageId)
  std::vector<V1Anomaly> anomalies_;
};

}  // namespace secchats::testing
