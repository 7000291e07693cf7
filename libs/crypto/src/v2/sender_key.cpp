// Protocol v2 group sender keys and the QR bootstrap (docs/protocol-v2.md, "Groups v2"),
// on libsodium (Ed25519, XChaCha20-Poly1305-IETF) and our HMAC/HKDF-SHA256.
#include "secchats/crypto/v2/sender_key.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <optional>
#include <utility>

#include "secchats/common/encoding.hpp"
#include "secchats/crypto/hash.hpp"
#include "secchats/crypto/random.hpp"
#include "secchats/crypto/v2/padding.hpp"
#include "secchats/crypto/v2/wire.hpp"

namespace secchats::crypto::v2 {
namespace {

constexpr std::uint8_t kWireVersion = 2;
constexpr std::uint8_t kKindGroupMessage = 2;
constexpr std::uint8_t kKindQrAnnouncement = 3;
constexpr std::size_t kHeaderSize = 18;
constexpr std::size_t kKeySize = 32;
constexpr std::size_t kAeadKeySize = crypto_aead_xchacha20poly1305_ietf_KEYBYTES;
constexpr std::size_t kNonceSize = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTagSize = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr std::size_t kSignatureSize = crypto_sign_BYTES;
constexpr std::size_t kSigningSecretSize = crypto_sign_SECRETKEYBYTES;
constexpr std::size_t kSeedSize = crypto_sign_SEEDBYTES;
constexpr std::size_t kQrHeaderSize = 2 + kNonceSize;

static_assert(kAeadKeySize == 32 && kNonceSize == 24 && kTagSize == 16);
static_assert(kSignatureSize == 64 && kSigningSecretSize == 64 && kSeedSize == 32);
static_assert(crypto_sign_PUBLICKEYBYTES == 32);

// Labels (docs/protocol-v2.md, "KDF labels and domain separation").
constexpr std::string_view kMessageKeyInfo = "SecureChats v2 group message";
constexpr std::string_view kMessageAdLabel = "SC2G";
constexpr std::string_view kMessageSigLabel = "SC2G-SIG";
constexpr std::string_view kQrBootstrapInfo = "SecureChats v2 qr bootstrap";
constexpr std::string_view kQrAdLabel = "SC2-QRB";
constexpr std::string_view kQrSigLabel = "SC2-QRB-SIG";

// Serialised forms.
constexpr std::uint8_t kDistributionFormat = 1;
// State blobs: "SC2K" || u8 format 1 || u8 type || fields || SHA-256 of all before it. The
// checksum makes a damaged blob fail on loading instead of restoring a key that silently
// stops working.
constexpr std::string_view kBlobMagic = "SC2K";
constexpr std::uint8_t kBlobFormat = 1;
constexpr std::uint8_t kBlobOwn = 1;
constexpr std::uint8_t kBlobReceived = 2;
constexpr std::size_t kBlobChecksumSize = 32;
constexpr std::size_t kBlobPrefixSize = 4 + 2;

constexpr std::string_view kUndecryptable = "message could not be decrypted";

Error undecryptable() {
  return Error(ErrorCode::kInvalidArgument, std::string(kUndecryptable));
}

Error corrupt_state() {
  return Error(ErrorCode::kCorrupt, "sender key state is corrupt");
}

Error bad_distribution() {
  return Error(ErrorCode::kInvalidArgument, "malformed sender key distribution");
}

bool sodium_ready() {
  static std::once_flag once;
  static bool ready = false;
  std::call_once(once, [] { ready = sodium_init() >= 0; });
  return ready;
}

Error sodium_unavailable() {
  return Error(ErrorCode::kInternal, "libsodium initialisation failed");
}

bool valid_id(std::string_view id) {
  return !id.empty() && id.size() <= kMaxGroupIdSize;
}

// A public key we are willing to verify with: a canonical point of the prime-order subgroup
// (libsodium's conversion to X25519 checks exactly that, and refuses small-order points).
bool valid_signing_public_key(const SigningPublicKey& key) {
  std::uint8_t x25519[crypto_scalarmult_curve25519_BYTES];
  return crypto_sign_ed25519_pk_to_curve25519(x25519, key.data()) == 0;
}

std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// ---------------------------------------------------------------------------------------------
// Byte writing and reading. The writer reserves its final size up front, so a buffer holding
// secrets is never reallocated (which would leave an unwiped copy behind).

class Writer {
 public:
  explicit Writer(std::size_t capacity) { out_.reserve(capacity); }
  ~Writer() { secure_wipe(out_); }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  void u8(std::uint8_t v) { out_.push_back(v); }
  void u16(std::uint16_t v) {
    u8(static_cast<std::uint8_t>(v >> 8));
    u8(static_cast<std::uint8_t>(v));
  }
  void u32(std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8)
      u8(static_cast<std::uint8_t>(v >> shift));
  }
  void bytes(std::span<const std::uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void bytes(std::string_view s) { bytes(as_bytes(s)); }
  // u8 length || bytes; the caller has checked the length fits.
  void short_string(std::string_view s) {
    u8(static_cast<std::uint8_t>(s.size()));
    bytes(s);
  }

  std::span<const std::uint8_t> view() const { return out_; }
  std::size_t size() const { return out_.size(); }
  SecretBytes take_secret() const { return SecretBytes(out_.data(), out_.size()); }
  // Appends SHA-256 of everything written so far (the capacity must include it).
  void checksum() {
    const auto digest = sha256(std::span<const std::uint8_t>(out_));
    bytes(digest);
  }
  std::vector<std::uint8_t> take_public() {
    std::vector<std::uint8_t> out;
    out.swap(out_);
    return out;
  }

 private:
  std::vector<std::uint8_t> out_;
};

class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> in) : in_(in) {}

