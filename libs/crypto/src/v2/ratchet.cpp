// Protocol v2 pairwise sessions: the symmetric X3DH-like handshake and Signal's Double
// Ratchet, with XChaCha20-Poly1305 (libsodium) as the message cipher.
#include "secchats/crypto/v2/ratchet.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <limits>
#include <optional>

#include "pairwise_internal.hpp"
#include "secchats/common/encoding.hpp"
#include "secchats/crypto/hash.hpp"

namespace secchats::crypto::v2 {
namespace {

using namespace pairwise_detail;

constexpr std::uint8_t kWireVersion = 2;
constexpr std::uint8_t kKindPairwise = 1;
constexpr std::size_t kHeaderSize = RatchetSession::kHeaderSize;
constexpr std::size_t kChainKeySize = 32;
constexpr std::size_t kAeadKeySize = crypto_aead_xchacha20poly1305_ietf_KEYBYTES;
constexpr std::size_t kAeadNonceSize = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTagSize = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr std::size_t kMaxIdSize = 255;  // ids are length-prefixed with one byte in the AD
static_assert(kAeadKeySize == 32 && kAeadNonceSize == 24 && kTagSize == 16);
static_assert(kHeaderSize == 2 + kPublicKeySize + 4 + 4);

// Every derived key has its own label, so keys for different purposes never coincide.
constexpr std::string_view kHandshakeInfo = "SecureChats v2 handshake";
constexpr std::string_view kRootInfo = "SecureChats v2 root";
constexpr std::string_view kMessageInfo = "SecureChats v2 message";

// The serialised state: magic, format version, fields, SHA-256 of everything before it.
constexpr std::string_view kStateMagic = "SC2S";
constexpr std::uint8_t kStateFormatVersion = 1;
constexpr std::size_t kSkippedEntrySize = kPublicKeySize + 4 + kChainKeySize;
constexpr std::size_t kChecksumSize = 32;
constexpr std::uint8_t kHasDhr = 1, kHasCks = 2, kHasCkr = 4;

Error decrypt_error() {
  return Error(ErrorCode::kInvalidArgument, std::string(kDecryptError));
}

Error corrupt_state(std::string_view what) {
  return Error(ErrorCode::kCorrupt, "v2 session state: " + std::string(what));
}

// The part of the state one message can change. Small, so decrypt() works on a copy and
// commits it only once the message has authenticated.
struct Chains {
  SecretBytes root_key;     // RK
  SecretBytes dhs_private;  // our current ratchet key pair (DHs)
  PublicKey dhs_public{};   //
  bool has_dhr = false;     // the friend's current ratchet key (DHr) is known
  PublicKey dhr{};          //
  SecretBytes sending;      // CKs; empty = no sending chain yet (responder before receiving)
  SecretBytes receiving;    // CKr; empty = no receiving chain yet
  std::uint32_t ns = 0;     // next message number to send
  std::uint32_t nr = 0;     // next message number expected in the receiving chain
  std::uint32_t pn = 0;     // length of our previous sending chain
};

struct SkippedKey {
  PublicKey dh;  // the friend's ratchet key of the chain it belongs to
  std::uint32_t n;
  SecretBytes message_key;
};

struct Header {
  PublicKey dh{};
  std::uint32_t pn = 0;
  std::uint32_t n = 0;
};

std::array<std::uint8_t, kHeaderSize> encode_header(const Header& h) {
  std::array<std::uint8_t, kHeaderSize> out{};
  Writer w(out);
  w.u8(kWireVersion);
  w.u8(kKindPairwise);
  w.bytes(h.dh);
  w.u32(h.pn);
  w.u32(h.n);
  return out;
}

std::optional<Header> decode_header(std::span<const std::uint8_t> bytes) {
  Reader r(bytes);
  std::uint8_t version = 0, kind = 0;
  Header h;
  if (!r.u8(version) || !r.u8(kind) || !r.bytes(h.dh) || !r.u32(h.pn) || !r.u32(h.n)) {
    return std::nullopt;
  }
  if (version != kWireVersion || kind != kKindPairwise) return std::nullopt;
  return h;
}

SecretBytes take_digest(Sha256Digest& digest) {
  SecretBytes out(std::span<const std::uint8_t>(digest.data(), digest.size()));
  secure_wipe(digest.data(), digest.size());
  return out;
}

// KDF_RK: HKDF(ikm = dh_out, salt = rk, "SecureChats v2 root", 64) -> (rk', ck).
void kdf_rk(SecretBytes& root_key, const SecretBytes& dh_out, SecretBytes& chain_key) {
  const SecretBytes both = hkdf_sha256(dh_out.span(), root_key.span(), kRootInfo, 64);
  root_key = SecretBytes(both.span().first(32));
  chain_key = SecretBytes(both.span().subspan(32, 32));
}

// KDF_CK: mk = HMAC(ck, 0x01), ck' = HMAC(ck, 0x02). Advances `chain_key` in place, so the
// message key cannot be derived again from what is kept.
SecretBytes kdf_ck(SecretBytes& chain_key) {
  static constexpr std::uint8_t kMessageByte[1] = {0x01};
  static constexpr std::uint8_t kChainByte[1] = {0x02};
  Sha256Digest mk = hmac_sha256(chain_key.span(), kMessageByte);
  Sha256Digest next = hmac_sha256(chain_key.span(), kChainByte);
  chain_key = take_digest(next);
  return take_digest(mk);
}

// AEAD associated data: the session AD (ids and identity keys) || the header.
std::vector<std::uint8_t> aead_ad(std::span<const std::uint8_t> session_ad,
                                  std::span<const std::uint8_t> header) {
  std::vector<std::uint8_t> ad(session_ad.begin(), session_ad.end());
  ad.insert(ad.end(), header.begin(), header.end());
  return ad;
}

std::string seal(const SecretBytes& message_key, std::span<const std::uint8_t> session_ad,
                 std::span<const std::uint8_t> header, std::span<const std::uint8_t> plaintext) {
  // key || nonce from the one-use message key: a nonce is never reused under a key.
  const SecretBytes key_nonce =
      hkdf_sha256(message_key.span(), {}, kMessageInfo, kAeadKeySize + kAeadNonceSize);
  const std::vector<std::uint8_t> ad = aead_ad(session_ad, header);
  std::vector<std::uint8_t> out(kHeaderSize + plaintext.size() + kTagSize);
  std::copy(header.begin(), header.end(), out.begin());
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(out.data() + kHeaderSize, &written, plaintext.data(),
                                             plaintext.size(), ad.data(), ad.size(), nullptr,
                                             key_nonce.data() + kAeadKeySize, key_nonce.data());
  if (written != plaintext.size() + kTagSize) std::abort();  // cannot happen
  return std::string(kWirePrefix) + base64_encode(out);
}

std::optional<std::vector<std::uint8_t>> open(const SecretBytes& message_key,
                                              std::span<const std::uint8_t> session_ad,
                                              std::span<const std::uint8_t> header,
                                              std::span<const std::uint8_t> ciphertext) {
  const SecretBytes key_nonce =
      hkdf_sha256(message_key.span(), {}, kMessageInfo, kAeadKeySize + kAeadNonceSize);
  const std::vector<std::uint8_t> ad = aead_ad(session_ad, header);
  std::vector<std::uint8_t> plain(ciphertext.size() - kTagSize);
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          plain.data(), &written, nullptr, ciphertext.data(), ciphertext.size(), ad.data(),
          ad.size(), key_nonce.data() + kAeadKeySize, key_nonce.data()) != 0) {
    return std::nullopt;
  }
  plain.resize(static_cast<std::size_t>(written));
  return plain;
}

