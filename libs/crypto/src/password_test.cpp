#include "secchats/crypto/password.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <string>

#include "secchats/common/encoding.hpp"
#include "secchats/crypto/random.hpp"

namespace secchats::crypto::password {
namespace {

// Every derivation costs ~0.3 s at the floor, so the fixture wraps once and reuses it.
class PasswordTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    key_ = new SecretBytes(random_secret(32));
    auto wrapped = wrap_key(*key_, SecretString("correct horse"));
    ASSERT_TRUE(wrapped.ok()) << wrapped.error().message();
    wrapped_ = new WrappedKey(std::move(wrapped).value());
  }
  static void TearDownTestSuite() {
    delete key_;
    delete wrapped_;
    key_ = nullptr;
    wrapped_ = nullptr;
  }

  static void expect_wrong_password(const WrappedKey& w, const char* password = "correct horse") {
    auto r = unwrap_key(w, SecretString(password));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::kUnauthenticated);
    EXPECT_EQ(r.error().message(), "wrong password");
  }

  static SecretBytes* key_;
  static WrappedKey* wrapped_;
};
SecretBytes* PasswordTest::key_ = nullptr;
WrappedKey* PasswordTest::wrapped_ = nullptr;

TEST_F(PasswordTest, WrapProducesFreshSizedFields) {
  EXPECT_EQ(wrapped_->cost.ops_limit, 3u);
  EXPECT_EQ(wrapped_->cost.mem_limit_bytes, 64ull << 20);
  EXPECT_EQ(wrapped_->salt.size(), 16u);
  EXPECT_EQ(wrapped_->nonce.size(), 24u);
  EXPECT_EQ(wrapped_->ciphertext.size(), 32u + 16u);
  // The key does not appear in the record.
  EXPECT_EQ(serialize(*wrapped_).find(hex_encode(key_->span())), std::string::npos);
}

TEST_F(PasswordTest, RoundTrip) {
  auto r = unwrap_key(*wrapped_, SecretString("correct horse"));
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_TRUE(r.value() == *key_);
}

TEST_F(PasswordTest, WrongPassword) {
  expect_wrong_password(*wrapped_, "correct horsf");
  expect_wrong_password(*wrapped_, "");
}

TEST_F(PasswordTest, TamperedCiphertext) {
  WrappedKey w = *wrapped_;
  w.ciphertext[0] ^= 0x01;
  expect_wrong_password(w);
  w = *wrapped_;
  w.ciphertext.back() ^= 0x80;  // the tag
  expect_wrong_password(w);
}

TEST_F(PasswordTest, TamperedSaltAndNonce) {
  WrappedKey w = *wrapped_;
  w.salt[5] ^= 0x01;
  expect_wrong_password(w);
  w = *wrapped_;
  w.nonce[23] ^= 0x01;
  expect_wrong_password(w);
}

TEST_F(PasswordTest, TamperedCostIsDetected) {
  // Argon2 counts memory in KiB, so +1 byte derives the same key: only the associated data
  // catches it.
  WrappedKey w = *wrapped_;
  w.cost.mem_limit_bytes += 1;
  expect_wrong_password(w);
  w = *wrapped_;
  w.cost.ops_limit = 4;
  expect_wrong_password(w);
}

