#include "secchats/crypto/v2/padding.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace secchats::crypto::v2 {
namespace {

std::vector<std::uint8_t> filled(std::size_t n) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = static_cast<std::uint8_t>(i * 7 + 1);
  return v;
}

TEST(PaddingTest, BucketSizes) {
  const std::pair<std::size_t, std::size_t> cases[] = {
      {0, 256},        {1, 256},         {255, 256},       {256, 512},
      {257, 512},      {511, 512},       {512, 1024},      {65535, 65536},
      {65536, 131072}, {131071, 131072}, {131072, 196608}, {200000, 262144},
  };
  for (const auto& [n, expected] : cases) {
    EXPECT_EQ(padded_size(n), expected) << "n = " << n;
  }
}

TEST(PaddingTest, PaddedSizeIsAlwaysABucketAboveTheLength) {
  for (std::size_t n = 0; n < 140000; n += 97) {
    const std::size_t p = padded_size(n);
    ASSERT_GT(p, n);
    if (p <= 65536) {
      ASSERT_EQ(p & (p - 1), 0u) << n;
      ASSERT_GE(p, 256u);
      ASSERT_TRUE(p == 256 || n + 1 > p / 2) << n;  // the smallest bucket that fits
    } else {
      ASSERT_EQ(p % 65536, 0u) << n;
      ASSERT_GT(n + 1, p - 65536) << n;  // the smallest multiple that fits
    }
  }
}

TEST(PaddingTest, PadLayoutAndRoundTrip) {
  for (std::size_t n : {0u, 1u, 255u, 256u, 257u, 65535u, 65536u, 200000u}) {
    const auto data = filled(n);
    const auto padded = pad(data);
    ASSERT_EQ(padded.size(), padded_size(n)) << n;
    EXPECT_TRUE(std::equal(data.begin(), data.end(), padded.begin())) << n;
    EXPECT_EQ(padded[n], 0x80) << n;
    for (std::size_t i = n + 1; i < padded.size(); ++i)
      ASSERT_EQ(padded[i], 0) << n << " " << i;
    auto back = unpad(padded);
    ASSERT_TRUE(back.ok()) << n << ": " << back.error().message();
    EXPECT_EQ(*back, data) << n;
  }
}

TEST(PaddingTest, StringOverloadMatchesBytes) {
  const auto a = pad(std::string_view("hello"));
  const std::vector<std::uint8_t> bytes{'h', 'e', 'l', 'l', 'o'};
  EXPECT_EQ(a, pad(bytes));
}

void expect_bad(const std::vector<std::uint8_t>& padded, const char* what) {
  auto r = unpad(padded);
  ASSERT_FALSE(r.ok()) << what;
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << what;
  EXPECT_EQ(r.error().message(), "bad padding") << what;
}

TEST(PaddingTest, UnpadRefusesBadInput) {
  expect_bad({}, "empty");
  expect_bad(std::vector<std::uint8_t>(255, 0), "below the smallest bucket");
  {
    auto v = pad(filled(100));
    v.push_back(0);
    expect_bad(v, "257 bytes is not a bucket");
  }
  {
    auto v = pad(filled(100));
    v.resize(300);
    expect_bad(v, "300 bytes is not a bucket");
  }
  expect_bad(std::vector<std::uint8_t>(256, 0), "no marker");
  {
    auto v = pad(filled(10));
    v[255] = 1;
    expect_bad(v, "non-zero byte after the marker");
  }
  {
    auto v = pad(filled(10));
    v[10] = 0x81;
    expect_bad(v, "wrong marker");
  }
  {
    // 10 bytes of content belong in the 256 bucket, not in 512.
    auto v = filled(10);
    v.push_back(0x80);
    v.resize(512, 0);
    expect_bad(v, "non-canonical bucket (small)");
  }
  {
    // 70000 bytes belong in 131072, not in 196608.
    auto v = filled(70000);
    v.push_back(0x80);
    v.resize(196608, 0);
    expect_bad(v, "non-canonical bucket (large)");
  }
  {
    auto v = pad(filled(200000));
    v.resize(v.size() + 1, 0);
    expect_bad(v, "large size that is not a multiple of 64 KiB");
  }
}

}  // namespace
}  // namespace secchats::crypto::v2
