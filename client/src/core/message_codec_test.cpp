// The plaintext Message layer against the reference client's own plaintexts.
#include "message_codec.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "secchats/common/encoding.hpp"
#include "secchats/crypto/v1.hpp"
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

// ---------------------------------------------------------------------------------------------
// What the reference UI really sends (vectors/reference-ui-forms.json, COMPAT.md §5)

boost::json::value load_ui_forms() {
  std::ifstream in(std::string(SECCHATS_VECTORS_DIR) + "/reference-ui-forms.json");
  EXPECT_TRUE(in.good()) << "vectors not found at " << SECCHATS_VECTORS_DIR;
  std::stringstream ss;
  ss << in.rdbuf();
  return boost::json::parse(ss.str());
}

struct UiForm {
  std::string what;
  std::string plaintext;  // decrypted from encContent with the group key
};

std::vector<UiForm> decrypt_ui_forms() {
  const auto v = load_ui_forms();
  crypto::v1::MessageCipher cipher;
  const SecretString key(std::string(v.at("key").as_string()));
  std::vector<UiForm> out;
  for (const auto& entry : v.at("messages").as_array()) {
    auto plain = cipher.decrypt(key, entry.at("encContent").as_string());
    EXPECT_TRUE(plain.ok()) << entry.at("what").as_string();
    if (!plain.ok()) continue;
    EXPECT_EQ(*plain, entry.at("plaintext").as_string());
    out.push_back({std::string(entry.at("what").as_string()), *plain});
  }
  return out;
}

std::vector<std::uint8_t> ui_forms_png() {
  return *base64_decode(load_ui_forms().at("png_base64").as_string());
}

// Field by field: the same names in the same order, the same JSON kinds (null, number,
// string), and the same values except messageId and timestamp, which each sender picks.
void expect_same_shape(const std::string& ours, const std::string& reference) {
  const auto a = boost::json::parse(ours).as_object();
  const auto b = boost::json::parse(reference).as_object();
  ASSERT_EQ(a.size(), b.size()) << ours;
  auto ia = a.begin();
  auto ib = b.begin();
  for (; ia != a.end(); ++ia, ++ib) {
    EXPECT_EQ(ia->key(), ib->key());
    EXPECT_EQ(ia->value().kind(), ib->value().kind()) << ia->key();
    if (ia->key() == "messageId" || ia->key() == "timestamp") continue;
    EXPECT_EQ(ia->value(), ib->value()) << ia->key();
  }
}

// What we produce for the inputs of one UI form, with our own id and time.
protocol::Message ours_for(const UiForm& form, std::int64_t id, std::int64_t ts) {
  const Sender alice{"9f1c2b3a4d5e6f70", "Alice"};
  const std::string group = "00112233445566778899aabbccddeeff";
  if (form.what == "IMG") return make_image(alice, group, id, ts, ui_forms_png());
  if (form.what == "EMOJI") return make_reaction(alice, group, id, ts, 123, "EMO_HEART", "");
  if (form.what == "EMOJI_NONE") {
    return make_reaction(alice, group, id, ts, 123, "EMO_SMILE_PLUS", "EMO_HEART");
  }
  return make_text(alice, group, id, ts, "hi");
}

TEST(UiForms, EveryEntryDecryptsToItsPlaintext) {
  const auto forms = decrypt_ui_forms();
  ASSERT_EQ(forms.size(), 4u);
}

TEST(UiForms, WhatWeSendHasTheShapeOfWhatTheReferenceUiSends) {
  for (const auto& form : decrypt_ui_forms()) {
    SCOPED_TRACE(form.what);
    const std::string ours = protocol::encode(ours_for(form, 4242, 1796035999999));
    expect_same_shape(ours, form.plaintext);
    // With the reference's id and time, byte for byte the same plaintext.
    const auto ref = boost::json::parse(form.plaintext).as_object();
    EXPECT_EQ(protocol::encode(
                  ours_for(form, ref.at("messageId").as_int64(), ref.at("timestamp").as_int64())),
              form.plaintext);
  }
}