  bool ok() const { return ok_; }
  bool at_end() const { return ok_ && pos_ == in_.size(); }
  std::size_t remaining() const { return in_.size() - pos_; }

  std::uint8_t u8() {
    if (!need(1)) return 0;
    return in_[pos_++];
  }
  std::uint16_t u16() {
    std::uint16_t hi = u8();
    return static_cast<std::uint16_t>((hi << 8) | u8());
  }
  std::uint32_t u32() {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i)
      v = (v << 8) | u8();
    return v;
  }
  std::span<const std::uint8_t> bytes(std::size_t n) {
    if (!need(n)) return {};
    auto out = in_.subspan(pos_, n);
    pos_ += n;
    return out;
  }
  template <std::size_t N>
  std::array<std::uint8_t, N> array() {
    std::array<std::uint8_t, N> out{};
    auto b = bytes(N);
    if (ok_) std::copy(b.begin(), b.end(), out.begin());
    return out;
  }
  SecretBytes secret(std::size_t n) {
    auto b = bytes(n);
    return ok_ ? SecretBytes(b) : SecretBytes();
  }
  std::string short_string() {
    std::size_t n = u8();
    auto b = bytes(n);
    return ok_ ? std::string(reinterpret_cast<const char*>(b.data()), b.size()) : std::string();
  }

 private:
  bool need(std::size_t n) {
    if (!ok_ || in_.size() - pos_ < n) {
      ok_ = false;
      return false;
    }
    return true;
  }
  std::span<const std::uint8_t> in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

// ---------------------------------------------------------------------------------------------
// The symmetric chain and the per-message cipher.

struct ChainStep {
  SecretBytes message_key;     // HMAC(ck, 0x01)
  SecretBytes next_chain_key;  // HMAC(ck, 0x02)
};

ChainStep chain_step(const SecretBytes& chain_key) {
  static constexpr std::uint8_t kMessageByte = 0x01;
  static constexpr std::uint8_t kChainByte = 0x02;
  auto mk = hmac_sha256(chain_key.span(), std::span<const std::uint8_t>(&kMessageByte, 1));
  auto ck = hmac_sha256(chain_key.span(), std::span<const std::uint8_t>(&kChainByte, 1));
  ChainStep step{SecretBytes(mk.data(), mk.size()), SecretBytes(ck.data(), ck.size())};
  secure_wipe(mk.data(), mk.size());
  secure_wipe(ck.data(), ck.size());
  return step;
}

// key(32) || nonce(24). The nonce is derived, not random: each message key is used once.
SecretBytes message_cipher_material(const SecretBytes& message_key) {
  return hkdf_sha256(message_key.span(), {}, kMessageKeyInfo, kAeadKeySize + kNonceSize);
}

using Header = std::array<std::uint8_t, kHeaderSize>;

