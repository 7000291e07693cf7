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