TEST(UiForms, WeReadEveryEntryAsTheReferenceUiMeantIt) {
  for (const auto& form : decrypt_ui_forms()) {
    SCOPED_TRACE(form.what);
    auto m = protocol::decode_message(form.plaintext, protocol::UnknownFields::kReject);
    ASSERT_TRUE(m.ok());
    auto info =
        interpret(*m, ChatKind::kGroup, "00112233445566778899aabbccddeeff", "9f1c2b3a4d5e6f70", 9);
    ASSERT_TRUE(info.ok());
    if (form.what == "IMG") {
      EXPECT_EQ(info->image, ui_forms_png());
    } else if (form.what == "EMOJI") {
      EXPECT_EQ(info->emoji, "EMO_HEART");
      EXPECT_EQ(reaction_symbol(info->emoji), "\xE2\x9D\xA4");  // what the user is shown
      EXPECT_EQ(info->reply_to_message_id, 123);
    } else if (form.what == "EMOJI_NONE") {
      EXPECT_EQ(info->emoji, "");  // removed
    } else {
      EXPECT_EQ(info->text, "hi");
    }
  }
}

TEST(UiForms, ImageTextIsTheBase64OfThePngAsTheUiDecodesIt) {
  // The reference UI base64-decodes the decrypted text (COMPAT.md §5): it must be base64.
  auto m = make_image(kAlice, "g", 1, 1, ui_forms_png());
  auto text = base64_decode_to_string(*m.content);
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(base64_decode(*text), ui_forms_png());
}

TEST(MessageCodec, ImagesAreAcceptedInEveryFormWeKnow) {
  // A PNG, and a JPEG (the reference UI sends either): start of frame, some bytes ≥ 0x80.
  const std::vector<std::uint8_t> jpeg = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J',
                                          'F',  'I',  'F',  0x00, 0x9C, 0xFF, 0xD9};
  for (const auto& image : {ui_forms_png(), jpeg}) {
    const std::string raw(image.begin(), image.end());
    std::string latin1;  // the reference library's vector form: bytes as Latin-1, UTF-8 encoded
    for (std::uint8_t b : image) {
      if (b < 0x80) {
        latin1.push_back(static_cast<char>(b));
      } else {
        latin1.push_back(static_cast<char>(0xC0 | (b >> 6)));
        latin1.push_back(static_cast<char>(0x80 | (b & 0x3F)));
      }
    }
    for (const std::string& content :
         {base64_encode(base64_encode(image)), base64_encode(raw), base64_encode(latin1)}) {
      auto m = make_text(kAlice, "g", 1, 1, "x");
      m.type = "IMG";
      m.content = content;
      auto info = interpret(m, ChatKind::kFriend, "g", "a", 1);
      ASSERT_TRUE(info.ok()) << content;
      EXPECT_EQ(info->image, image);
    }
  }
}

TEST(MessageCodec, ReactionsAreReadFromNamesAndEmojiCharacters) {
  for (const auto& name : reaction_names()) {
    for (const std::string& sent : {name, reaction_symbol(name)}) {
      auto m = make_reaction(kAlice, "g", 1, 1, 5, "EMO_HEART", "");
      m.new_emoji = sent;
      auto info = interpret(m, ChatKind::kFriend, "g", "a", 1);
      ASSERT_TRUE(info.ok());
      EXPECT_EQ(info->emoji, name == "EMO_SMILE_PLUS" ? "" : name) << sent;
    }
  }
}

TEST(MessageCodec, ReactionsTravelAsNamesWithNoneAsSmilePlus) {
  auto first = make_reaction(kAlice, "g", 1, 1, 5, "EMO_THUMB_UP", "EMO_SMILE_PLUS");
  EXPECT_EQ(first.new_emoji, "EMO_THUMB_UP");
  EXPECT_EQ(first.old_emoji, "EMO_SMILE_PLUS");
  auto removal = make_reaction(kAlice, "g", 1, 1, 5, "", "EMO_THUMB_UP");
  EXPECT_EQ(removal.new_emoji, "EMO_SMILE_PLUS");
  EXPECT_EQ(removal.old_emoji, "EMO_THUMB_UP");
  EXPECT_FALSE(removal.content.has_value());
}

// ---------------------------------------------------------------------------------------------
// Text: what the friend typed, all of it

