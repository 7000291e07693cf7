#include "secchats/crypto/hash.hpp"

#include <gtest/gtest.h>

#include <set>

#include "secchats/common/encoding.hpp"
#include "secchats/crypto/random.hpp"

namespace secchats::crypto {
namespace {

TEST(Sha256, MatchesKnownDigest) {
  EXPECT_EQ(hex_encode(sha256(std::string_view("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(HmacSha256, MatchesRfc4231Case2) {
  std::string_view key = "Jefe", data = "what do ya want for nothing?";
  auto mac =
      hmac_sha256(std::span(reinterpret_cast<const std::uint8_t*>(key.data()), key.size()),
                  std::span(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()));
  EXPECT_EQ(hex_encode(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HkdfSha256, MatchesRfc5869Case1) {
  std::vector<std::uint8_t> ikm(22, 0x0b);
  std::vector<std::uint8_t> salt{0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
                                 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c};
  std::string info{'\xf0', '\xf1', '\xf2', '\xf3', '\xf4', '\xf5', '\xf6', '\xf7', '\xf8', '\xf9'};
  auto okm = hkdf_sha256(ikm, salt, info, 42);
  EXPECT_EQ(hex_encode(okm.span()),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
            "34007208d5b887185865");
}

TEST(HkdfSha256, MatchesRfc5869Case3EmptySaltAndInfo) {
  std::vector<std::uint8_t> ikm(22, 0x0b);
  auto okm = hkdf_sha256(ikm, {}, "", 42);
  EXPECT_EQ(hex_encode(okm.span()),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
            "9d201395faa4b61a96c8");
}

TEST(ConstantTimeEqual, ComparesContentAndLength) {
  std::vector<std::uint8_t> a{1, 2, 3}, b{1, 2, 3}, c{1, 2, 4}, d{1, 2};
  EXPECT_TRUE(constant_time_equal(a, b));
  EXPECT_FALSE(constant_time_equal(a, c));
  EXPECT_FALSE(constant_time_equal(a, d));
}

TEST(Random, HexIdsAreLowercaseAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto id = random_hex(16);
    ASSERT_EQ(id.size(), 32u);
    ASSERT_TRUE(is_lower_hex(id));
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
  for (int i = 0; i < 100; ++i)
    EXPECT_GE(random_int63(), 0);
}

}  // namespace
}  // namespace secchats::crypto