Header make_header(const SenderKeyId& key_id, std::uint32_t epoch, std::uint32_t iteration) {
  Writer w(kHeaderSize);
  w.u8(kWireVersion);
  w.u8(kKindGroupMessage);
  w.bytes(key_id);
  w.u32(epoch);
  w.u32(iteration);
  Header h{};
  std::copy(w.view().begin(), w.view().end(), h.begin());
  return h;
}

std::vector<std::uint8_t> message_ad(std::string_view group_id,
                                     std::span<const std::uint8_t> header) {
  Writer w(kMessageAdLabel.size() + 1 + group_id.size() + header.size());
  w.bytes(kMessageAdLabel);
  w.short_string(group_id);
  w.bytes(header);
  return w.take_public();
}

std::vector<std::uint8_t> message_signed_data(std::string_view group_id,
                                              std::span<const std::uint8_t> header,
                                              std::span<const std::uint8_t> ciphertext) {
  Writer w(kMessageSigLabel.size() + 1 + group_id.size() + header.size() + ciphertext.size());
  w.bytes(kMessageSigLabel);
  w.short_string(group_id);
  w.bytes(header);
  w.bytes(ciphertext);
  return w.take_public();
}

// "sc2:" + base64(...) -> the bytes, or nothing.
std::optional<std::vector<std::uint8_t>> decode_wire(std::string_view wire) {
  if (!wire.starts_with(kWirePrefix)) return std::nullopt;
  return base64_decode(wire.substr(kWirePrefix.size()));
}

std::string encode_wire(std::span<const std::uint8_t> body) {
  return std::string(kWirePrefix) + base64_encode(body);
}

struct ParsedHeader {
  std::uint8_t version = 0;
  std::uint8_t kind = 0;
  SenderKeyId key_id{};
  std::uint32_t epoch = 0;
  std::uint32_t iteration = 0;
};

ParsedHeader parse_header(std::span<const std::uint8_t> header) {
  Reader r(header);
  ParsedHeader h;
  h.version = r.u8();
  h.kind = r.u8();
  h.key_id = r.array<8>();
  h.epoch = r.u32();
  h.iteration = r.u32();
  return h;
}

constexpr std::size_t kMinGroupBody = kHeaderSize + kTagSize + kSignatureSize;

std::size_t distribution_size(std::string_view group_id) {
  return 2 + group_id.size() + 4 + 4 + kKeySize + 32;
}

SecretBytes qr_bootstrap_key_from_bytes(std::span<const std::uint8_t> secret,
                                        std::string_view group_id) {
  std::string info(kQrBootstrapInfo);
  info.append(group_id);
  return hkdf_sha256(secret, {}, info, kAeadKeySize);
}

std::vector<std::uint8_t> qr_ad(std::string_view group_id) {
  Writer w(kQrAdLabel.size() + 1 + group_id.size() + 2);
  w.bytes(kQrAdLabel);
  w.short_string(group_id);
  w.u8(kWireVersion);
  w.u8(kKindQrAnnouncement);
  return w.take_public();
}

std::vector<std::uint8_t> qr_signed_data(std::string_view group_id,
                                         std::span<const std::uint8_t> content) {
  Writer w(kQrSigLabel.size() + 1 + group_id.size() + content.size());
  w.bytes(kQrSigLabel);
  w.short_string(group_id);
  w.bytes(content);
  return w.take_public();
}

void begin_blob(Writer& w, std::uint8_t type) {
  w.bytes(kBlobMagic);
  w.u8(kBlobFormat);
  w.u8(type);
}