// Derives the receiving chain's keys up to (not including) `until` and keeps them for
// late messages. Refuses to derive more than kMaxSkip in one go: a forged header must not
// make us do unbounded work or push every genuine skipped key out of the store.
bool skip_message_keys(Chains& w, std::uint32_t until, std::vector<SkippedKey>& fresh) {
  if (w.receiving.empty() || until <= w.nr) return true;
  if (until - w.nr > RatchetSession::kMaxSkip) return false;
  while (w.nr < until) {
    fresh.push_back(SkippedKey{w.dhr, w.nr, kdf_ck(w.receiving)});
    ++w.nr;
  }
  return true;
}

// The DH ratchet step for a new ratchet key from the friend: a receiving chain from the
// old DHs, then a fresh DHs and a sending chain from it.
bool dh_ratchet(Chains& w, const PublicKey& their_new_key) {
  w.pn = w.ns;
  w.ns = 0;
  w.nr = 0;
  w.dhr = their_new_key;
  w.has_dhr = true;
  SecretBytes shared;
  if (!x25519(w.dhs_private, w.dhr, shared)) return false;
  kdf_rk(w.root_key, shared, w.receiving);
  X25519KeyPair fresh = generate_x25519();
  w.dhs_private = std::move(fresh.private_key);
  w.dhs_public = fresh.public_key;
  if (!x25519(w.dhs_private, w.dhr, shared)) return false;
  kdf_rk(w.root_key, shared, w.sending);
  return true;
}

