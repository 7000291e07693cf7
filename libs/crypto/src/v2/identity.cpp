// Protocol v2 identity keys, signed prekeys and bundles (libsodium).
#include "secchats/crypto/v2/identity.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>

#include "pairwise_internal.hpp"
#include "secchats/crypto/random.hpp"

namespace secchats::crypto::v2 {

namespace pairwise_detail {

static_assert(crypto_sign_PUBLICKEYBYTES == kPublicKeySize);
static_assert(crypto_sign_BYTES == kSignatureSize);
static_assert(crypto_scalarmult_BYTES == kPublicKeySize);
static_assert(crypto_scalarmult_SCALARBYTES == 32);

void ensure_sodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) std::abort();
  });
}

X25519KeyPair generate_x25519() {
  ensure_sodium();
  X25519KeyPair pair{random_secret(crypto_scalarmult_SCALARBYTES), {}};
  pair.public_key = x25519_public(pair.private_key);
  return pair;
}

PublicKey x25519_public(const SecretBytes& private_key) {
  ensure_sodium();
  if (private_key.size() != crypto_scalarmult_SCALARBYTES) std::abort();  // a caller bug
  PublicKey out{};
  // Only fails for a scalar that clamps to zero, which clamping makes impossible.
  if (crypto_scalarmult_base(out.data(), private_key.data()) != 0) std::abort();
  return out;
}

bool x25519(const SecretBytes& private_key, const PublicKey& peer_public, SecretBytes& out) {
  ensure_sodium();
  if (private_key.size() != crypto_scalarmult_SCALARBYTES) std::abort();  // a caller bug
  out = SecretBytes(crypto_scalarmult_BYTES);
  // libsodium returns -1 when the output is all zeros (a low-order peer point).
  return crypto_scalarmult(out.data(), private_key.data(), peer_public.data()) == 0;
}

bool identity_public_to_x25519(const PublicKey& ed25519_public, PublicKey& out) {
  ensure_sodium();
  return crypto_sign_ed25519_pk_to_curve25519(out.data(), ed25519_public.data()) == 0;
}

SecretBytes identity_secret_to_x25519(const SecretBytes& ed25519_secret) {
  ensure_sodium();
  if (ed25519_secret.size() != crypto_sign_SECRETKEYBYTES) std::abort();  // a caller bug
  SecretBytes out(crypto_scalarmult_SCALARBYTES);
  if (crypto_sign_ed25519_sk_to_curve25519(out.data(), ed25519_secret.data()) != 0) std::abort();
  return out;
}

std::array<std::uint8_t, 7 + kPublicKeySize> prekey_signing_input(const PublicKey& prekey) {
  constexpr std::string_view kLabel = "SC2-SPK";
  static_assert(kLabel.size() == 7);
  std::array<std::uint8_t, 7 + kPublicKeySize> out{};
  std::copy(kLabel.begin(), kLabel.end(), out.begin());
  std::copy(prekey.begin(), prekey.end(), out.begin() + kLabel.size());
  return out;
}

bool verify_prekey_signature(const PublicKey& identity, const PublicKey& prekey,
                             const Signature& signature) {
  ensure_sodium();
  const auto input = prekey_signing_input(prekey);
  // libsodium 1.0.18 rejects non-canonical signatures and small-order public keys here.
  return crypto_sign_verify_detached(signature.data(), input.data(), input.size(),
                                     identity.data()) == 0;
}

}  // namespace pairwise_detail

namespace {

using namespace pairwise_detail;

constexpr std::uint8_t kIdentityBlobVersion = 1;
constexpr std::size_t kIdentityBlobSize = 1 + crypto_sign_SEEDBYTES + kPublicKeySize;
constexpr std::uint8_t kPrekeyBlobVersion = 1;
constexpr std::size_t kPrekeyBlobSize = 1 + 32 + kPublicKeySize + kSignatureSize;

}  // namespace

// ---------------------------------------------------------------------------------------------
// IdentityKeyPair

IdentityKeyPair IdentityKeyPair::generate() {
  ensure_sodium();
  SecretBytes secret(crypto_sign_SECRETKEYBYTES);
  PublicKey pub{};
  crypto_sign_keypair(pub.data(), secret.data());
  return IdentityKeyPair(std::move(secret), pub);
}