// The fields of a state blob of `type` (after the prefix, before the checksum), or nothing
// if the magic, format, type or checksum is wrong.
std::optional<std::span<const std::uint8_t>> open_blob(std::span<const std::uint8_t> blob,
                                                       std::uint8_t type) {
  if (blob.size() < kBlobPrefixSize + kBlobChecksumSize) return std::nullopt;
  const auto body = blob.first(blob.size() - kBlobChecksumSize);
  if (!std::equal(kBlobMagic.begin(), kBlobMagic.end(), body.begin()) || body[4] != kBlobFormat ||
      body[5] != type) {
    return std::nullopt;
  }
  const auto digest = sha256(body);
  if (!constant_time_equal(digest, blob.last(kBlobChecksumSize))) return std::nullopt;
  return body.subspan(kBlobPrefixSize);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Distributions and routing.

SenderKeyId sender_key_id(const SigningPublicKey& signing_public_key) {
  auto digest = sha256(std::span<const std::uint8_t>(signing_public_key));
  SenderKeyId id{};
  std::copy_n(digest.begin(), id.size(), id.begin());
  return id;
}

Result<SecretBytes> serialize_distribution(const SenderKeyDistribution& d) {
  if (!valid_id(d.group_id) || d.chain_key.size() != kKeySize) return bad_distribution();
  Writer w(distribution_size(d.group_id));
  w.u8(kDistributionFormat);
  w.short_string(d.group_id);
  w.u32(d.epoch);
  w.u32(d.iteration);
  w.bytes(d.chain_key.span());
  w.bytes(d.signing_public_key);
  return w.take_secret();
}

Result<SenderKeyDistribution> parse_distribution(std::span<const std::uint8_t> bytes) {
  if (!sodium_ready()) return sodium_unavailable();
  Reader r(bytes);
  if (r.u8() != kDistributionFormat) return bad_distribution();
  SenderKeyDistribution d;
  d.group_id = r.short_string();
  d.epoch = r.u32();
  d.iteration = r.u32();
  d.chain_key = r.secret(kKeySize);
  d.signing_public_key = r.array<32>();
  if (!r.at_end() || !valid_id(d.group_id) || !valid_signing_public_key(d.signing_public_key)) {
    return bad_distribution();
  }
  d.key_id = sender_key_id(d.signing_public_key);
  return d;
}

Result<GroupWireHeader> peek_group_wire(std::string_view wire) {
  auto body = decode_wire(wire);
  if (!body || body->size() < kMinGroupBody) return undecryptable();
  auto h = parse_header(std::span<const std::uint8_t>(*body).first(kHeaderSize));
  if (h.version != kWireVersion || h.kind != kKindGroupMessage) return undecryptable();
  return GroupWireHeader{h.key_id, h.epoch, h.iteration};
}

bool is_qr_announcement_wire(std::string_view wire) {
  // Only the first base64 quantum is needed: 4 characters -> 3 bytes.
  if (!wire.starts_with(kWirePrefix) || wire.size() < kWirePrefix.size() + 4) return false;
  auto first = base64_decode(wire.substr(kWirePrefix.size(), 4));
  return first && first->size() == 3 && (*first)[0] == kWireVersion &&
         (*first)[1] == kKindQrAnnouncement;
}

// ---------------------------------------------------------------------------------------------
// SenderKeyState

Result<SenderKeyState> SenderKeyState::generate(std::string_view group_id, std::uint32_t epoch) {
  if (!valid_id(group_id)) {
    return Error(ErrorCode::kInvalidArgument, "group id must be 1 to 255 bytes");
  }
  if (!sodium_ready()) return sodium_unavailable();
  SenderKeyState s;
  s.group_id_ = std::string(group_id);
  s.epoch_ = epoch;
  s.iteration_ = 0;
  s.chain_key_ = random_secret(kKeySize);
  SecretBytes seed = random_secret(kSeedSize);
  s.signing_secret_ = SecretBytes(kSigningSecretSize);
  crypto_sign_seed_keypair(s.signing_public_key_.data(), s.signing_secret_.data(), seed.data());
  return s;
}

std::vector<std::uint8_t> SenderKeyState::sign(std::span<const std::uint8_t> message) const {
  std::vector<std::uint8_t> signature(kSignatureSize);
  crypto_sign_detached(signature.data(), nullptr, message.data(), message.size(),
                       signing_secret_.data());
  return signature;
}

Result<std::string> SenderKeyState::encrypt(std::span<const std::uint8_t> plaintext) {
  if (iteration_ == std::numeric_limits<std::uint32_t>::max()) {
    return Error(ErrorCode::kInvalidArgument, "sender key is used up; start a new epoch");
  }
  ChainStep step = chain_step(chain_key_);
  SecretBytes material = message_cipher_material(step.message_key);
  const Header header = make_header(key_id(), epoch_, iteration_);
  const auto ad = message_ad(group_id_, header);

  std::vector<std::uint8_t> padded = pad(plaintext);
  std::vector<std::uint8_t> body(kHeaderSize + padded.size() + kTagSize + kSignatureSize);
  std::copy(header.begin(), header.end(), body.begin());
  unsigned long long ciphertext_len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      body.data() + kHeaderSize, &ciphertext_len, padded.data(), padded.size(), ad.data(),
      ad.size(), nullptr, material.data() + kAeadKeySize, material.data());
  secure_wipe(padded);
  auto ciphertext = std::span<const std::uint8_t>(body).subspan(kHeaderSize, ciphertext_len);
  const auto signature = sign(message_signed_data(group_id_, header, ciphertext));
  std::copy(signature.begin(), signature.end(), body.begin() + kHeaderSize + ciphertext_len);

  chain_key_ = std::move(step.next_chain_key);
  ++iteration_;
  return encode_wire(body);
}

