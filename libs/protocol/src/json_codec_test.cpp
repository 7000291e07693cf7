#include "secchats/protocol/json_codec.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <fstream>
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

}  // namespace
}  // namespace secchats::protocol
