// The plaintext Message layer against the reference client's own plaintexts.
#include "message_codec.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "secchats/protocol/json_codec.hpp"

namespace secchats::core {
namespace {

boost::json::value load_crypto_vectors() {
  std::ifstream in(std::string(SECCHATS_VECTORS_DIR) + "/reference-crypto.json");
  EXPECT_TRUE(in.good()) << "vectors not found at " << SECCHATS_VECTORS_DIR;
  std::stringstream ss;
  ss << in.rdbuf();
  return boost::json::parse(ss.str());
}

std::string vector_plaintext(std::size_t index) {
  auto v = load_crypto_vectors();
  return std::string(v.at("aes256gcm_messages").as_array().at(index).at("plaintext").as_string());
}

const Sender kAlice{"9f1c2b3a4d5e6f70", "Alice"};

TEST(MessageCodec, TextIsByteIdenticalToTheReferencePlaintext) {
  auto m = make_text(kAlice, "0a1b2c3d4e5f6071", 123, 1795444291649,
                     "Hello, this is a secret message. \xE3\x81\x8A\xE5\x85\x83\xE6\xB0\x97\xE3"
                     "\x81\xA7\xE3\x81\x99\xE3\x81\x8B\xEF\xBC\x9F");
  EXPECT_EQ(protocol::encode(m), vector_plaintext(0));
}

TEST(MessageCodec, HeartReactionIsByteIdenticalToTheReferencePlaintext) {
  auto m = make_reaction(kAlice, "0a1b2c3d4e5f6071", 77, 1795444291651, 123, "EMO_HEART",
                         "EMO_SMILE_PLUS");
  EXPECT_EQ(protocol::encode(m), vector_plaintext(1));
}

TEST(MessageCodec, ImageIsByteIdenticalToTheReferencePlaintext) {
  const std::string bytes = "\x89PNG fake image bytes";
  auto m = make_image(kAlice, "0a1b2c3d4e5f6071", 99, 1795444291651,
                      std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
  EXPECT_EQ(protocol::encode(m), vector_plaintext(2));
}

TEST(MessageCodec, DisplayTextIsValidUtf8WithoutControlCharacters) {
  EXPECT_EQ(display_text("Al\x1b[31mice\x07", 64), "Al[31mice");
  EXPECT_EQ(display_text("a\xff\xc3", 64), "a\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(display_text("\xC0\xAF", 64), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  EXPECT_EQ(display_text("line\nnext\ttab", 64, true), "line\nnext\ttab");
  EXPECT_EQ(display_text("line\nnext", 64), "linenext");
  EXPECT_EQ(display_text("\xE3\x81\x8A\xE3\x81\x8A", 4), "\xE3\x81\x8A");  // whole chars only
  EXPECT_EQ(display_text("\xC2\x9B", 8), "");                              // C1 control (CSI)
}

TEST(MessageCodec, InterpretsEveryReferencePlaintext) {
  auto text = protocol::decode_message(vector_plaintext(0), protocol::UnknownFields::kReject);
  ASSERT_TRUE(text.ok());
  auto t = interpret(*text, ChatKind::kFriend, "9f1c2b3a4d5e6f70", "9f1c2b3a4d5e6f70", 5);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->type, "TEXT");
  EXPECT_EQ(t->text.rfind("Hello, this is a secret message. ", 0), 0u);
  EXPECT_EQ(t->from_name, "Alice");
  EXPECT_EQ(t->message_id, 123);
  EXPECT_EQ(t->server_timestamp, 5);

  auto emoji = protocol::decode_message(vector_plaintext(1));
  ASSERT_TRUE(emoji.ok());
  auto e = interpret(*emoji, ChatKind::kFriend, "x", "9f1c2b3a4d5e6f70", 6);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->type, "EMOJI");
  EXPECT_EQ(e->emoji, "EMO_HEART");
  EXPECT_EQ(e->reply_to_message_id, 123);

  auto img = protocol::decode_message(vector_plaintext(2));
  ASSERT_TRUE(img.ok());
  auto i = interpret(*img, ChatKind::kFriend, "x", "9f1c2b3a4d5e6f70", 7);
  ASSERT_TRUE(i.ok());
  EXPECT_EQ(i->type, "IMG");
  const std::string expected = "\x89PNG fake image bytes";
  EXPECT_EQ(std::string(i->image.begin(), i->image.end()), expected);
}

TEST(MessageCodec, OurImagesRoundTripAllByteValues) {
  std::vector<std::uint8_t> png;
  for (int i = 0; i < 256; ++i)
    png.push_back(static_cast<std::uint8_t>(i));
  auto m = make_image(kAlice, "g", 9, 1, png);
  auto back = protocol::decode_message(protocol::encode(m));
  ASSERT_TRUE(back.ok());
  auto info = interpret(*back, ChatKind::kGroup, "g", "9f1c2b3a4d5e6f70", 1);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->image, png);
}

TEST(MessageCodec, RelayVouchedSenderWinsOverTheClaimInside) {
  auto m = make_text({"aaaaaaaaaaaaaaaa", "Mallory"}, "g", 1, 1, "hi");
  auto info = interpret(m, ChatKind::kGroup, "g", "bbbbbbbbbbbbbbbb", 3);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->from_user_id, "bbbbbbbbbbbbbbbb");
}

TEST(MessageCodec, UndecodableContentIsAnErrorNotACrash) {
  auto m = make_text(kAlice, "g", 1, 1, "x");
  m.content = "not base64!";
  EXPECT_FALSE(interpret(m, ChatKind::kFriend, "g", "a", 1).ok());
  m.type = "IMG";
  m.content = "4oKs";  // "€": neither base64 of bytes nor Latin-1 text
  EXPECT_FALSE(interpret(m, ChatKind::kFriend, "g", "a", 1).ok());
}

TEST(MessageCodec, UnknownTypesAreKeptUndecoded) {
  auto m = make_text(kAlice, "g", 1, 1, "x");
  m.type = "UPDATE";
  m.content = "opaque";
  auto info = interpret(m, ChatKind::kFriend, "g", "a", 1);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->type, "UPDATE");
  EXPECT_EQ(info->text, "opaque");
}

TEST(Reactions, AcceptNamesShortNamesAndSymbols) {
  EXPECT_EQ(*normalize_reaction("EMO_HEART"), "EMO_HEART");
  EXPECT_EQ(*normalize_reaction("heart"), "EMO_HEART");
  EXPECT_EQ(*normalize_reaction("\xE2\x9D\xA4"), "EMO_HEART");
  EXPECT_EQ(*normalize_reaction("\xE2\x9D\xA4\xEF\xB8\x8F"), "EMO_HEART");
  EXPECT_EQ(*normalize_reaction("thumb_up"), "EMO_THUMB_UP");
  EXPECT_EQ(*normalize_reaction("none"), "EMO_SMILE_PLUS");
  for (const auto& name : reaction_names()) {
    EXPECT_EQ(*normalize_reaction(name), name);
    EXPECT_EQ(*normalize_reaction(reaction_symbol(name)), name);
  }
  auto bad = normalize_reaction("banana");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace secchats::core