TEST_F(PasswordTest, UnwrapRefusesCostBelowFloor) {
  for (KdfCost cost :
       {KdfCost{2, 64ull << 20}, KdfCost{3, (64ull << 20) - 1024}, KdfCost{1, 8192}}) {
    WrappedKey w = *wrapped_;
    w.cost = cost;
    auto r = unwrap_key(w, SecretString("correct horse"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::kCorrupt);
  }
}

TEST_F(PasswordTest, UnwrapRefusesBadSizes) {
  WrappedKey w = *wrapped_;
  w.salt.pop_back();
  EXPECT_EQ(unwrap_key(w, SecretString("correct horse")).error().code(), ErrorCode::kCorrupt);
  w = *wrapped_;
  w.nonce.push_back(0);
  EXPECT_EQ(unwrap_key(w, SecretString("correct horse")).error().code(), ErrorCode::kCorrupt);
  w = *wrapped_;
  w.ciphertext.resize(16);
  EXPECT_EQ(unwrap_key(w, SecretString("correct horse")).error().code(), ErrorCode::kCorrupt);
}

TEST_F(PasswordTest, SerializeParseRoundTrip) {
  const std::string line = serialize(*wrapped_);
  EXPECT_EQ(line.rfind("argon2id-xchacha20poly1305:v1:3:67108864:", 0), 0u) << line;
  auto parsed = parse_wrapped_key(line);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  EXPECT_EQ(parsed->cost.ops_limit, wrapped_->cost.ops_limit);
  EXPECT_EQ(parsed->cost.mem_limit_bytes, wrapped_->cost.mem_limit_bytes);
  EXPECT_EQ(parsed->salt, wrapped_->salt);
  EXPECT_EQ(parsed->nonce, wrapped_->nonce);
  EXPECT_EQ(parsed->ciphertext, wrapped_->ciphertext);
  EXPECT_EQ(serialize(*parsed), line);

  auto key = unwrap_key(*parsed, SecretString("correct horse"));
  ASSERT_TRUE(key.ok());
  EXPECT_TRUE(*key == *key_);
}

TEST_F(PasswordTest, ParseRejectsMalformedLines) {
  const std::string good = serialize(*wrapped_);
  const std::string salt = hex_encode(wrapped_->salt);
  const std::string nonce = hex_encode(wrapped_->nonce);
  const std::string ct = hex_encode(wrapped_->ciphertext);
  auto upper = [](std::string s) {
    for (char& c : s)
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
  };
  const std::string tail = ":" + salt + ":" + nonce + ":" + ct;
  const std::string bad[] = {
      "",
      "garbage",
      good + "\n",
      good + ":",
      " " + good,
      good.substr(0, good.size() - 1),  // odd hex length
      "argon2i-xchacha20poly1305:v1:3:67108864" + tail,
      "argon2id-xchacha20poly1305:v2:3:67108864" + tail,
      "argon2id-xchacha20poly1305:v1:03:67108864" + tail,
      "argon2id-xchacha20poly1305:v1:+3:67108864" + tail,
      "argon2id-xchacha20poly1305:v1:-3:67108864" + tail,
      "argon2id-xchacha20poly1305:v1::67108864" + tail,
      "argon2id-xchacha20poly1305:v1:3:99999999999999999999999" + tail,
      "argon2id-xchacha20poly1305:v1:3:6.7e7" + tail,
      "argon2id-xchacha20poly1305:v1:3:67108864:" + upper(salt) + ":" + nonce + ":" + ct,
      "argon2id-xchacha20poly1305:v1:3:67108864:" + salt + "00:" + nonce + ":" + ct,
      "argon2id-xchacha20poly1305:v1:3:67108864:" + salt + ":" + nonce.substr(2) + ":" + ct,
      "argon2id-xchacha20poly1305:v1:3:67108864:" + salt + ":" + nonce + ":" + ct.substr(0, 32),
      "argon2id-xchacha20poly1305:v1:3:67108864:" + salt + ":" + nonce + ":zz" + ct.substr(2),
      "argon2id-xchacha20poly1305:v1:3:67108864:" + salt + ":" + nonce + ":" + ct + ct + ct + ct +
          ct + ct + ct + ct + ct + ct + ct + ct + ct + ct + ct + ct + ct + ct + ct + ct + ct + ct +
          ct + ct + ct + ct + ct + ct + ct + ct,
      "argon2id-xchacha20poly1305:v1:3:67108864:" + salt + ":" + nonce,
      std::string(100000, 'a'),
  };
  for (const std::string& line : bad) {
    auto r = parse_wrapped_key(line);
    EXPECT_FALSE(r.ok()) << line;
    if (!r.ok()) {
      EXPECT_EQ(r.error().code(), ErrorCode::kCorrupt) << line;
    }
  }
}

TEST(PasswordFloor, WrapEnforcesFloorAndArguments) {
  const SecretBytes key = random_secret(32);
  for (KdfCost cost : {KdfCost{2, 64ull << 20}, KdfCost{3, (64ull << 20) - 1}, KdfCost{0, 0}}) {
    auto r = wrap_key(key, SecretString("pw"), cost);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  }
  auto empty_password = wrap_key(key, SecretString(""));
  ASSERT_FALSE(empty_password.ok());
  EXPECT_EQ(empty_password.error().code(), ErrorCode::kInvalidArgument);
  auto empty_key = wrap_key(SecretBytes(), SecretString("pw"));
  ASSERT_FALSE(empty_key.ok());
  EXPECT_EQ(empty_key.error().code(), ErrorCode::kInvalidArgument);
}

TEST(PasswordFloor, HigherCostAndFreshSaltPerWrap) {
  const SecretBytes key = random_secret(32);
  auto a = wrap_key(key, SecretString("pw"), KdfCost{4, 64ull << 20});
  ASSERT_TRUE(a.ok()) << a.error().message();
  EXPECT_EQ(a->cost.ops_limit, 4u);
  auto b = wrap_key(key, SecretString("pw"));
  ASSERT_TRUE(b.ok());
  EXPECT_NE(a->salt, b->salt);
  EXPECT_NE(a->nonce, b->nonce);
  EXPECT_NE(a->ciphertext, b->ciphertext);
  auto parsed = parse_wrapped_key(serialize(*a));
  ASSERT_TRUE(parsed.ok());
  auto unwrapped = unwrap_key(*parsed, SecretString("pw"));
  ASSERT_TRUE(unwrapped.ok()) << unwrapped.error().message();
  EXPECT_TRUE(*unwrapped == key);
}

}  // namespace
}  // namespace secchats::crypto::password
