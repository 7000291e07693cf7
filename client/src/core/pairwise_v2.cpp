#include "pairwise_v2.hpp"

#include <algorithm>
#include <boost/json.hpp>

#include "secchats/common/clock.hpp"
#include "secchats/common/encoding.hpp"
#include "secchats/crypto/hash.hpp"
#include "secchats/crypto/random.hpp"
#include "secchats/crypto/v2/padding.hpp"
#include "secchats/crypto/v2/ratchet.hpp"
#include "secchats/crypto/v2/wire.hpp"
#include "secchats/protocol/json_codec.hpp"

namespace secchats::core {
namespace {

namespace v2 = crypto::v2;

constexpr std::size_t kBundleBytes = 2 * v2::kPublicKeySize + v2::kSignatureSize;

std::vector<std::uint8_t> bundle_bytes(const v2::Bundle& b) {
  std::vector<std::uint8_t> out;
  out.reserve(kBundleBytes);
  out.insert(out.end(), b.ik.begin(), b.ik.end());
  out.insert(out.end(), b.spk.begin(), b.spk.end());
  out.insert(out.end(), b.spk_sig.begin(), b.spk_sig.end());
  return out;
}

// The identity key inside a stored bundle; nullopt if none is stored.
std::optional<v2::PublicKey> stored_identity_key(const store::Friend& f) {
  if (f.peer_bundle.size() != kBundleBytes) return std::nullopt;
  v2::PublicKey ik{};
  std::copy_n(f.peer_bundle.begin(), ik.size(), ik.begin());
  return ik;
}

template <std::size_t N>
bool decode_fixed(const boost::json::object& o, std::string_view key,
                  std::array<std::uint8_t, N>& out) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return false;
  auto bytes = base64_decode(std::string_view(v->as_string()));
  if (!bytes || bytes->size() != N) return false;
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return true;
}

PairwiseV2::Opened warn(std::string text) {
  PairwiseV2::Opened o;
  o.warning = std::move(text);
  return o;
}

std::string undecryptable(const std::string& from) {
  return "a message from " + from + " could not be decrypted";
}

// Digits as a person types or reads them: spaces, line breaks and dashes are only grouping.
std::string without_grouping(std::string_view typed) {
  std::string out;
  for (char c : typed) {
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '-') out.push_back(c);
  }
  return out;
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

std::string encode_bundle_json(const v2::Bundle& bundle) {
  // Fixed keys and base64 values: nothing to escape.
  return "{\"v\":2,\"ik\":\"" + base64_encode(bundle.ik) + "\",\"spk\":\"" +
         base64_encode(bundle.spk) + "\",\"sig\":\"" + base64_encode(bundle.spk_sig) + "\"}";
}

Result<v2::Bundle> decode_bundle_json(std::string_view json) {
  const Error bad(ErrorCode::kInvalidArgument, "not a v2 key bundle");
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(json, ec);
  if (ec || !value.is_object()) return bad;
  const auto& o = value.as_object();
  const auto* version = o.if_contains("v");
  if (version == nullptr || !version->is_int64() || version->as_int64() != 2) return bad;
  v2::Bundle b;
  if (!decode_fixed(o, "ik", b.ik) || !decode_fixed(o, "spk", b.spk) ||
      !decode_fixed(o, "sig", b.spk_sig)) {
    return bad;
  }
  return b;
}

namespace {

// The three fields of a public ECDH value, or nothing if it is not one (classic DH has no
// curve name in front).
std::optional<std::vector<std::string>> ecdh_fields(std::string_view crypto_data) {
  auto text = base64_decode_to_string(crypto_data);
  if (!text) return std::nullopt;
  std::vector<std::string> fields;
  std::size_t start = 0;
  while (true) {
    const std::size_t colon = text->find(':', start);
    fields.push_back(text->substr(start, colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  if (fields.size() != 3 || !fields[0].starts_with("secp") || fields[1].empty()) {
    return std::nullopt;
  }
  return fields;
}

}  // namespace

std::string mark_v2_capable(std::string_view public_crypto_data) {
  auto fields = ecdh_fields(public_crypto_data);
  if (!fields) return std::string(public_crypto_data);
  return base64_encode((*fields)[0] + ":0" + (*fields)[1] + ":" + (*fields)[2]);
}

bool has_v2_marker(std::string_view crypto_data) {
  auto fields = ecdh_fields(crypto_data);
  // "0" alone would be a zero x, which BigInteger also writes so.
  return fields && (*fields)[1].size() > 1 && (*fields)[1][0] == '0';
}

// ---------------------------------------------------------------------------------------------

PairwiseV2::PairwiseV2(store::Store& store, std::string own_user_id,
                       crypto::v1::MessageCipher& cipher, v2::IdentityKeyPair identity,
                       v2::SignedPrekey prekey)
    : store_(store),
      own_user_id_(std::move(own_user_id)),
      cipher_(cipher),
      identity_(std::move(identity)),
      prekey_(std::move(prekey)),
      own_bundle_(v2::make_bundle(identity_, prekey_)) {}

Result<std::unique_ptr<PairwiseV2>> PairwiseV2::load(store::Store& store, std::string own_user_id,
                                                     crypto::v1::MessageCipher& cipher) {
  std::optional<store::OwnV2Keys> keys;
  // Read-or-create in one transaction: two processes opening an old account at once must
  // not both make keys (friends would get two different identities).
  SC_TRY(store.transaction([&]() -> Status {
    SC_ASSIGN_OR_RETURN(keys, store.own_v2_keys());
    if (keys) return ok_status();
    const auto identity = v2::IdentityKeyPair::generate();
    const auto prekey = v2::SignedPrekey::generate(identity);
    store::OwnV2Keys fresh{identity.serialize(), prekey.serialize()};
    SC_TRY(store.set_own_v2_keys(fresh));
    keys = std::move(fresh);
    return ok_status();
  }));
  SC_ASSIGN_OR_RETURN(auto identity, v2::IdentityKeyPair::deserialize(keys->identity_key));
  SC_ASSIGN_OR_RETURN(auto prekey, v2::SignedPrekey::deserialize(keys->signed_prekey));
  // The two blobs are stored separately: make sure they still belong together.
  if (!v2::verify_bundle(v2::make_bundle(identity, prekey)).ok()) {
    return Error(ErrorCode::kCorrupt, "store: the v2 prekey is not signed by the identity key");
  }
  return std::unique_ptr<PairwiseV2>(new PairwiseV2(store, std::move(own_user_id), cipher,
                                                    std::move(identity), std::move(prekey)));
}

Result<store::Friend> PairwiseV2::require_friend(std::string_view id) {
  SC_ASSIGN_OR_RETURN(auto found, store_.find_friend(id));
  if (!found) return Error(ErrorCode::kNotFound, "no such friend");
  return std::move(*found);
}

// ---------------------------------------------------------------------------------------------
// Receiving

Result<PairwiseV2::Opened> PairwiseV2::open(const std::string& from, std::string_view enc_content) {
  SC_ASSIGN_OR_RETURN(auto found, store_.find_friend(from));
  if (!found) return warn("dropped a message from a stranger");
  if (v2::is_v2_wire(enc_content)) return open_v2(std::move(*found), enc_content);
  return open_v1(std::move(*found), enc_content);
}

Result<PairwiseV2::Opened> PairwiseV2::open_v2(store::Friend f, std::string_view enc_content) {
  // The same bytes again are a copy of a message already accepted: a sender re-posting from
  // its outbox after losing the relay's answer. Dropped silently, as v1 drops a known
  // messageId (the ratchet could not open it a second time anyway).
  const auto digest = crypto::sha256(enc_content);
  SC_ASSIGN_OR_RETURN(bool seen, store_.ciphertext_seen(f.user_id, digest));
  if (seen) return Opened{};
  if (f.ratchet_state.empty()) return warn(undecryptable(f.user_id));
  auto session = v2::RatchetSession::deserialize(f.ratchet_state);
  if (!session.ok()) {
    return warn("the v2 session with " + f.user_id + " is damaged; " + undecryptable(f.user_id));
  }
  // decrypt() works on a copy of the state and the copy is stored only below, so a forged,
  // replayed or damaged message changes nothing.
  auto padded = session->decrypt(enc_content);
  if (!padded.ok()) return warn(undecryptable(f.user_id));
  auto plain = v2::unpad(*padded);
  secure_wipe(*padded);
  if (!plain.ok()) return warn(undecryptable(f.user_id));
  auto decoded = protocol::decode_message(
      std::string_view(reinterpret_cast<const char*>(plain->data()), plain->size()));
  secure_wipe(*plain);
  if (!decoded.ok()) return warn(undecryptable(f.user_id));

  // The responder answers the first v2 message it gets (the initiator's key confirmation) with
  // one of its own: the initiator then knows the channel works both ways, and the answer's
  // fresh ratchet key closes the window in which only the responder's prekey protects the
  // initiator's messages.
  const bool first = !f.v2_active;
  f.ratchet_state = session->serialize();
  f.v2_active = true;
  if (first && session->role() == v2::Role::kResponder) f.control_pending = true;
  SC_TRY(store_.update_friend_v2(f));
  SC_TRY(store_.add_seen_ciphertext(f.user_id, digest));
  if (decoded->type.value_or("") == kUpdateType) {
    // A key confirmation (content null) or group control content (section 8): never shown.
    SC_TRY(learn_nickname(f, *decoded));
    Opened out;
    if (decoded->content && !decoded->content->empty()) out.control = std::move(*decoded);
    return out;
  }
  Opened out;
  out.message = std::move(*decoded);
  return out;
}

Result<PairwiseV2::Opened> PairwiseV2::open_v1(store::Friend f, std::string_view enc_content) {
  if (f.v2_active) {
    return warn("refused a v1 message from " + f.user_id +
                ": this friend uses protocol v2, so a v1 message is a possible downgrade attack");
  }
  auto plaintext = cipher_.decrypt(f.channel_key, enc_content);
  if (!plaintext.ok()) return warn(undecryptable(f.user_id));
  auto decoded = protocol::decode_message(*plaintext);
  secure_wipe(*plaintext);
  if (!decoded.ok()) return warn("a message from " + f.user_id + " was malformed");
  if (decoded->type.value_or("") == kUpdateType) return accept_bundle(std::move(f), *decoded);
  Opened out;
  out.message = std::move(*decoded);
  return out;
}

Result<PairwiseV2::Opened> PairwiseV2::accept_bundle(store::Friend f, const protocol::Message& m) {
  const std::string refused = "refused an invalid v2 key bundle from " + f.user_id;
  const auto json = base64_decode_to_string(m.content.value_or(""));
  if (!json) return warn(refused);
  auto bundle = decode_bundle_json(*json);
  if (!bundle.ok() || !v2::verify_bundle(*bundle).ok()) return warn(refused);
  // Unknown key share (docs/protocol-v2.md §12): a bundle carrying our own identity key, or
  // one another friend already uses, cannot be this friend's.
  if (bundle->ik == own_bundle_.ik) return warn(refused + ": it carries your own identity key");
  SC_ASSIGN_OR_RETURN(auto everyone, store_.friends());
  for (const auto& other : everyone) {
    if (other.user_id != f.user_id && stored_identity_key(other) == bundle->ik) {
      return warn(refused + ": another friend uses the same identity key");
    }
  }

  std::vector<std::uint8_t> bytes = bundle_bytes(*bundle);
  // A repeat (a resend after a crash, or the relay replaying it): rebuilding the session
  // would throw away a ratchet that may already have moved.
  if (bytes == f.peer_bundle && !f.ratchet_state.empty()) {
    SC_TRY(learn_nickname(f, m));
    return Opened{};
  }
  const auto previous = stored_identity_key(f);
  const bool key_changed = previous && *previous != bundle->ik;

  auto session =
      v2::RatchetSession::create(own_user_id_, identity_, prekey_, f.user_id, bundle.value());
  if (!session.ok()) return warn(refused);
  f.peer_bundle = std::move(bytes);
  f.ratchet_state = session->serialize();
  // The initiator confirms at once so that the responder, which cannot send before it has
  // received, can start; the responder waits for that confirmation.
  f.control_pending = session->role() == v2::Role::kInitiator;
  Opened out;
  if (key_changed) {
    const bool was_verified = !f.verified_ik.empty();
    f.identity_changed = true;
    f.verified_ik.clear();
    if (was_verified) f.send_blocked = true;
    out.warning = "SECURITY: the identity key of " + f.user_id +
                  " changed, so your safety number with them is different. Someone may be "
                  "intercepting this chat: compare safety numbers again" +
                  (was_verified ? "; sending to them is blocked until you do" : "");
  }
  SC_TRY(store_.update_friend_v2(f));
  SC_TRY(learn_nickname(f, m));
  return out;
}

Status PairwiseV2::learn_nickname(const store::Friend& f, const protocol::Message& m) {
  // As for any message (COMPAT.md §5): the friend's name is what they call themselves. The
  // upgrade traffic is often the first thing a new friend sends.
  const std::string name = display_text(m.from_name.value_or(""), 64);
  if (name.empty() || name == f.nickname) return ok_status();
  return store_.set_friend_nickname(f.user_id, name);
}

// ---------------------------------------------------------------------------------------------
// Sending

Result<std::optional<std::string>> PairwiseV2::seal_v2(store::Friend& f,
                                                       const protocol::Message& m) {
  if (f.ratchet_state.empty()) return std::optional<std::string>();
  // Until the relay has taken our bundle the friend has no session with us and could open
  // nothing sealed here: stay on v1 (section 2), which they accept until they see v2 from us.
  if (!f.update_sent) return std::optional<std::string>();
  SC_ASSIGN_OR_RETURN(auto session, v2::RatchetSession::deserialize(f.ratchet_state));
  if (!session.can_send()) return std::optional<std::string>();
  std::string json = protocol::encode(m);
  std::vector<std::uint8_t> padded = v2::pad(json);
  secure_wipe(json);
  auto sealed = session.encrypt(padded);
  secure_wipe(padded);
  if (!sealed.ok()) return std::move(sealed).error();
  f.ratchet_state = session.serialize();
  SC_TRY(store_.update_friend_v2(f));
  return std::optional<std::string>(std::move(*sealed));
}

Error sending_blocked_error(std::string_view friend_id) {
  return Error(ErrorCode::kInsecure, "the identity key of " + std::string(friend_id) +
                                         " changed since you verified it; compare the new "
                                         "safety number before sending to them");
}

Result<std::string> PairwiseV2::seal(const std::string& friend_id, const protocol::Message& m) {
  std::string wire;
  // Read, advance and write back under one write lock (BEGIN IMMEDIATE): another process of
  // this account cannot encrypt from the same state in between, nor change the key under us.
  SC_TRY(store_.transaction([&]() -> Status {
    SC_ASSIGN_OR_RETURN(store::Friend f, require_friend(friend_id));
    if (f.send_blocked) {
      return sending_blocked_error(friend_id);
    }
    SC_ASSIGN_OR_RETURN(auto v2_wire, seal_v2(f, m));
    if (v2_wire) {
      wire = std::move(*v2_wire);
      return ok_status();
    }
    // No session yet, or we are the responder and the initiator's first message has not
    // arrived: v1, which the friend accepts until it has seen v2 from us.
    std::string plaintext = protocol::encode(m);
    wire = cipher_.encrypt(f.channel_key, plaintext);
    secure_wipe(plaintext);
    return ok_status();
  }));
  return wire;
}

Result<std::optional<std::string>> PairwiseV2::seal_v2_only(const std::string& friend_id,
                                                            const protocol::Message& m) {
  std::optional<std::string> wire;
  SC_TRY(store_.transaction([&]() -> Status {
    SC_ASSIGN_OR_RETURN(store::Friend f, require_friend(friend_id));
    if (f.send_blocked) {
      return sending_blocked_error(friend_id);
    }
    SC_ASSIGN_OR_RETURN(wire, seal_v2(f, m));
    return ok_status();
  }));
  return wire;
}

Result<std::optional<std::string>> PairwiseV2::seal_bundle_update(const std::string& friend_id,
                                                                  const Sender& me) {
  SC_ASSIGN_OR_RETURN(store::Friend f, require_friend(friend_id));
  if (f.update_sent) return std::optional<std::string>();
  // Never to a friend that has not shown it speaks v2 (no marker in its key exchange, no
  // bundle from it): a reference client would show our UPDATE as an empty unread chat
  // (COMPAT.md §8). If it turns out to be ours after all, its bundle brings ours.
  if (!f.peer_v2_capable && f.peer_bundle.empty()) return std::optional<std::string>();
  if (f.v2_active) {
    // They can only have gone v2 with our bundle, so it did arrive (the flag was lost to a
    // crash after posting); a v1 UPDATE now would only be refused as a downgrade.
    SC_TRY(mark_update_sent(friend_id));
    return std::optional<std::string>();
  }
  auto m = make_update(me, friend_id, crypto::random_int63(), unix_millis_now(),
                       encode_bundle_json(own_bundle_));
  std::string plaintext = protocol::encode(m);
  std::string sealed = cipher_.encrypt(f.channel_key, plaintext);
  secure_wipe(plaintext);
  return std::optional<std::string>(std::move(sealed));
}

Status PairwiseV2::mark_update_sent(const std::string& friend_id) {
  return store_.transaction([&]() -> Status {
    SC_ASSIGN_OR_RETURN(store::Friend f, require_friend(friend_id));
    f.update_sent = true;
    return store_.update_friend_v2(f);
  });
}

Result<std::optional<std::string>> PairwiseV2::seal_pending_control(const std::string& friend_id,
                                                                    const Sender& me) {
  auto m = make_update(me, friend_id, crypto::random_int63(), unix_millis_now(), std::nullopt);
  std::optional<std::string> wire;
  SC_TRY(store_.transaction([&]() -> Status {
    SC_ASSIGN_OR_RETURN(store::Friend f, require_friend(friend_id));
    // A blocked friend (their key changed after verification) gets nothing from us, not
    // even a key confirmation on the new, unverified session.
    if (!f.control_pending || f.send_blocked) return ok_status();
    SC_ASSIGN_OR_RETURN(wire, seal_v2(f, m));
    return ok_status();
  }));
  return wire;
}

Status PairwiseV2::mark_control_sent(const std::string& friend_id) {
  return store_.transaction([&]() -> Status {
    SC_ASSIGN_OR_RETURN(store::Friend f, require_friend(friend_id));
    f.control_pending = false;
    return store_.update_friend_v2(f);
  });
}

// ---------------------------------------------------------------------------------------------
// Verification

Result<v2::SafetyNumber> PairwiseV2::safety_number(const std::string& friend_id) {
  SC_ASSIGN_OR_RETURN(store::Friend f, require_friend(friend_id));
  const auto ik = stored_identity_key(f);
  if (!ik) {
    return Error(ErrorCode::kNotFound,
                 "no v2 identity key from " + friend_id +
                     " yet: safety numbers need protocol v2 (they may use a v1-only client, or "
                     "not have synced since you became friends)");
  }
  return v2::SafetyNumber::compute(own_user_id_, own_bundle_.ik, f.user_id, *ik);
}

Status PairwiseV2::mark_verified(const std::string& friend_id, std::string_view typed_or_scanned) {
  return store_.transaction([&]() -> Status {
    // The number and the key it is recorded for come from the same read, so a key that
    // changes concurrently cannot be marked verified by the old number.
    SC_ASSIGN_OR_RETURN(store::Friend f, require_friend(friend_id));
    SC_ASSIGN_OR_RETURN(v2::SafetyNumber expected, safety_number(friend_id));
    const std::string_view input = trimmed(typed_or_scanned);
    auto given = input.starts_with(v2::kSafetyQrPrefix)
                     ? v2::SafetyNumber::parse_qr_payload(input)
                     : v2::SafetyNumber::parse(without_grouping(input));
    if (!given.ok()) {
      return Error(ErrorCode::kInvalidArgument,
                   "not a safety number: expected 60 digits or a verification QR code");
    }
    if (!(*given == expected)) {
      return Error(ErrorCode::kInvalidArgument, std::string(kSafetyNumbersDoNotMatch));
    }
    f.verified_ik.assign(f.peer_bundle.begin(), f.peer_bundle.begin() + v2::kPublicKeySize);
    f.identity_changed = false;
    f.send_blocked = false;
    return store_.update_friend_v2(f);
  });
}

}  // namespace secchats::core