Status check_user_ids(std::string_view own, std::string_view peer) {
  if (own.empty() || peer.empty() || own.size() > kMaxIdSize || peer.size() > kMaxIdSize) {
    return Error(ErrorCode::kInvalidArgument, "v2 session: user ids must be 1 to 255 bytes");
  }
  if (own == peer) {
    return Error(ErrorCode::kInvalidArgument, "v2 session: the two user ids are equal");
  }
  return ok_status();
}

// AD = "SC2" || u8 len || init_id || u8 len || resp_id || IK_init || IK_resp.
std::vector<std::uint8_t> session_ad(std::string_view init_id, std::string_view resp_id,
                                     const PublicKey& ik_init, const PublicKey& ik_resp) {
  std::vector<std::uint8_t> ad(3 + 1 + init_id.size() + 1 + resp_id.size() + 2 * kPublicKeySize);
  Writer w(ad);
  w.bytes(as_bytes("SC2"));
  w.u8(static_cast<std::uint8_t>(init_id.size()));
  w.bytes(as_bytes(init_id));
  w.u8(static_cast<std::uint8_t>(resp_id.size()));
  w.bytes(as_bytes(resp_id));
  w.bytes(ik_init);
  w.bytes(ik_resp);
  return ad;
}

}  // namespace

struct RatchetSession::State {
  Role role = Role::kInitiator;
  std::string own_id;
  std::string peer_id;
  PublicKey own_ik{};
  PublicKey peer_ik{};
  std::vector<std::uint8_t> ad;  // derived from the four fields above
  Chains chains;
  std::deque<SkippedKey> skipped;  // oldest first

  void derive_role_and_ad() {
    role = own_id < peer_id ? Role::kInitiator : Role::kResponder;
    ad = role == Role::kInitiator ? session_ad(own_id, peer_id, own_ik, peer_ik)
                                  : session_ad(peer_id, own_id, peer_ik, own_ik);
  }
};

RatchetSession::RatchetSession(std::unique_ptr<State> state) : state_(std::move(state)) {}
RatchetSession::RatchetSession(RatchetSession&&) noexcept = default;
RatchetSession& RatchetSession::operator=(RatchetSession&&) noexcept = default;
RatchetSession::~RatchetSession() = default;

