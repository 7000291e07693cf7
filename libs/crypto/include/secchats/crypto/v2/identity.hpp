// Protocol v2 long-term keys: the Ed25519 identity key (IK) and the X25519 signed prekey
// (SPK), and the public bundle {ik, spk, spk_sig} a friend receives (docs/protocol-v2.md,
// "Identity").
//
// Fenced: no libsodium type appears here. Private keys live in SecretBytes and leave these
// classes only through serialize(), for the encrypted store.
#pragma once

#include <array>
#include <cstdint>
#include <utility>

#include "secchats/common/result.hpp"
#include "secchats/common/secret.hpp"

namespace secchats::crypto::v2 {

class RatchetSession;

inline constexpr std::size_t kPublicKeySize = 32;
inline constexpr std::size_t kSignatureSize = 64;

// An Ed25519 (identity) or X25519 (prekey, ratchet) public key.
using PublicKey = std::array<std::uint8_t, kPublicKeySize>;
using Signature = std::array<std::uint8_t, kSignatureSize>;

// One per account, for its whole life. It signs the prekey; its X25519 form takes part in
// the handshake, so a session is bound to both parties' identity keys.
class IdentityKeyPair {
 public:
  // A fresh random key pair. Aborts if libsodium cannot initialise (no usable randomness).
  static IdentityKeyPair generate();
  // Inverse of serialize(). A blob of the wrong size or version, or one whose public key
  // does not match its seed, is kCorrupt.
  static Result<IdentityKeyPair> deserialize(const SecretBytes& blob);

  // Versioned: u8 version (1) || seed (32) || public key (32). Keep only in the encrypted store.
  SecretBytes serialize() const;
  const PublicKey& public_key() const { return public_key_; }

 private:
  friend class RatchetSession;
  friend Signature sign_prekey(const IdentityKeyPair& identity, const PublicKey& prekey_public);
  IdentityKeyPair(SecretBytes secret_key, const PublicKey& public_key)
      : secret_key_(std::move(secret_key)), public_key_(public_key) {}

  SecretBytes secret_key_;  // libsodium's 64-byte Ed25519 secret key (seed || public key)
  PublicKey public_key_;
};

// The X25519 key pair a friend's first session is built on, signed by our identity key so
// that the relay cannot substitute its own. It can be rotated; sessions keep what they need.
class SignedPrekey {
 public:
  // A fresh key pair signed with `identity`.
  static SignedPrekey generate(const IdentityKeyPair& identity);
  // Inverse of serialize(); kCorrupt on a wrong size or version, or a public key that does
  // not match the private key. The signature is checked when a session is created.
  static Result<SignedPrekey> deserialize(const SecretBytes& blob);

  // Versioned: u8 version (1) || private (32) || public (32) || signature (64).
  SecretBytes serialize() const;
  const PublicKey& public_key() const { return public_key_; }
  const Signature& signature() const { return signature_; }

 private:
  friend class RatchetSession;
  SignedPrekey(SecretBytes private_key, const PublicKey& public_key, const Signature& signature)
      : private_key_(std::move(private_key)), public_key_(public_key), signature_(signature) {}

  SecretBytes private_key_;  // X25519 scalar (32)
  PublicKey public_key_;
  Signature signature_;
};

// spk_sig = Ed25519_sign(IK, "SC2-SPK" || spk_pub). The label keeps this signature from ever
// being valid for anything else the identity key signs.
Signature sign_prekey(const IdentityKeyPair& identity, const PublicKey& prekey_public);

// What a friend needs to start a v2 session with us; none of it is secret.
struct Bundle {
  PublicKey ik{};       // Ed25519 identity public key
  PublicKey spk{};      // X25519 signed prekey
  Signature spk_sig{};  // sign_prekey(IK, spk)

  bool operator==(const Bundle&) const = default;
};

Bundle make_bundle(const IdentityKeyPair& identity, const SignedPrekey& prekey);

// Checks that `ik` is a usable Ed25519 key (it also has to convert to X25519) and that
// `spk_sig` is its signature over the prekey. Any failure is kInsecure "invalid v2 key bundle".
Status verify_bundle(const Bundle& bundle);

}  // namespace secchats::crypto::v2