Result<IdentityKeyPair> IdentityKeyPair::deserialize(const SecretBytes& blob) {
  ensure_sodium();
  if (blob.size() != kIdentityBlobSize || blob.data()[0] != kIdentityBlobVersion) {
    return Error(ErrorCode::kCorrupt, "v2 identity key: unknown format or version");
  }
  const std::uint8_t* seed = blob.data() + 1;
  PublicKey stored{};
  std::copy_n(blob.data() + 1 + crypto_sign_SEEDBYTES, kPublicKeySize, stored.begin());
  SecretBytes secret(crypto_sign_SECRETKEYBYTES);
  PublicKey derived{};
  crypto_sign_seed_keypair(derived.data(), secret.data(), seed);
  // The stored public key is redundant: it is there so that a damaged seed is noticed here
  // instead of silently becoming another identity.
  if (derived != stored) {
    return Error(ErrorCode::kCorrupt, "v2 identity key: public key does not match the seed");
  }
  return IdentityKeyPair(std::move(secret), derived);
}

SecretBytes IdentityKeyPair::serialize() const {
  SecretBytes out(kIdentityBlobSize);
  Writer w(std::span<std::uint8_t>(out.data(), out.size()));
  w.u8(kIdentityBlobVersion);
  // libsodium's secret key is seed || public key.
  w.bytes(std::span<const std::uint8_t>(secret_key_.data(), crypto_sign_SEEDBYTES));
  w.bytes(public_key_);
  return out;
}

// ---------------------------------------------------------------------------------------------
// SignedPrekey

Signature sign_prekey(const IdentityKeyPair& identity, const PublicKey& prekey_public) {
  ensure_sodium();
  const auto input = prekey_signing_input(prekey_public);
  Signature sig{};
  crypto_sign_detached(sig.data(), nullptr, input.data(), input.size(),
                       identity.secret_key_.data());
  return sig;
}

SignedPrekey SignedPrekey::generate(const IdentityKeyPair& identity) {
  X25519KeyPair pair = generate_x25519();
  const Signature sig = sign_prekey(identity, pair.public_key);
  return SignedPrekey(std::move(pair.private_key), pair.public_key, sig);
}

Result<SignedPrekey> SignedPrekey::deserialize(const SecretBytes& blob) {
  if (blob.size() != kPrekeyBlobSize || blob.data()[0] != kPrekeyBlobVersion) {
    return Error(ErrorCode::kCorrupt, "v2 signed prekey: unknown format or version");
  }
  Reader r(blob.span());
  std::uint8_t version = 0;
  SecretBytes priv(32);
  PublicKey pub{};
  Signature sig{};
  if (!r.u8(version) || !r.bytes(std::span<std::uint8_t>(priv.data(), priv.size())) ||
      !r.bytes(pub) || !r.bytes(sig)) {
    return Error(ErrorCode::kCorrupt, "v2 signed prekey: truncated");  // unreachable: size checked
  }
  if (x25519_public(priv) != pub) {
    return Error(ErrorCode::kCorrupt, "v2 signed prekey: public key does not match");
  }
  return SignedPrekey(std::move(priv), pub, sig);
}

SecretBytes SignedPrekey::serialize() const {
  SecretBytes out(kPrekeyBlobSize);
  Writer w(std::span<std::uint8_t>(out.data(), out.size()));
  w.u8(kPrekeyBlobVersion);
  w.bytes(private_key_.span());
  w.bytes(public_key_);
  w.bytes(signature_);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Bundles

Bundle make_bundle(const IdentityKeyPair& identity, const SignedPrekey& prekey) {
  return Bundle{identity.public_key(), prekey.public_key(), prekey.signature()};
}

Status verify_bundle(const Bundle& bundle) {
  PublicKey ik_x{};
  if (!identity_public_to_x25519(bundle.ik, ik_x) ||
      !verify_prekey_signature(bundle.ik, bundle.spk, bundle.spk_sig)) {
    return Error(ErrorCode::kInsecure, "invalid v2 key bundle");
  }
  return ok_status();
}

}  // namespace secchats::crypto::v2