TEST(PeerText, InvalidUtf8BecomesReplacementCharactersAndNothingAfterIsLost) {
  EXPECT_EQ(display_text("ab\xFF"
                         "cd"),
            "ab\xEF\xBF\xBD"
            "cd");
  EXPECT_EQ(display_text("a\xFF\xFE\xC3z"), "a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDz");
  EXPECT_EQ(display_text("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  EXPECT_EQ(display_text("\xED\xA0\x80!"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD!");  // surrogate
}

TEST(PeerText, ReceivedTextKeepsItsEndPastInvalidBytes) {
  // Before: the limit was the input size, so three bytes per replacement pushed the end out.
  auto m = make_text(kAlice, "g", 1, 1, "x");
  m.content = base64_encode(std::string("start \xFF\xFF\xFF middle \xFE end"));
  auto info = interpret(m, ChatKind::kFriend, "g", "a", 1);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->text, "start \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD middle \xEF\xBF\xBD end");
}

TEST(PeerText, ControlCharactersAreKeptForTheDisplayToEscape) {
  EXPECT_EQ(display_text("Al\x1b[31mice\x07"), "Al\x1b[31mice\x07");
  EXPECT_EQ(display_text("line\nnext\ttab\r"), "line\nnext\ttab\r");
  EXPECT_EQ(display_text("\xC2\x9B"), "\xC2\x9B");  // C1 control (CSI)
  auto m = make_text(kAlice, "g", 1, 1, "x");
  m.content = base64_encode(std::string("\x1b\x07\x08"));
  auto info = interpret(m, ChatKind::kFriend, "g", "a", 1);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->text, "\x1b\x07\x08");  // not an empty message
}

TEST(PeerText, NamesAreCutOnACharacterBoundary) {
  EXPECT_EQ(display_text("\xE3\x81\x8A\xE3\x81\x8A", 4), "\xE3\x81\x8A");
  EXPECT_EQ(display_text(std::string(70, 'n'), 64), std::string(64, 'n'));
  auto m = make_text({"a", std::string(63, 'n') + "\xE2\x9D\xA4"}, "g", 1, 1, "x");
  auto info = interpret(m, ChatKind::kFriend, "g", "a", 1);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->from_name, std::string(63, 'n'));
}

TEST(OutgoingText, RefusesInvalidUtf8AndTextWithNothingVisible) {
  EXPECT_TRUE(check_outgoing_text("message", "hi \xE2\x9D\xA4").ok());
  EXPECT_TRUE(check_outgoing_text("message", "\xE2\x9D\xA4").ok());
  EXPECT_TRUE(check_outgoing_text("message", " x\n").ok());
  for (const std::string& bad :
       {std::string("ab\xFF"), std::string("\xC0\xAF"), std::string("\xE2\x9D"),
        std::string(" \t\n"), std::string("\x1b\x07"), std::string("\xE2\x80\x8B"),  // ZWSP
        std::string("\xEF\xB8\x8F"),                                                 // VS16
        std::string("\xE3\x80\x80"), std::string("\xC2\x85"), std::string("")}) {
    auto st = check_outgoing_text("message", bad);
    ASSERT_FALSE(st.ok()) << bad;
    EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(st.error().message().find('\n'), std::string::npos);
  }
  EXPECT_NE(check_outgoing_text("nickname", "a\xFF").error().message().find("UTF-8"),
            std::string::npos);
  EXPECT_NE(check_outgoing_text("nickname", "\x01").error().message().find("visible"),
            std::string::npos);
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
  std::vector<std::uint8_t> png = ui_forms_png();
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
    if (!reaction_symbol(name).empty()) {  // "none" has no symbol to type
      EXPECT_EQ(*normalize_reaction(reaction_symbol(name)), name);
    }
  }
  for (std::string_view typed : {"banana", ""}) {
    // An empty argument (a script's unset variable) is no reaction, not a removal: only
    // "none" (or EMO_SMILE_PLUS) removes one.
    auto bad = normalize_reaction(typed);
    ASSERT_FALSE(bad.ok()) << typed;
    EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  }
}

TEST(Reactions, AnEmptyReactionFromAPeerStillMeansRemoved) {
  protocol::Message m;
  m.from_user_id = "a1b2c3d4";
  m.type = "EMOJI";
  m.reply_to_message_id = 7;
  m.new_emoji = "";
  auto info = interpret(m, ChatKind::kFriend, "a1b2c3d4", "a1b2c3d4", 1);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->emoji, "");
  EXPECT_EQ(info->reply_to_message_id, 7);
}

}  // namespace
}  // namespace secchats::core
