#include "secchats/protocol/json_codec.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

namespace secchats::protocol {
namespace {

boost::json::value load_reference_json() {
  std::ifstream in(std::string(SECCHATS_VECTORS_DIR) + "/reference-json.json");
  EXPECT_TRUE(in.good()) << "vectors not found at " << SECCHATS_VECTORS_DIR;
  std::stringstream ss;
  ss << in.rdbuf();
  return boost::json::parse(ss.str());
}

std::string request(const char* endpoint) {
  static const boost::json::value doc = load_reference_json();
  const auto& s = doc.at("requests_as_sent_by_reference_client").at(endpoint).as_string();
  return std::string(s.data(), s.size());
}

// Every reference request body decodes, and re-encoding reproduces it byte for byte.
TEST(ReferenceRequests, RegisterTwoAndReceiveRoundTripExactly) {
  for (const char* ep : {"/register2", "/receive"}) {
    auto user = decode_user(request(ep));
    ASSERT_TRUE(user.ok()) << user.error().message();
    EXPECT_EQ(user->user_id, "8e1f0c2d3b4a59687766554433221100");
    EXPECT_EQ(user->name, "");
    EXPECT_EQ(user->last_message_timestamp, 1732455174050);
    EXPECT_EQ(encode(*user), request(ep));
  }
}

TEST(ReferenceRequests, ConnectRoundTripsAndUnescapesSlash) {
  auto fr = decode_friend_request(request("/connect"));
  ASSERT_TRUE(fr.ok()) << fr.error().message();
  EXPECT_EQ(fr->protocol, "DH_512/AES_256");
  EXPECT_EQ(fr->to_user_id, "0a1b2c3d4e5f60718293a4b5c6d7e8f9");
  EXPECT_EQ(fr->crypto_data, "c2VjcDUyMXIxOjE4Yjg6M2Jm");
  EXPECT_EQ(encode(*fr), request("/connect"));
}

TEST(ReferenceRequests, EveryOtherEndpointRoundTrips) {
  auto resp = decode_friend_response(request("/connect2"));
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(encode(*resp), request("/connect2"));

  for (const char* ep : {"/postmsg", "/postgroup"}) {
    auto msg = decode_send_message(request(ep));
    ASSERT_TRUE(msg.ok());
    EXPECT_EQ(msg->enc_content, "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQ");
    EXPECT_EQ(encode(*msg), request(ep));
  }

  auto inv = decode_group_invite(request("/groupinv"));
  ASSERT_TRUE(inv.ok());
  EXPECT_EQ(inv->group_id, "5be0c1d2e3f4a5b697887766554433aa");
  EXPECT_EQ(inv->algorithm, "AES_256");
  EXPECT_EQ(encode(*inv), request("/groupinv"));

  auto pg = decode_poll_group(request("/pollgroup"));
  ASSERT_TRUE(pg.ok());
  EXPECT_EQ(pg->last_message_timestamp, 1732455175000);
  EXPECT_EQ(encode(*pg), request("/pollgroup"));

  for (const char* ep : {"/pollgroups", "/longpoll"}) {
    auto pgs = decode_poll_groups(request(ep));
    ASSERT_TRUE(pgs.ok());
    EXPECT_FALSE(pgs->group_ids.empty());
    EXPECT_EQ(encode(*pgs), request(ep));
  }
}

// Our strict decoder must agree with the reference parser's verdict on every listed body.
TEST(ReferenceResponses, StrictDecoderAgreesWithReferenceVerdicts) {
  auto doc = load_reference_json();
  const auto& cases = doc.at("response_parse_cases").as_array();
  ASSERT_GE(cases.size(), 10u);
  for (const auto& c : cases) {
    std::string as(c.at("as").as_string());
    std::string body(c.at("body").as_string());
    bool expected = c.at("reference_client").as_string() == "accepted";
    bool accepted = false;
    if (as == "User")
      accepted = decode_user(body, UnknownFields::kReject).ok();
    else if (as == "Group")
      accepted = decode_group(body, UnknownFields::kReject).ok();
    else if (as == "Notifications")
      accepted = decode_notifications(body, UnknownFields::kReject).ok();
    else if (as == "GroupNotifications")
      accepted = decode_group_notifications(body, UnknownFields::kReject).ok();
    else
      FAIL() << "unexpected class " << as;
    EXPECT_EQ(accepted, expected) << as << ": " << body;
  }
}

TEST(Encoding, ServerItemsCarryNoTokenAndPassTheStrictParser) {
  Notifications n;
  n.friend_requests.push_back({"a", "secret-token", "b", 5, "DH_512/AES_256", "eA=="});
  n.friend_responses.push_back({"c", "secret-token", "b", 6, "eQ=="});
  n.group_invites.push_back({"a", "secret-token", "b", "g", 7, "AES_256", "eg=="});
  n.messages.push_back({"b", "secret-token", "a", "ZQ==", 8});
  std::string body = encode(n);
  EXPECT_EQ(body.find("authToken"), std::string::npos);
  EXPECT_EQ(
      body,
      R"({"object":"Notifications","friendRequests":[{"object":"FriendRequest","fromUserId":"a","toUserId":"b","timestamp":5,"protocol":"DH_512\/AES_256","cryptoData":"eA=="}],"friendResponses":[{"object":"FriendResponse","fromUserId":"c","toUserId":"b","timestamp":6,"cryptoData":"eQ=="}],"groupInvites":[{"object":"GroupInvite","fromUserId":"a","toUserId":"b","groupId":"g","timestamp":7,"algorithm":"AES_256","cryptoData":"eg=="}],"messages":[{"object":"SendMessage","toId":"b","fromUserId":"a","encContent":"ZQ==","timestamp":8}]})");
  auto back = decode_notifications(body, UnknownFields::kReject);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->messages.at(0).enc_content, "ZQ==");
  EXPECT_FALSE(back->messages.at(0).auth_token.has_value());

