// libFuzzer target: what the client does with v1 data a peer (or a relay) controls.
//
// The first byte picks the path (a letter for readable seeds, otherwise byte % 6); the rest is:
//   'I' a peer's cryptoData      -> inspect_public_crypto_data, then derive_channel_key from a
//                                   session of the same curve (must succeed if inspection did)
//   'S' a stored session string  -> EcdhSession::from_session_string, then its serialisations
//                                   must parse back to the same key
//   'D' "session\npeer"          -> from_session_string + derive_channel_key
//   'C' an encContent            -> aes_gcm_decrypt with the vectors' fixed keys, then inbound
//   'P' a plaintext              -> encrypted with a fixed key, decrypted again (gets past the
//                                   GCM tag), then inbound
//   'M' a plaintext              -> inbound directly (cheapest way to reach the codec)
// "inbound" is what sync.cpp does with a decrypted payload: protocol::decode_message and
// core::interpret for both chat kinds (and decode_group, for group invites); whatever
// interpret extracts must survive being sent again (make_* -> encode -> decode -> interpret).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "message_codec.hpp"
#include "secchats/common/encoding.hpp"
#include "secchats/crypto/v1.hpp"
#include "secchats/protocol/json_codec.hpp"

namespace {
namespace v1 = secchats::crypto::v1;
namespace proto = secchats::protocol;
namespace core = secchats::core;
using secchats::ChatKind;
using secchats::MessageInfo;
using secchats::SecretBytes;
using secchats::SecretString;

// reference-crypto.json: the pairwise channel key of the message vectors and the group key.
constexpr std::string_view kPairwiseKey = "OfpXBRVOdR6DjavVaQmcXcLIGJc6ctkEIbQZatvmVDM=";
constexpr std::string_view kGroupKey = "r0oQ4ZH5XGupz8FzzrOZK3fx5H7unYhVRGWRBcvD+SM=";

[[noreturn]] void finding(std::string_view what, std::string_view detail = {}) {
  std::fprintf(stderr, "fuzz_client_v1: %.*s\n  %.*s\n", static_cast<int>(what.size()), what.data(),
               static_cast<int>(detail.size() > 2000 ? 2000 : detail.size()), detail.data());
  std::abort();
}

struct Fixture {
  SecretBytes pairwise = v1::derive_message_key(kPairwiseKey);  // PBKDF2 once per process
  SecretBytes group = v1::derive_message_key(kGroupKey);
  v1::MessageCipher cipher{4};
  std::vector<v1::EcdhSession> sessions;  // one per curve, in Curve order