Result<std::string> SenderKeyState::encrypt(std::string_view plaintext) {
  return encrypt(as_bytes(plaintext));
}

SenderKeyDistribution SenderKeyState::distribution() const {
  SenderKeyDistribution d;
  d.group_id = group_id_;
  d.epoch = epoch_;
  d.chain_key = chain_key_;
  d.iteration = iteration_;
  d.signing_public_key = signing_public_key_;
  d.key_id = key_id();
  return d;
}

SecretBytes SenderKeyState::serialize() const {
  Writer w(kBlobPrefixSize + 1 + group_id_.size() + 4 + 4 + kKeySize + kSeedSize +
           kBlobChecksumSize);
  begin_blob(w, kBlobOwn);
  w.short_string(group_id_);
  w.u32(epoch_);
  w.u32(iteration_);
  w.bytes(chain_key_.span());
  w.bytes(signing_secret_.span().first(kSeedSize));  // libsodium's secret key = seed || public
  w.checksum();
  return w.take_secret();
}

Result<SenderKeyState> SenderKeyState::deserialize(std::span<const std::uint8_t> blob) {
  if (!sodium_ready()) return sodium_unavailable();
  const auto fields = open_blob(blob, kBlobOwn);
  if (!fields) return corrupt_state();
  Reader r(*fields);
  SenderKeyState s;
  s.group_id_ = r.short_string();
  s.epoch_ = r.u32();
  s.iteration_ = r.u32();
  s.chain_key_ = r.secret(kKeySize);
  SecretBytes seed = r.secret(kSeedSize);
  if (!r.at_end() || !valid_id(s.group_id_)) return corrupt_state();
  s.signing_secret_ = SecretBytes(kSigningSecretSize);
  crypto_sign_seed_keypair(s.signing_public_key_.data(), s.signing_secret_.data(), seed.data());
  return s;
}

// ---------------------------------------------------------------------------------------------
// ReceivedSenderKey

Result<ReceivedSenderKey> ReceivedSenderKey::from_distribution(const SenderKeyDistribution& d) {
  if (!sodium_ready()) return sodium_unavailable();
  if (!valid_id(d.group_id) || d.chain_key.size() != kKeySize ||
      !valid_signing_public_key(d.signing_public_key) ||
      d.key_id != sender_key_id(d.signing_public_key) ||
      d.iteration == std::numeric_limits<std::uint32_t>::max()) {
    return bad_distribution();
  }
  ReceivedSenderKey k;
  k.group_id_ = d.group_id;
  k.epoch_ = d.epoch;
  k.signing_public_key_ = d.signing_public_key;
  k.next_iteration_ = d.iteration;
  k.chain_key_ = d.chain_key;
  return k;
}