  User u{"ab", "", "tok", 0};
  EXPECT_TRUE(decode_user(encode(u), UnknownFields::kReject).ok());
  Group g{"g1", "", std::nullopt, std::nullopt, 0};
  EXPECT_EQ(
      encode(g),
      R"({"object":"Group","groupId":"g1","name":"","algorithm":null,"privateKey":null,"lastMessageTimestamp":0})");
}

TEST(Decoding, RejectsWrongTypesAndWrongClasses) {
  EXPECT_FALSE(decode_user("not json").ok());
  EXPECT_FALSE(decode_user("[]").ok());
  EXPECT_FALSE(decode_user(R"({"object":"User","userId":5})").ok());
  EXPECT_FALSE(decode_user(R"({"object":"User","lastMessageTimestamp":"5"})").ok());
  EXPECT_FALSE(decode_user(R"({"object":"User","lastMessageTimestamp":1.5})").ok());
  EXPECT_FALSE(decode_user(R"({"object":"Group","groupId":"x"})").ok());
  EXPECT_FALSE(decode_poll_groups(R"({"object":"PollGroups","groupIds":[1]})").ok());
  EXPECT_FALSE(decode_poll_groups(R"({"object":"PollGroups","groupIds":"a"})").ok());
  // Lenient by default: unknown fields and null strings are fine.
  auto u = decode_user(R"({"object":"User","userId":null,"extra":{"a":[1,2]}})");
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE(u->user_id.has_value());
}

TEST(Encoding, EscapesControlCharactersQuotesAndSlashes) {
  std::string out;
  append_json_string(out, "a\"b\\c/d\n\x01\xe2\x9d\xa4");
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\/d\\n\\u0001\xe2\x9d\xa4\"");
  Message m;
  m.content = "x/y";
  auto back = decode_message(encode(m), UnknownFields::kReject);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->content, "x/y");
}

// The escaping rule written the simplest way, one byte at a time: what the word-at-a-time
// scanner in append_json_string must reproduce byte for byte.
std::string escape_byte_by_byte(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '/':
        out += "\\/";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  return out + "\"";
}

TEST(Encoding, EveryByteAtEveryOffsetEscapesLikeTheByteByByteRule) {
  // Each byte value at each position of a word-sized window, inside plain text of lengths
  // around the 8-byte stride, so every branch of the scanner meets every byte.
  for (int byte = 0; byte < 256; ++byte) {
    for (std::size_t length = 1; length <= 24; ++length) {
      for (std::size_t at = 0; at < length; ++at) {
        std::string text(length, 'A');
        text[at] = static_cast<char>(byte);
        std::string out = "prefix";
        append_json_string(out, text);
        ASSERT_EQ(out, "prefix" + escape_byte_by_byte(text)) << "byte " << byte << " at " << at;
      }
    }
  }
}

TEST(Encoding, RandomTextEscapesLikeTheByteByByteRule) {
  std::mt19937 random(14);
  const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\"\\\n\x01\x7f\x80\xff";
  for (int round = 0; round < 2000; ++round) {
    std::string text(random() % 200, '\0');
    for (char& c : text)
      c = random() % 4 == 0 ? static_cast<char>(random() % 256)
                            : alphabet[random() % alphabet.size()];
    std::string out;
    append_json_string(out, text);
    ASSERT_EQ(out, escape_byte_by_byte(text));
  }
}

TEST(Encoding, AnswersKeepTheirExactBytes) {
  Notifications n;
  n.messages.push_back({"to/1", std::nullopt, "from\"1", "q8+/vEj=", 7});
  n.friend_requests.push_back({"a", std::nullopt, "b", 1, "v2", "cd"});
  n.friend_responses.push_back({"a", std::nullopt, "b", 2, "ef"});
  n.group_invites.push_back({"a", std::nullopt, "b", "g", 3, std::nullopt, "gh"});
  EXPECT_EQ(encode(n),
            "{\"object\":\"Notifications\",\"friendRequests\":[{\"object\":\"FriendRequest\","
            "\"fromUserId\":\"a\",\"toUserId\":\"b\",\"timestamp\":1,\"protocol\":\"v2\","
            "\"cryptoData\":\"cd\"}],\"friendResponses\":[{\"object\":\"FriendResponse\","
            "\"fromUserId\":\"a\",\"toUserId\":\"b\",\"timestamp\":2,\"cryptoData\":\"ef\"}],"
            "\"groupInvites\":[{\"object\":\"GroupInvite\",\"fromUserId\":\"a\",\"toUserId\":"
            "\"b\",\"groupId\":\"g\",\"timestamp\":3,\"algorithm\":null,\"cryptoData\":\"gh\"}],"
            "\"messages\":[{\"object\":\"SendMessage\",\"toId\":\"to\\/1\",\"fromUserId\":"
            "\"from\\\"1\",\"encContent\":\"q8+\\/vEj=\",\"timestamp\":7}]}");
  GroupNotifications g;
  g.messages.push_back({"g", std::nullopt, "s", "p", 9});
  EXPECT_EQ(encode(g),
            "{\"object\":\"GroupNotifications\",\"messages\":[{\"object\":\"SendMessage\","
            "\"toId\":\"g\",\"fromUserId\":\"s\",\"encContent\":\"p\",\"timestamp\":9}]}");
}

}  // namespace
}  // namespace secchats::protocol
