#include "secchats/common/result.hpp"

#include <gtest/gtest.h>

#include "secchats/common/secret.hpp"

namespace secchats {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) return Error(ErrorCode::kInvalidArgument, "not positive");
  return v;
}

Result<int> doubled(int v) {
  SC_ASSIGN_OR_RETURN(int x, parse_positive(v));
  return 2 * x;
}

Status check(int v) {
  SC_TRY(parse_positive(v));
  return ok_status();
}

TEST(Result, PropagatesValuesAndErrors) {
  EXPECT_EQ(doubled(4).value(), 8);
  auto bad = doubled(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.error().message(), "not positive");
  EXPECT_TRUE(check(1).ok());
  EXPECT_FALSE(check(0).ok());
}

TEST(SecretBytes, MovesLeaveSourceEmptyAndCompareByContent) {
  SecretBytes a = SecretBytes::from_string("key");
  SecretBytes b = a;
  EXPECT_TRUE(a == b);
  SecretBytes c = std::move(a);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): documented state
  EXPECT_EQ(c.view(), "key");
}

}  // namespace
}  // namespace secchats
