// Protocol v1 cryptography exactly as the reference client does it (COMPAT.md §4–§6):
// ECDH on P-256/384/521 with the reference's text serialisation, PBKDF2-HMAC-SHA256 key
// stretching and AES-256-GCM with base64(IV | ciphertext | tag).
//
// Fenced: no OpenSSL type appears here. Key strings and private scalars are SecretString.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "secchats/common/result.hpp"
#include "secchats/common/secret.hpp"

namespace secchats::crypto::v1 {

enum class Curve { kP256, kP384, kP521 };

// "secp256r1", "secp384r1", "secp521r1" — the names inside cryptoData.
std::string_view curve_name(Curve curve);

// The curve the reference desktop client initiates on (its "512" maps to P-521).
inline constexpr Curve kDefaultCurve = Curve::kP521;

// Checks a peer's public cryptoData without deriving anything: returns its curve if it is a
// valid point on a supported curve. Classic DH values fail with ErrorCode::kInsecure and the
// message "insecure key exchange refused"; anything else malformed (bad base64, unknown
// curve, point not on the curve, the identity) fails with kInvalidArgument.
Result<Curve> inspect_public_crypto_data(std::string_view crypto_data);

// Our half of one ECDH handshake. Serialises like the reference client's private session
// (base64 of "curve:x:y:d", lowercase hex without leading zeros) so it can be stored while
// the friend request is pending. Movable; the private scalar is wiped on destruction.
class EcdhSession {
 public:
  static Result<EcdhSession> generate(Curve curve = kDefaultCurve);
  // Parses a stored private session string (also accepts the reference client's vectors).
  static Result<EcdhSession> from_session_string(std::string_view session_string);

  EcdhSession(EcdhSession&&) noexcept;
  EcdhSession& operator=(EcdhSession&&) noexcept;
  ~EcdhSession();

  Curve curve() const;
  // What goes on the wire in FriendRequest/FriendResponse.cryptoData: base64("curve:x:y").
  std::string public_crypto_data() const;
  // base64("curve:x:y:d"): keep only in the encrypted store.
  SecretString session_string() const;

  // The channel key string ("privateEncKey"): base64(SHA-256(shared x, fixed length)).
  // The peer must be on the same curve (kInvalidArgument otherwise); classic DH → kInsecure.
  Result<SecretString> derive_channel_key(std::string_view peer_crypto_data) const;

 private:
  struct Impl;
  explicit EcdhSession(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// PBKDF2-HMAC-SHA256(password = UTF-8 key string, salt = "SecureChat", 100000 iterations,
// 32 bytes). Slow on purpose (tens of ms): callers use MessageCipher, which caches it.
SecretBytes derive_message_key(std::string_view key_string);

// AES-256-GCM with a fresh 12-byte IV, no associated data; returns base64(IV | ct | tag).
std::string aes_gcm_encrypt(const SecretBytes& key, std::string_view plaintext);
// Inverse of aes_gcm_encrypt. Any failure (bad base64, too short, tag mismatch) is
// kInvalidArgument with the same message, so callers cannot be used as an oracle.
Result<std::string> aes_gcm_decrypt(const SecretBytes& key, std::string_view enc_content);

// Encrypts and decrypts v1 content under a key string, deriving each key string's AES key
// once (PBKDF2 per key string, never per message). Thread-safe. The cache is bounded; the
// least recently used entry is dropped past `capacity` key strings.
class MessageCipher {
 public:
  explicit MessageCipher(std::size_t capacity = 1024);
  ~MessageCipher();
  MessageCipher(const MessageCipher&) = delete;
  MessageCipher& operator=(const MessageCipher&) = delete;

  std::string encrypt(const SecretString& key_string, std::string_view plaintext);
  Result<std::string> decrypt(const SecretString& key_string, std::string_view enc_content);

  // How many PBKDF2 derivations this cipher has run (for tests and benchmarks).
  std::uint64_t derivations() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A new group key string: standard base64 of 32 random bytes (COMPAT.md §6).
SecretString generate_group_key();

}  // namespace secchats::crypto::v1