Result<RatchetSession> RatchetSession::create(std::string_view own_user_id,
                                              const IdentityKeyPair& own_identity,
                                              const SignedPrekey& own_prekey,
                                              std::string_view peer_user_id,
                                              const Bundle& peer_bundle) {
  SC_TRY(check_user_ids(own_user_id, peer_user_id));
  if (!verify_prekey_signature(own_identity.public_key(), own_prekey.public_key(),
                               own_prekey.signature())) {
    return Error(ErrorCode::kInvalidArgument,
                 "v2 session: our signed prekey is not signed by our identity key");
  }
  SC_TRY(verify_bundle(peer_bundle));
  PublicKey peer_ik_x{};
  if (!identity_public_to_x25519(peer_bundle.ik, peer_ik_x)) {
    return Error(ErrorCode::kInsecure, "invalid v2 key bundle");  // verify_bundle checked it
  }
  const SecretBytes own_ik_x = identity_secret_to_x25519(own_identity.secret_key_);

  auto state = std::make_unique<State>();
  state->own_id = std::string(own_user_id);
  state->peer_id = std::string(peer_user_id);
  state->own_ik = own_identity.public_key();
  state->peer_ik = peer_bundle.ik;
  state->derive_role_and_ad();
  const bool initiator = state->role == Role::kInitiator;

  // DH1 = X25519(IKx_init, SPK_resp), DH2 = X25519(SPK_init, IKx_resp),
  // DH3 = X25519(SPK_init, SPK_resp), each computed with our own private halves.
  SecretBytes dh1, dh2, dh3;
  const bool agreed = initiator ? x25519(own_ik_x, peer_bundle.spk, dh1) &&
                                      x25519(own_prekey.private_key_, peer_ik_x, dh2) &&
                                      x25519(own_prekey.private_key_, peer_bundle.spk, dh3)
                                : x25519(own_prekey.private_key_, peer_ik_x, dh1) &&
                                      x25519(own_ik_x, peer_bundle.spk, dh2) &&
                                      x25519(own_prekey.private_key_, peer_bundle.spk, dh3);
  if (!agreed) return Error(ErrorCode::kInsecure, "v2 session: key agreement failed");
  SecretBytes ikm(3 * crypto_scalarmult_BYTES);
  Writer w(std::span<std::uint8_t>(ikm.data(), ikm.size()));
  w.bytes(dh1.span());
  w.bytes(dh2.span());
  w.bytes(dh3.span());
  SecretBytes shared_key = hkdf_sha256(ikm.span(), {}, kHandshakeInfo, 32);

  Chains& c = state->chains;
  if (initiator) {
    // Alice: the friend's SPK is the first ratchet key; a fresh DHs starts our sending chain.
    X25519KeyPair first = generate_x25519();
    c.dhs_private = std::move(first.private_key);
    c.dhs_public = first.public_key;
    c.has_dhr = true;
    c.dhr = peer_bundle.spk;
    SecretBytes dh_out;
    if (!x25519(c.dhs_private, c.dhr, dh_out)) {
      return Error(ErrorCode::kInsecure, "v2 session: key agreement failed");
    }
    c.root_key = std::move(shared_key);
    kdf_rk(c.root_key, dh_out, c.sending);
  } else {
    // Bob: our SPK is our first ratchet key; no chain until Alice's first message arrives.
    c.dhs_private = own_prekey.private_key_;
    c.dhs_public = own_prekey.public_key();
    c.root_key = std::move(shared_key);
  }
  return RatchetSession(std::move(state));
}

Role RatchetSession::role() const {
  return state_->role;
}
const std::string& RatchetSession::own_user_id() const {
  return state_->own_id;
}
const std::string& RatchetSession::peer_user_id() const {
  return state_->peer_id;
}
const PublicKey& RatchetSession::peer_identity_key() const {
  return state_->peer_ik;
}
bool RatchetSession::can_send() const {
  return !state_->chains.sending.empty();
}
std::size_t RatchetSession::skipped_key_count() const {
  return state_->skipped.size();
}

Result<std::string> RatchetSession::encrypt(std::string_view plaintext) {
  return encrypt(as_bytes(plaintext));
}

Result<std::string> RatchetSession::encrypt(std::span<const std::uint8_t> plaintext) {
  Chains& c = state_->chains;
  if (c.sending.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "v2 session cannot send before it has received the friend's first v2 message");
  }
  // N is a u32 on the wire; the receiver refuses the maximum, so the chain stops before it.
  if (c.ns == std::numeric_limits<std::uint32_t>::max()) {
    return Error(ErrorCode::kInvalidArgument, "v2 session: sending chain exhausted");
  }
  const auto header = encode_header(Header{c.dhs_public, c.pn, c.ns});
  const SecretBytes message_key = kdf_ck(c.sending);
  ++c.ns;
  return seal(message_key, state_->ad, header, plaintext);
}