Result<std::vector<std::uint8_t>> ReceivedSenderKey::decrypt(std::string_view group_id,
                                                             std::string_view wire) {
  if (group_id != group_id_) return undecryptable();
  auto decoded = decode_wire(wire);
  if (!decoded || decoded->size() < kMinGroupBody) return undecryptable();
  const std::span<const std::uint8_t> body(*decoded);
  const auto header = body.first(kHeaderSize);
  const auto ciphertext = body.subspan(kHeaderSize, body.size() - kHeaderSize - kSignatureSize);
  const auto signature = body.last(kSignatureSize);
  const ParsedHeader h = parse_header(header);
  if (h.version != kWireVersion || h.kind != kKindGroupMessage || h.key_id != key_id() ||
      h.epoch != epoch_) {
    return undecryptable();
  }

  // The signature first: nothing below runs for a message its owner did not sign.
  const auto signed_data = message_signed_data(group_id_, header, ciphertext);
  if (crypto_sign_verify_detached(signature.data(), signed_data.data(), signed_data.size(),
                                  signing_public_key_.data()) != 0) {
    return undecryptable();
  }

  // Find the message key, working on copies: the state changes only after success.
  const std::uint32_t n = h.iteration;
  SecretBytes message_key;
  SecretBytes new_chain_key;
  std::vector<std::pair<std::uint32_t, SecretBytes>> new_skipped;
  const bool from_store = n < next_iteration_;
  if (from_store) {
    auto it = skipped_.find(n);
    if (it == skipped_.end()) return undecryptable();  // consumed already, or too old
    message_key = it->second;
  } else {
    if (n == std::numeric_limits<std::uint32_t>::max() || n - next_iteration_ > kMaxGroupSkip) {
      return undecryptable();
    }
    SecretBytes chain = chain_key_;
    new_skipped.reserve(n - next_iteration_);
    for (std::uint32_t i = next_iteration_; i < n; ++i) {
      ChainStep step = chain_step(chain);
      new_skipped.emplace_back(i, std::move(step.message_key));
      chain = std::move(step.next_chain_key);
    }
    ChainStep step = chain_step(chain);
    message_key = std::move(step.message_key);
    new_chain_key = std::move(step.next_chain_key);
  }

  SecretBytes material = message_cipher_material(message_key);
  const auto ad = message_ad(group_id_, header);
  if (ciphertext.size() < kTagSize) return undecryptable();
  std::vector<std::uint8_t> padded(ciphertext.size() - kTagSize);
  unsigned long long padded_len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          padded.data(), &padded_len, nullptr, ciphertext.data(), ciphertext.size(), ad.data(),
          ad.size(), material.data() + kAeadKeySize, material.data()) != 0) {
    return undecryptable();
  }
  auto plaintext = unpad(padded);
  secure_wipe(padded);
  if (!plaintext.ok()) return undecryptable();

  // Commit.
  if (from_store) {
    skipped_.erase(n);
  } else {
    for (auto& [iteration, key] : new_skipped)
      skipped_.emplace(iteration, std::move(key));
    while (skipped_.size() > kMaxGroupSkippedKeys)
      skipped_.erase(skipped_.begin());
    chain_key_ = std::move(new_chain_key);
    next_iteration_ = n + 1;
  }
  return std::move(plaintext).value();
}

SecretBytes ReceivedSenderKey::serialize() const {
  Writer w(kBlobPrefixSize + 1 + group_id_.size() + 4 + 32 + 4 + kKeySize + 2 +
           skipped_.size() * (4 + kKeySize) + kBlobChecksumSize);
  begin_blob(w, kBlobReceived);
  w.short_string(group_id_);
  w.u32(epoch_);
  w.bytes(signing_public_key_);
  w.u32(next_iteration_);
  w.bytes(chain_key_.span());
  w.u16(static_cast<std::uint16_t>(skipped_.size()));
  for (const auto& [iteration, key] : skipped_) {
    w.u32(iteration);
    w.bytes(key.span());
  }
  w.checksum();
  return w.take_secret();
}

Result<ReceivedSenderKey> ReceivedSenderKey::deserialize(std::span<const std::uint8_t> blob) {
  if (!sodium_ready()) return sodium_unavailable();
  const auto fields = open_blob(blob, kBlobReceived);
  if (!fields) return corrupt_state();
  Reader r(*fields);
  ReceivedSenderKey k;
  k.group_id_ = r.short_string();
  k.epoch_ = r.u32();
  k.signing_public_key_ = r.array<32>();
  k.next_iteration_ = r.u32();
  k.chain_key_ = r.secret(kKeySize);
  const std::size_t count = r.u16();
  if (!r.ok() || !valid_id(k.group_id_) || !valid_signing_public_key(k.signing_public_key_) ||
      k.next_iteration_ == std::numeric_limits<std::uint32_t>::max() ||
      count > kMaxGroupSkippedKeys || r.remaining() != count * (4 + kKeySize)) {
    return corrupt_state();
  }
  std::optional<std::uint32_t> previous;
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint32_t iteration = r.u32();
    if ((previous && iteration <= *previous) || iteration >= k.next_iteration_) {
      return corrupt_state();
    }
    previous = iteration;
    k.skipped_.emplace(iteration, r.secret(kKeySize));
  }
  if (!r.at_end()) return corrupt_state();
  return k;
}

// ---------------------------------------------------------------------------------------------
// QR bootstrap

