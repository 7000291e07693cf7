#include "secchats/common/encoding.hpp"

#include <gtest/gtest.h>

namespace secchats {
namespace {

TEST(Base64, RoundTripsEveryLengthModThree) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    auto enc = base64_encode(s);
    auto dec = base64_decode_to_string(enc);
    ASSERT_TRUE(dec.has_value()) << enc;
    EXPECT_EQ(*dec, s);
  }
  EXPECT_EQ(base64_encode(std::string_view("foobar")), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(std::string_view("fo")), "Zm8=");
}

TEST(Base64, RejectsMalformedInput) {
  EXPECT_FALSE(base64_decode("Zm9").has_value());
  EXPECT_FALSE(base64_decode("Zm9v!mFy").has_value());
  EXPECT_FALSE(base64_decode("Zm=v").has_value());
  EXPECT_FALSE(base64_decode("=m9v").has_value());
  EXPECT_FALSE(base64_decode("Zg==Zg==").has_value());
  EXPECT_FALSE(base64_decode("sc2:abcd").has_value());
}

TEST(Hex, RoundTripsAndValidates) {
  std::vector<std::uint8_t> bytes{0x00, 0x0f, 0xab, 0xff};
  EXPECT_EQ(hex_encode(bytes), "000fabff");
  EXPECT_EQ(*hex_decode("000fabff"), bytes);
  EXPECT_FALSE(hex_decode("abc").has_value());
  EXPECT_FALSE(hex_decode("zz").has_value());
  EXPECT_TRUE(is_lower_hex("0a1b"));
  EXPECT_FALSE(is_lower_hex("0A1B"));
  EXPECT_FALSE(is_lower_hex(""));
}

}  // namespace
}  // namespace secchats
