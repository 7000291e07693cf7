// Internal helpers shared by the pairwise v2 sources (not installed, not for other files).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "secchats/common/secret.hpp"
#include "secchats/crypto/v2/identity.hpp"

namespace secchats::crypto::v2::pairwise_detail {

// sodium_init() once per process. Aborts if it fails: without it libsodium has no
// randomness, and continuing would produce predictable keys.
void ensure_sodium();

// A fresh X25519 private scalar and its public key.
struct X25519KeyPair {
  SecretBytes private_key;  // 32
  PublicKey public_key;
};
X25519KeyPair generate_x25519();
PublicKey x25519_public(const SecretBytes& private_key);

// X25519(private, public). Fails (false) when the result is all zeros, i.e. the peer sent
// a low-order point: such a "shared secret" is known to everybody.
bool x25519(const SecretBytes& private_key, const PublicKey& peer_public, SecretBytes& out);

// The X25519 forms of Ed25519 identity keys. The public conversion fails for encodings that
// are not valid points.
bool identity_public_to_x25519(const PublicKey& ed25519_public, PublicKey& out);
SecretBytes identity_secret_to_x25519(const SecretBytes& ed25519_secret);

// "SC2-SPK" || spk_pub, the message an identity key signs for a prekey.
std::array<std::uint8_t, 7 + kPublicKeySize> prekey_signing_input(const PublicKey& prekey);
bool verify_prekey_signature(const PublicKey& identity, const PublicKey& prekey,
                             const Signature& signature);

inline std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Writes big-endian integers and byte strings into a buffer sized in advance, so secrets
// are never copied by a reallocation.
class Writer {
 public:
  explicit Writer(std::span<std::uint8_t> out) : out_(out) {}
  void u8(std::uint8_t v) { out_[pos_++] = v; }
  void u32(std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8)
      u8(static_cast<std::uint8_t>(v >> shift));
  }
  void bytes(std::span<const std::uint8_t> b) {
    for (std::uint8_t v : b)
      u8(v);
  }
  std::size_t position() const { return pos_; }

 private:
  std::span<std::uint8_t> out_;
  std::size_t pos_ = 0;
};

// The bounds-checked counterpart: every read fails (false) past the end.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> in) : in_(in) {}
  bool u8(std::uint8_t& v) {
    if (remaining() < 1) return false;
    v = in_[pos_++];
    return true;
  }
  bool u32(std::uint32_t& v) {
    if (remaining() < 4) return false;
    v = 0;
    for (int i = 0; i < 4; ++i)
      v = (v << 8) | in_[pos_++];
    return true;
  }
  bool bytes(std::span<std::uint8_t> out) {
    if (remaining() < out.size()) return false;
    for (std::uint8_t& b : out)
      b = in_[pos_++];
    return true;
  }
  // The next `n` bytes, in place.
  bool take(std::size_t n, std::span<const std::uint8_t>& out) {
    if (remaining() < n) return false;
    out = in_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  std::size_t remaining() const { return in_.size() - pos_; }
  std::size_t position() const { return pos_; }

 private:
  std::span<const std::uint8_t> in_;
  std::size_t pos_ = 0;
};

}  // namespace secchats::crypto::v2::pairwise_detail