  Fixture() {
    for (v1::Curve c : {v1::Curve::kP256, v1::Curve::kP384, v1::Curve::kP521}) {
      auto s = v1::EcdhSession::generate(c);
      if (!s.ok()) finding("cannot generate a session", s.error().message());
      sessions.push_back(std::move(*s));
    }
  }
  const v1::EcdhSession& session(v1::Curve c) const {
    return sessions[static_cast<std::size_t>(c)];
  }
};

Fixture& fixture() {
  static auto* f = new Fixture;  // never destroyed: keys outlive every input
  return *f;
}

void check_channel_key(const SecretString& key, std::string_view input) {
  auto raw = secchats::base64_decode(key.view());
  if (!raw || raw->size() != 32) finding("channel key is not base64 of 32 bytes", input);
}

// --- key agreement -----------------------------------------------------------------------------

void peer_crypto_data(std::string_view crypto_data) {
  auto curve = v1::inspect_public_crypto_data(crypto_data);
  if (!curve.ok()) {
    const auto code = curve.error().code();
    if (code != secchats::ErrorCode::kInvalidArgument && code != secchats::ErrorCode::kInsecure) {
      finding("inspect failed with an unexpected error code", crypto_data);
    }
    return;
  }
  auto key = fixture().session(*curve).derive_channel_key(crypto_data);
  if (!key.ok()) finding("inspected key does not derive on its own curve", crypto_data);
  check_channel_key(*key, crypto_data);
}

void stored_session(std::string_view text) {
  auto session = v1::EcdhSession::from_session_string(text);
  if (!session.ok()) return;
  const std::string pub = session->public_crypto_data();
  auto curve = v1::inspect_public_crypto_data(pub);
  if (!curve.ok() || *curve != session->curve()) finding("own public key does not inspect", text);
  const SecretString stored = session->session_string();
  auto again = v1::EcdhSession::from_session_string(stored.view());
  if (!again.ok()) finding("own session string does not parse", text);
  if (again->public_crypto_data() != pub || again->curve() != session->curve()) {
    finding("session string round trip changed the key", text);
  }
  if (again->session_string() != stored) finding("session string is not canonical", text);
}

void session_and_peer(std::string_view rest) {
  const std::size_t nl = rest.find('\n');
  if (nl == std::string_view::npos) return;
  auto session = v1::EcdhSession::from_session_string(rest.substr(0, nl));
  if (!session.ok()) return;
  auto key = session->derive_channel_key(rest.substr(nl + 1));
  if (key.ok()) check_channel_key(*key, rest);
}

// --- messages ----------------------------------------------------------------------------------

void same_or_die(bool same, std::string_view what, std::string_view plaintext) {
  if (!same) finding(what, plaintext);
}

// Whatever interpret() read out of a message must come back unchanged when sent again.
void resend(const MessageInfo& info, std::string_view plaintext) {
  const core::Sender me{"fuzz-sender", info.from_name};
  std::optional<proto::Message> out;
  if (info.type == "TEXT") {
    out = core::make_text(me, "fuzz-chat", info.message_id, 1, info.text);
  } else if (info.type == "IMG") {
    out = core::make_image(me, "fuzz-chat", info.message_id, 1, info.image);
  } else if (info.type == "EMOJI") {
    out = core::make_reaction(me, "fuzz-chat", info.message_id, 1, info.reply_to_message_id,
                              info.emoji, "");
  } else {
    return;
  }
  const std::string wire = proto::encode(*out);
  auto decoded = proto::decode_message(wire, proto::UnknownFields::kReject);
  same_or_die(decoded.ok(), "our own Message does not decode", wire);
  auto back = core::interpret(*decoded, ChatKind::kFriend, "fuzz-chat", "fuzz-sender", 1);
  same_or_die(back.ok(), "our own Message does not interpret", wire);
  same_or_die(back->type == info.type, "type changed when sent again", plaintext);
  same_or_die(back->text == info.text, "text changed when sent again", plaintext);
  same_or_die(back->image == info.image, "image changed when sent again", plaintext);
  same_or_die(back->emoji == info.emoji, "reaction changed when sent again", plaintext);
  same_or_die(back->message_id == info.message_id, "message id changed", plaintext);
}

void inbound(std::string_view plaintext) {
  auto group = proto::decode_group(plaintext);  // a decrypted group invite
  (void)group;
  auto m = proto::decode_message(plaintext);
  if (!m.ok()) return;
  auto as_friend = core::interpret(*m, ChatKind::kFriend, "fuzz-chat", "fuzz-relay-sender", 7);
  auto as_group = core::interpret(*m, ChatKind::kGroup, "fuzz-group", "fuzz-relay-sender", 7);
  same_or_die(as_friend.ok() == as_group.ok(), "chat kind changed the outcome", plaintext);
  if (!as_friend.ok()) {
    same_or_die(as_friend.error().code() == secchats::ErrorCode::kInvalidArgument,
                "interpret failed with an unexpected error code", plaintext);
    return;
  }
  // What the relay vouched for wins over the sender's claims.
  same_or_die(as_friend->from_user_id == "fuzz-relay-sender", "sender id taken from content",
              plaintext);
  same_or_die(as_friend->server_timestamp == 7, "server timestamp taken from content", plaintext);
  resend(*as_friend, plaintext);
}

void enc_content(std::string_view text) {
  auto& f = fixture();
  auto plain = v1::aes_gcm_decrypt(f.pairwise, text);
  if (!plain.ok()) plain = v1::aes_gcm_decrypt(f.group, text);
  if (plain.ok()) inbound(*plain);
}

void plaintext_through_cipher(std::string_view plaintext) {
  auto& f = fixture();
  const std::string sealed = v1::aes_gcm_encrypt(f.pairwise, plaintext);
  auto opened = v1::aes_gcm_decrypt(f.pairwise, sealed);
  if (!opened.ok() || *opened != plaintext) finding("aes_gcm round trip failed", plaintext);
  // The cached-key path the client uses, on the same ciphertext.
  auto cached = f.cipher.decrypt(SecretString(std::string(kPairwiseKey)), sealed);
  if (!cached.ok() || *cached != plaintext) finding("MessageCipher round trip failed", plaintext);
  inbound(*opened);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fixture();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  constexpr std::string_view kTags = "ISDCPM";
  std::size_t mode = kTags.find(static_cast<char>(data[0]));
  if (mode == std::string_view::npos) mode = data[0] % kTags.size();
  switch (kTags[mode]) {
    case 'I':
      peer_crypto_data(rest);
      break;
    case 'S':
      stored_session(rest);
      break;
    case 'D':
      session_and_peer(rest);
      break;
    case 'C':
      enc_content(rest);
      break;
    case 'P':
      plaintext_through_cipher(rest);
      break;
    default:
      inbound(rest);
      break;
  }
  return 0;
}