Result<std::vector<std::uint8_t>> RatchetSession::decrypt(std::string_view wire) {
  if (!is_v2_wire(wire)) return decrypt_error();
  const auto raw = base64_decode(wire.substr(kWirePrefix.size()));
  if (!raw || raw->size() < kHeaderSize + kTagSize) return decrypt_error();
  const std::span<const std::uint8_t> all(*raw);
  const auto header_bytes = all.first(kHeaderSize);
  const auto ciphertext = all.subspan(kHeaderSize);
  const auto header = decode_header(header_bytes);
  if (!header || header->n == std::numeric_limits<std::uint32_t>::max()) return decrypt_error();
  State& s = *state_;

  // A late message whose key was skipped earlier: the key is used once, then forgotten.
  for (auto it = s.skipped.begin(); it != s.skipped.end(); ++it) {
    if (it->n != header->n || it->dh != header->dh) continue;
    auto plain = open(it->message_key, s.ad, header_bytes, ciphertext);
    if (!plain) return decrypt_error();
    s.skipped.erase(it);
    return std::move(*plain);
  }

  // Everything else runs on a copy, committed only if the message authenticates: a forged or
  // replayed message must not advance (or break) the ratchet.
  Chains w = s.chains;
  std::vector<SkippedKey> fresh;
  if (!w.has_dhr || header->dh != w.dhr) {
    if (!skip_message_keys(w, header->pn, fresh)) return decrypt_error();
    if (!dh_ratchet(w, header->dh)) return decrypt_error();
  }
  if (!skip_message_keys(w, header->n, fresh)) return decrypt_error();
  // n < nr: that key was used (or dropped) already — a replay.
  if (w.receiving.empty() || header->n != w.nr) return decrypt_error();
  const SecretBytes message_key = kdf_ck(w.receiving);
  ++w.nr;
  auto plain = open(message_key, s.ad, header_bytes, ciphertext);
  if (!plain) return decrypt_error();

  s.chains = std::move(w);
  for (SkippedKey& k : fresh)
    s.skipped.push_back(std::move(k));
  while (s.skipped.size() > kMaxStoredSkippedKeys) {
    s.skipped.pop_front();  // the oldest: the least likely still to arrive
  }
  return std::move(*plain);
}

// ---------------------------------------------------------------------------------------------
// Serialisation:
//   "SC2S" | u8 format version (1) | u8 len | own id | u8 len | peer id | own IK | peer IK |
//   RK | DHs private | DHs public | u8 flags (1 DHr, 2 CKs, 4 CKr) | DHr | CKs | CKr
//   (absent ones as zeros) | u32 Ns | u32 Nr | u32 PN | u32 count |
//   count x (DH | u32 N | message key) oldest first | SHA-256 of all the above.
// The checksum makes a damaged blob fail here, loudly, instead of restoring a session that
// silently stops decrypting (or derives wrong keys) later.

SecretBytes RatchetSession::serialize() const {
  const State& s = *state_;
  const Chains& c = s.chains;
  const std::size_t size = kStateMagic.size() + 1 + 1 + s.own_id.size() + 1 + s.peer_id.size() +
                           2 * kPublicKeySize + kChainKeySize + 32 + kPublicKeySize + 1 +
                           kPublicKeySize + 2 * kChainKeySize + 3 * 4 + 4 +
                           s.skipped.size() * kSkippedEntrySize + kChecksumSize;
  static_assert(kChainKeySize == kPublicKeySize);  // kZeros stands in for either
  static const std::array<std::uint8_t, kChainKeySize> kZeros{};
  SecretBytes out(size);
  Writer w(std::span<std::uint8_t>(out.data(), out.size()));
  w.bytes(as_bytes(kStateMagic));
  w.u8(kStateFormatVersion);
  w.u8(static_cast<std::uint8_t>(s.own_id.size()));
  w.bytes(as_bytes(s.own_id));
  w.u8(static_cast<std::uint8_t>(s.peer_id.size()));
  w.bytes(as_bytes(s.peer_id));
  w.bytes(s.own_ik);
  w.bytes(s.peer_ik);
  w.bytes(c.root_key.span());
  w.bytes(c.dhs_private.span());
  w.bytes(c.dhs_public);
  w.u8(static_cast<std::uint8_t>((c.has_dhr ? kHasDhr : 0) | (c.sending.empty() ? 0 : kHasCks) |
                                 (c.receiving.empty() ? 0 : kHasCkr)));
  w.bytes(c.has_dhr ? std::span<const std::uint8_t>(c.dhr) : kZeros);
  w.bytes(c.sending.empty() ? std::span<const std::uint8_t>(kZeros) : c.sending.span());
  w.bytes(c.receiving.empty() ? std::span<const std::uint8_t>(kZeros) : c.receiving.span());
  w.u32(c.ns);
  w.u32(c.nr);
  w.u32(c.pn);
  w.u32(static_cast<std::uint32_t>(s.skipped.size()));
  for (const SkippedKey& k : s.skipped) {
    w.bytes(k.dh);
    w.u32(k.n);
    w.bytes(k.message_key.span());
  }
  const Sha256Digest checksum =
      sha256(std::span<const std::uint8_t>(out.data(), size - kChecksumSize));
  w.bytes(checksum);
  if (w.position() != size) std::abort();  // the size computation above is wrong
  return out;
}

