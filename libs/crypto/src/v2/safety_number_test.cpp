#include "secchats/crypto/v2/safety_number.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

namespace secchats::crypto::v2 {
namespace {

PublicKey fixed_key(std::uint8_t first) {
  PublicKey k{};
  for (std::size_t i = 0; i < k.size(); ++i)
    k[i] = static_cast<std::uint8_t>(first + i);
  return k;
}

SafetyNumber compute(std::string_view own_id, const PublicKey& own, std::string_view peer_id,
                     const PublicKey& peer) {
  auto r = SafetyNumber::compute(own_id, own, peer_id, peer);
  if (!r.ok()) ADD_FAILURE() << r.error().message();
  return std::move(r).value();
}

// Regression pin, and a cross-check: the expected digits were computed once with an
// independent Python script that follows docs/protocol-v2.md ("Safety numbers") literally
// (hashlib.sha512; 1 + 5200 hashes; six 40-bit big-endian chunks mod 100000 per party).
// If this changes, every user's safety numbers change: that is a protocol change.
TEST(SafetyNumber, KnownAnswer) {
  const PublicKey alice = fixed_key(0x00);  // 00 01 .. 1f
  const PublicKey bob = fixed_key(0x20);    // 20 21 .. 3f
  const SafetyNumber n = compute("alice-id", alice, "bob-id", bob);
  EXPECT_EQ(n.digits(), "000218362526627440689029527967507791120464240441251247247233");
  EXPECT_EQ(n.formatted(),
            "00021 83625 26627 44068 90295 27967 50779 11204 64240 44125 12472 47233");
  EXPECT_EQ(n.qr_payload(),
            "SECCHATS-VERIFY:1:000218362526627440689029527967507791120464240441251247247233");
}

TEST(SafetyNumber, SameForBothSidesAndDeterministic) {
  const PublicKey a = IdentityKeyPair::generate().public_key();
  const PublicKey b = IdentityKeyPair::generate().public_key();
  const SafetyNumber from_alice = compute("alice-id", a, "bob-id", b);
  const SafetyNumber from_bob = compute("bob-id", b, "alice-id", a);
  EXPECT_EQ(from_alice, from_bob);
  EXPECT_EQ(compute("alice-id", a, "bob-id", b), from_alice);
  ASSERT_EQ(from_alice.digits().size(), 60u);
  EXPECT_TRUE(std::all_of(from_alice.digits().begin(), from_alice.digits().end(),
                          [](char c) { return c >= '0' && c <= '9'; }));
}

TEST(SafetyNumber, ChangesWithEitherKeyOrId) {
  const PublicKey a = fixed_key(0x00), b = fixed_key(0x20), other = fixed_key(0x40);
  const SafetyNumber base = compute("alice-id", a, "bob-id", b);
  const SafetyNumber bob_new_key = compute("alice-id", a, "bob-id", other);
  const SafetyNumber alice_new_key = compute("alice-id", other, "bob-id", b);
  EXPECT_NE(base, bob_new_key);
  EXPECT_NE(base, alice_new_key);
  EXPECT_NE(base, compute("alice-id", a, "bob-i", b));
  // The smaller id's half comes first: a new key for Bob changes only the second half.
  EXPECT_EQ(bob_new_key.digits().substr(0, 30), base.digits().substr(0, 30));
  EXPECT_NE(bob_new_key.digits().substr(30), base.digits().substr(30));
  EXPECT_NE(alice_new_key.digits().substr(0, 30), base.digits().substr(0, 30));
  EXPECT_EQ(alice_new_key.digits().substr(30), base.digits().substr(30));
  // Swapping the keys between the two ids is a different number too.
  EXPECT_NE(compute("alice-id", b, "bob-id", a), base);
}

TEST(SafetyNumber, EqualIdsRefused) {
  auto r = SafetyNumber::compute("same", fixed_key(0), "same", fixed_key(1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
}

TEST(SafetyNumber, FormattedIsTwelveGroupsOfFive) {
  const SafetyNumber n = compute("a", fixed_key(1), "b", fixed_key(2));
  const std::string f = n.formatted();
  ASSERT_EQ(f.size(), 60u + 11);
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (i % 6 == 5) {
      EXPECT_EQ(f[i], ' ') << i;
    } else {
      EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(f[i]))) << i;
    }
  }
}

TEST(SafetyNumber, ParseTypedInputIgnoringWhitespace) {
  const SafetyNumber n = compute("a", fixed_key(1), "b", fixed_key(2));
  auto parsed = SafetyNumber::parse(n.formatted());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, n);
  EXPECT_TRUE(safety_number_matches(n, n.digits()));
  EXPECT_TRUE(safety_number_matches(n, n.formatted()));
  std::string messy = "  " + n.digits().substr(0, 20) + "\n" + n.digits().substr(20, 20) + "\t " +
                      n.digits().substr(40) + " \r\n";
  EXPECT_TRUE(safety_number_matches(n, messy));

  std::string one_off = n.digits();
  one_off[59] = one_off[59] == '9' ? '0' : static_cast<char>(one_off[59] + 1);
  EXPECT_FALSE(safety_number_matches(n, one_off));
  EXPECT_FALSE(safety_number_matches(n, n.digits().substr(0, 59)));
  EXPECT_FALSE(safety_number_matches(n, n.digits() + "0"));
  EXPECT_FALSE(safety_number_matches(n, ""));
  std::string with_letter = n.digits();
  with_letter[10] = 'a';
  EXPECT_FALSE(SafetyNumber::parse(with_letter).ok());
  EXPECT_FALSE(SafetyNumber::parse(n.formatted() + "-").ok());
}

TEST(SafetyNumber, QrPayloadRoundTrip) {
  const SafetyNumber n = compute("a", fixed_key(1), "b", fixed_key(2));
  EXPECT_EQ(n.qr_payload(), "SECCHATS-VERIFY:1:" + n.digits());
  auto parsed = SafetyNumber::parse_qr_payload(n.qr_payload());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, n);
  EXPECT_FALSE(SafetyNumber::parse_qr_payload(n.digits()).ok());
  EXPECT_FALSE(SafetyNumber::parse_qr_payload("SECCHATS-VERIFY:2:" + n.digits()).ok());
  EXPECT_FALSE(SafetyNumber::parse_qr_payload(n.qr_payload() + "1").ok());
  EXPECT_FALSE(SafetyNumber::parse_qr_payload(n.qr_payload().substr(0, 77)).ok());
  EXPECT_FALSE(SafetyNumber::parse_qr_payload("SECCHATS-VERIFY:1:" + n.formatted()).ok());
}

}  // namespace
}  // namespace secchats::crypto::v2