SecretBytes derive_qr_bootstrap_key(const SecretBytes& group_secret, std::string_view group_id) {
  return qr_bootstrap_key_from_bytes(group_secret.span(), group_id);
}

Result<SecretBytes> derive_qr_bootstrap_key(const SecretString& group_key_string,
                                            std::string_view group_id) {
  auto decoded = base64_decode(group_key_string.view());
  bool canonical =
      decoded && decoded->size() == kKeySize && base64_encode(*decoded) == group_key_string.view();
  if (!canonical) {
    if (decoded) secure_wipe(*decoded);
    return Error(ErrorCode::kInvalidArgument, "group key must be base64 of 32 bytes");
  }
  SecretBytes key = qr_bootstrap_key_from_bytes(*decoded, group_id);
  secure_wipe(*decoded);
  return key;
}

Result<std::string> seal_qr_announcement(const SecretBytes& bootstrap_key,
                                         const SenderKeyState& own, std::string_view user_id) {
  if (bootstrap_key.size() != kAeadKeySize) {
    return Error(ErrorCode::kInvalidArgument, "bootstrap key must be 32 bytes");
  }
  if (!valid_id(user_id))
    return Error(ErrorCode::kInvalidArgument, "user id must be 1 to 255 bytes");
  if (!sodium_ready()) return sodium_unavailable();

  // content = u8 len || user id || distribution; plaintext = content || signature.
  SC_ASSIGN_OR_RETURN(const SecretBytes distribution, serialize_distribution(own.distribution()));
  Writer plain(1 + user_id.size() + distribution.size() + kSignatureSize);
  plain.short_string(user_id);
  plain.bytes(distribution.span());
  const auto signature = own.sign(qr_signed_data(own.group_id(), plain.view()));
  plain.bytes(signature);

  const auto ad = qr_ad(own.group_id());
  std::vector<std::uint8_t> body(kQrHeaderSize + plain.size() + kTagSize);
  body[0] = kWireVersion;
  body[1] = kKindQrAnnouncement;
  random_fill(body.data() + 2, kNonceSize);
  unsigned long long ciphertext_len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      body.data() + kQrHeaderSize, &ciphertext_len, plain.view().data(), plain.size(), ad.data(),
      ad.size(), nullptr, body.data() + 2, bootstrap_key.data());
  return encode_wire(body);
}

Result<QrAnnouncement> open_qr_announcement(const SecretBytes& bootstrap_key,
                                            std::string_view group_id, std::string_view wire) {
  if (bootstrap_key.size() != kAeadKeySize || !valid_id(group_id)) return undecryptable();
  if (!sodium_ready()) return sodium_unavailable();
  auto decoded = decode_wire(wire);
  if (!decoded || decoded->size() < kQrHeaderSize + kTagSize) return undecryptable();
  const std::span<const std::uint8_t> body(*decoded);
  if (body[0] != kWireVersion || body[1] != kKindQrAnnouncement) return undecryptable();
  const auto nonce = body.subspan(2, kNonceSize);
  const auto ciphertext = body.subspan(kQrHeaderSize);

  const auto ad = qr_ad(group_id);
  SecretBytes plain(ciphertext.size() - kTagSize);
  unsigned long long plain_len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          plain.data(), &plain_len, nullptr, ciphertext.data(), ciphertext.size(), ad.data(),
          ad.size(), nonce.data(), bootstrap_key.data()) != 0) {
    return undecryptable();
  }

  Reader r(plain.span());
  QrAnnouncement a;
  a.user_id = r.short_string();
  if (!r.ok() || !valid_id(a.user_id) || r.remaining() < kSignatureSize) return undecryptable();
  const auto distribution_bytes = r.bytes(r.remaining() - kSignatureSize);
  const auto signature = r.bytes(kSignatureSize);
  if (!r.at_end()) return undecryptable();
  auto distribution = parse_distribution(distribution_bytes);
  if (!distribution.ok() || distribution->group_id != group_id) return undecryptable();

  const auto content = plain.span().first(plain.size() - kSignatureSize);
  const auto signed_data = qr_signed_data(group_id, content);
  if (crypto_sign_verify_detached(signature.data(), signed_data.data(), signed_data.size(),
                                  distribution->signing_public_key.data()) != 0) {
    return undecryptable();
  }
  a.distribution = std::move(distribution).value();
  return a;
}

}  // namespace secchats::crypto::v2