Result<RatchetSession> RatchetSession::deserialize(const SecretBytes& blob) {
  const std::span<const std::uint8_t> all = blob.span();
  if (all.size() < kStateMagic.size() + 1 + kChecksumSize ||
      !std::equal(kStateMagic.begin(), kStateMagic.end(), all.begin())) {
    return corrupt_state("not a session state");
  }
  if (all[kStateMagic.size()] != kStateFormatVersion) {
    return corrupt_state("unsupported format version " +
                         std::to_string(static_cast<int>(all[kStateMagic.size()])));
  }
  const auto body = all.first(all.size() - kChecksumSize);
  const Sha256Digest expected = sha256(body);
  if (!constant_time_equal(expected, all.last(kChecksumSize))) {
    return corrupt_state("checksum mismatch");
  }

  auto state = std::make_unique<State>();
  State& s = *state;
  Chains& c = s.chains;
  Reader r(body);
  std::span<const std::uint8_t> magic;
  std::uint8_t version = 0, own_len = 0, peer_len = 0, flags = 0;
  std::span<const std::uint8_t> own_id, peer_id;
  c.root_key = SecretBytes(kChainKeySize);
  c.dhs_private = SecretBytes(32);
  SecretBytes cks(kChainKeySize), ckr(kChainKeySize);
  std::uint32_t count = 0;
  const auto secret_span = [](SecretBytes& b) {
    return std::span<std::uint8_t>(b.data(), b.size());
  };
  if (!r.take(kStateMagic.size(), magic) || !r.u8(version) || !r.u8(own_len) ||
      !r.take(own_len, own_id) || !r.u8(peer_len) || !r.take(peer_len, peer_id) ||
      !r.bytes(s.own_ik) || !r.bytes(s.peer_ik) || !r.bytes(secret_span(c.root_key)) ||
      !r.bytes(secret_span(c.dhs_private)) || !r.bytes(c.dhs_public) || !r.u8(flags) ||
      !r.bytes(c.dhr) || !r.bytes(secret_span(cks)) || !r.bytes(secret_span(ckr)) || !r.u32(c.ns) ||
      !r.u32(c.nr) || !r.u32(c.pn) || !r.u32(count)) {
    return corrupt_state("truncated");
  }
  s.own_id.assign(own_id.begin(), own_id.end());
  s.peer_id.assign(peer_id.begin(), peer_id.end());
  if (!check_user_ids(s.own_id, s.peer_id).ok()) return corrupt_state("bad user ids");
  if ((flags & ~(kHasDhr | kHasCks | kHasCkr)) != 0) return corrupt_state("unknown flags");
  c.has_dhr = (flags & kHasDhr) != 0;
  // Both chains exist only once the friend's ratchet key is known.
  if (!c.has_dhr && (flags & (kHasCks | kHasCkr)) != 0) return corrupt_state("inconsistent chains");
  if ((flags & kHasCks) != 0) c.sending = std::move(cks);
  if ((flags & kHasCkr) != 0) c.receiving = std::move(ckr);
  if (x25519_public(c.dhs_private) != c.dhs_public) {
    return corrupt_state("ratchet key pair does not match");
  }
  if (count > kMaxStoredSkippedKeys || r.remaining() != count * kSkippedEntrySize) {
    return corrupt_state("bad skipped key count");
  }
  for (std::uint32_t i = 0; i < count; ++i) {
    SkippedKey k{{}, 0, SecretBytes(kChainKeySize)};
    if (!r.bytes(k.dh) || !r.u32(k.n) || !r.bytes(secret_span(k.message_key))) {
      return corrupt_state("truncated");  // unreachable: the length was checked
    }
    s.skipped.push_back(std::move(k));
  }
  s.derive_role_and_ad();
  return RatchetSession(std::move(state));
}

}  // namespace secchats::crypto::v2
