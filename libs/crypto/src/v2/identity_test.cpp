#include "secchats/crypto/v2/identity.hpp"

#include <gtest/gtest.h>

namespace secchats::crypto::v2 {
namespace {

void expect_invalid_bundle(const Bundle& b) {
  const Status s = verify_bundle(b);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kInsecure);
  EXPECT_EQ(s.error().message(), "invalid v2 key bundle");
}

TEST(IdentityKeyPair, GeneratesDistinctKeys) {
  EXPECT_NE(IdentityKeyPair::generate().public_key(), IdentityKeyPair::generate().public_key());
}

TEST(IdentityKeyPair, SerializeRoundTrip) {
  const IdentityKeyPair ik = IdentityKeyPair::generate();
  const SecretBytes blob = ik.serialize();
  ASSERT_EQ(blob.size(), 65u);
  EXPECT_EQ(blob.data()[0], 1);  // format version
  auto back = IdentityKeyPair::deserialize(blob);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->public_key(), ik.public_key());
  EXPECT_TRUE(back->serialize() == blob);
  // The restored key signs like the original: its prekey signatures verify.
  const SignedPrekey spk = SignedPrekey::generate(*back);
  EXPECT_TRUE(verify_bundle(Bundle{ik.public_key(), spk.public_key(), spk.signature()}).ok());
}

TEST(IdentityKeyPair, CorruptBlobRefused) {
  const SecretBytes good = IdentityKeyPair::generate().serialize();
  for (std::size_t pos : {0u, 1u, 20u, 40u, 64u}) {
    SecretBytes bad = good;
    bad.data()[pos] ^= 0x01;
    auto r = IdentityKeyPair::deserialize(bad);
    ASSERT_FALSE(r.ok()) << "byte " << pos;
    EXPECT_EQ(r.error().code(), ErrorCode::kCorrupt);
  }
  SecretBytes shorter = good;
  shorter.resize(64);
  EXPECT_FALSE(IdentityKeyPair::deserialize(shorter).ok());
  EXPECT_FALSE(IdentityKeyPair::deserialize(SecretBytes()).ok());
}

TEST(SignedPrekey, SerializeRoundTrip) {
  const IdentityKeyPair ik = IdentityKeyPair::generate();
  const SignedPrekey spk = SignedPrekey::generate(ik);
  const SecretBytes blob = spk.serialize();
  ASSERT_EQ(blob.size(), 1u + 32 + 32 + 64);
  auto back = SignedPrekey::deserialize(blob);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->public_key(), spk.public_key());
  EXPECT_EQ(back->signature(), spk.signature());
  EXPECT_TRUE(back->serialize() == blob);
}

TEST(SignedPrekey, CorruptBlobRefused) {
  const IdentityKeyPair ik = IdentityKeyPair::generate();
  const SecretBytes good = SignedPrekey::generate(ik).serialize();
  for (std::size_t pos : {0u, 5u, 40u}) {  // version, private key, public key
    SecretBytes bad = good;
    bad.data()[pos] ^= 0x01;
    auto r = SignedPrekey::deserialize(bad);
    ASSERT_FALSE(r.ok()) << "byte " << pos;
    EXPECT_EQ(r.error().code(), ErrorCode::kCorrupt);
  }
}

TEST(Bundle, ValidBundleVerifies) {
  const IdentityKeyPair ik = IdentityKeyPair::generate();
  const SignedPrekey spk = SignedPrekey::generate(ik);
  const Bundle b = make_bundle(ik, spk);
  EXPECT_EQ(b.ik, ik.public_key());
  EXPECT_EQ(b.spk, spk.public_key());
  EXPECT_EQ(b.spk_sig, sign_prekey(ik, spk.public_key()));  // Ed25519 is deterministic
  EXPECT_TRUE(verify_bundle(b).ok());
}

TEST(Bundle, BadSignatureRefused) {
  const IdentityKeyPair ik = IdentityKeyPair::generate();
  const Bundle good = make_bundle(ik, SignedPrekey::generate(ik));
  for (std::size_t pos : {0u, 31u, 32u, 63u}) {
    Bundle b = good;
    b.spk_sig[pos] ^= 0x01;
    expect_invalid_bundle(b);
  }
}

TEST(Bundle, SubstitutedKeysRefused) {
  const IdentityKeyPair ik = IdentityKeyPair::generate();
  const IdentityKeyPair mallory = IdentityKeyPair::generate();
  const Bundle good = make_bundle(ik, SignedPrekey::generate(ik));

  Bundle other_spk = good;  // a prekey the identity never signed
  other_spk.spk = SignedPrekey::generate(mallory).public_key();
  expect_invalid_bundle(other_spk);

  Bundle other_ik = good;  // the signature is not by this identity
  other_ik.ik = mallory.public_key();
  expect_invalid_bundle(other_ik);

  Bundle bad_point = good;  // not a usable Ed25519 key
  bad_point.ik.fill(0);
  expect_invalid_bundle(bad_point);
}

TEST(Bundle, SignatureOverAnotherPrekeyRefused) {
  const IdentityKeyPair ik = IdentityKeyPair::generate();
  const SignedPrekey spk = SignedPrekey::generate(ik);
  const SignedPrekey other = SignedPrekey::generate(ik);
  Bundle b = make_bundle(ik, spk);
  b.spk_sig = other.signature();  // valid signature, but over another prekey
  expect_invalid_bundle(b);
}

}  // namespace
}  // namespace secchats::crypto::v2
