#include "storage/token_cache.hpp"

#include <gtest/gtest.h>

#include <string>

namespace secchats::server {
namespace {

TokenHash hash_of(std::uint8_t fill) {
  TokenHash h{};
  h.fill(fill);
  return h;
}

TEST(TokenCache, AnswersOnlyWhatWasInserted) {
  TokenCache cache(4);
  EXPECT_FALSE(cache.find("alice"));
  cache.insert("alice", hash_of(1));
  ASSERT_TRUE(cache.find("alice"));
  EXPECT_EQ(*cache.find("alice"), hash_of(1));
  EXPECT_FALSE(cache.find("bob"));
}

TEST(TokenCache, StartsOverWhenFullSoMemoryStaysBounded) {
  TokenCache cache(3);
  for (int i = 0; i < 3; ++i)
    cache.insert("user" + std::to_string(i), hash_of(static_cast<std::uint8_t>(i)));
  EXPECT_EQ(cache.size(), 3u);
  cache.insert("user3", hash_of(3));  // full: emptied, then this one kept
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_FALSE(cache.find("user0"));
  ASSERT_TRUE(cache.find("user3"));
  EXPECT_EQ(*cache.find("user3"), hash_of(3));
}

}  // namespace
}  // namespace secchats::server
