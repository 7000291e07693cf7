// Broken object-level authorization: every endpoint that takes credentials is tried with another
// user's token, another user's id, no token, an unknown id and a forged acting field. Each
// attempt must be refused with the documented status and a plain-text reason, and afterwards
// nothing may have changed: no queue item, group, group message or acknowledgement.
//
// Credentials travel in the JSON body (COMPAT §1): the acting id is `userId` (User, PollGroup,
// PollGroups) or `fromUserId` (FriendRequest, FriendResponse, GroupInvite, SendMessage), next to
// `authToken`. A missing, empty or null token is a malformed request (400), a token that does
// not belong to the named id is a wrong one (401) — see ApiTest for the same split.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cctype>
#include <future>
#include <limits>
#include <ostream>
#include <set>

#include "server_fixture.hpp"

namespace secchats::testing {
namespace {
namespace proto = secchats::protocol;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

constexpr int kLongPollTimeoutMs = 1500;
constexpr const char* kUnknownId = "0123456789abcdef0123456789abcdef";
constexpr const char* kWrongCredentials = "unknown user or wrong token";

// Which value the acting field (userId / fromUserId) carries in an attempt.
enum class ActingId {
  kA,
  kB,
  kUnknown,     // well-formed, never registered
  kAUpperCase,  // A's id with the hex digits upper-cased
  kAbsent,
  kEmpty,
  kAThenB,  // the field twice: A's id first, B's last (the JSON parser keeps the last)
};

// Which value `authToken` carries in an attempt.
enum class Token {
  kA,
  kB,
  kAbsent,
  kEmpty,
  kNull,
  kNumber,
  kADigitChanged,
  kATruncated,
  kAExtended
};

struct Attempt {
  const char* label;
  ActingId id;
  Token token;
  int status;
  const char* reason;  // a substring of the plain-text reason
};

const Attempt kAttempts[] = {
    {"(a) A's id with B's token", ActingId::kA, Token::kB, 401, kWrongCredentials},
    {"(b) B's id with A's token", ActingId::kB, Token::kA, 401, kWrongCredentials},
    {"(c) A's id without a token", ActingId::kA, Token::kAbsent, 400, "missing field 'authToken'"},
    {"(c) A's id with an empty token", ActingId::kA, Token::kEmpty, 400,
     "missing field 'authToken'"},
    {"(c) A's id with a null token", ActingId::kA, Token::kNull, 400, "missing field 'authToken'"},
    {"(c) A's id with a numeric token", ActingId::kA, Token::kNumber, 400,
     "field 'authToken' must be a string"},
    {"(c) A's id with A's token, one digit changed", ActingId::kA, Token::kADigitChanged, 401,
     kWrongCredentials},
    {"(c) A's id with A's token truncated", ActingId::kA, Token::kATruncated, 401,
     kWrongCredentials},
    {"(c) A's id with A's token plus a digit", ActingId::kA, Token::kAExtended, 401,
     kWrongCredentials},
    {"(d) unknown id with A's token", ActingId::kUnknown, Token::kA, 401, kWrongCredentials},
    {"(d) unknown id with B's token", ActingId::kUnknown, Token::kB, 401, kWrongCredentials},
    {"(d) A's id upper-cased with A's token", ActingId::kAUpperCase, Token::kA, 401,
     kWrongCredentials},
    {"(e) acting field A then B, with A's token", ActingId::kAThenB, Token::kA, 401,
     kWrongCredentials},
    {"(e) no acting field, with A's token", ActingId::kAbsent, Token::kA, 400, "missing user id"},
    {"(e) empty acting field, with A's token", ActingId::kEmpty, Token::kA, 400, "missing user id"},
};

// What a request body needs besides its credentials.
struct World {
  TestUser a;
  TestUser b;
  std::string group;  // created by A; its log holds one message from A
};

// One endpoint: the acting field's name and a valid body (without credentials) for a caller
// named `actor` whose counterpart is `other`.
struct Endpoint {
  const char* path;
  const char* acting_field;
  json::object (*body)(const World& w, const std::string& actor, const std::string& other);
};

// How gtest prints a parameter in test listings (instead of its raw bytes).
void PrintTo(const Endpoint& e, std::ostream* os) {
  *os << e.path;
}

const Endpoint kEndpoints[] = {
    {"/register2", "userId",
     [](const World&, const std::string&, const std::string&) {
       return json::object{{"object", "User"}, {"name", ""}, {"lastMessageTimestamp", 0}};
     }},
    {"/receive", "userId",
     [](const World&, const std::string&, const std::string&) {
       return json::object{{"object", "User"}, {"name", ""}, {"lastMessageTimestamp", 0}};
     }},
    {"/connect", "fromUserId",
     [](const World&, const std::string&, const std::string& other) {
       return json::object{{"object", "FriendRequest"},
                           {"toUserId", other},
                           {"timestamp", 0},
                           {"protocol", proto::kKeyAgreementProtocol},
                           {"cryptoData", "cHVi"}};
     }},
    {"/connect2", "fromUserId",
     [](const World&, const std::string&, const std::string& other) {
       return json::object{{"object", "FriendResponse"},
                           {"toUserId", other},
                           {"timestamp", 0},
                           {"cryptoData", "cmVzcA=="}};
     }},
    {"/postmsg", "fromUserId",
     [](const World&, const std::string&, const std::string& other) {
       return json::object{
           {"object", "SendMessage"}, {"toId", other}, {"encContent", "forged"}, {"timestamp", 0}};
     }},
    {"/groupinv", "fromUserId",
     [](const World& w, const std::string&, const std::string& other) {
       return json::object{{"object", "GroupInvite"}, {"toUserId", other},
                           {"groupId", w.group},      {"timestamp", 0},
                           {"algorithm", "AES_256"},  {"cryptoData", "aW52"}};
     }},
    {"/postgroup", "fromUserId",
     [](const World& w, const std::string&, const std::string&) {
       return json::object{{"object", "SendMessage"},
                           {"toId", w.group},
                           {"encContent", "forged"},
                           {"timestamp", 0}};
     }},
    {"/pollgroup", "userId",
     [](const World& w, const std::string&, const std::string&) {
       return json::object{
           {"object", "PollGroup"}, {"groupId", w.group}, {"lastMessageTimestamp", 0}};
     }},
    {"/pollgroups", "userId",
     [](const World& w, const std::string&, const std::string&) {
       return json::object{{"object", "PollGroups"},
                           {"groupIds", json::array{w.group}},
                           {"lastMessageTimestamp", 0}};
     }},
    // The caller's own id in groupIds means "my direct queue". With cursor 0 an accepted poll
    // answers at once (the group log is not empty), so nothing here can hang.
    {"/longpoll", "userId",
     [](const World& w, const std::string& actor, const std::string&) {
       json::array ids;
       if (!actor.empty()) ids.emplace_back(actor);
       ids.emplace_back(w.group);
       return json::object{
           {"object", "PollGroups"}, {"groupIds", std::move(ids)}, {"lastMessageTimestamp", 0}};
     }},
};

std::string upper_case(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// The counts /varz reports: every row the server keeps, without ids.
struct Counts {
  std::int64_t users = 0;
  std::int64_t groups = 0;
  std::int64_t queued_items = 0;
  std::int64_t group_messages = 0;
  std::int64_t acked_deletes = 0;
  bool operator==(const Counts&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Counts& c) {
  return os << "{users " << c.users << ", groups " << c.groups << ", queued " << c.queued_items
            << ", group messages " << c.group_messages << ", acked deletes " << c.acked_deletes
            << "}";
}

class BolaTest : public ServerTest {
 protected:
  void SetUp() override {
    start({"--longpoll-timeout-ms", std::to_string(kLongPollTimeoutMs)});
    w_.a = register_user();
    w_.b = register_user();
    w_.group = register_group(w_.a);
    ASSERT_EQ(post_group(w_.a, w_.group, "baseline").status, 200);
    baseline_ = counts();
  }

  HttpResult post_group(const TestUser& u, const std::string& group, const std::string& content) {
    return http().post("/postgroup",
                       proto::encode(proto::SendMessage{group, u.token, u.id, content, 0}));
  }

  Counts counts() {
    auto res = http().get("/varz");
    EXPECT_EQ(res.status, 200);
    auto v = json::parse(res.body);
    return {v.at("users").as_int64(), v.at("groups").as_int64(), v.at("queued_items").as_int64(),
            v.at("group_messages").as_int64(), v.at("acked_deletes").as_int64()};
  }

  std::string body_for(const Endpoint& e, const Attempt& at) {
    const std::string& a = w_.a.id;
    const std::string& b = w_.b.id;
    std::string actor;
    switch (at.id) {
      case ActingId::kA:
      case ActingId::kAThenB:
        actor = a;
        break;
      case ActingId::kB:
        actor = b;
        break;
      case ActingId::kUnknown:
        actor = kUnknownId;
        break;
      case ActingId::kAUpperCase:
        actor = upper_case(a);
        break;
      case ActingId::kAbsent:
      case ActingId::kEmpty:
        break;
    }
    // Whatever the caller claims to be, the target is someone else, so a wrongly accepted
    // request would leave a trace in a queue that the end-of-test check reads.
    json::object body = e.body(w_, actor, actor == b ? a : b);
    if (at.id != ActingId::kAbsent) body[e.acting_field] = actor;
    const std::string& token_a = w_.a.token;
    switch (at.token) {
      case Token::kA:
        body["authToken"] = token_a;
        break;
      case Token::kB:
        body["authToken"] = w_.b.token;
        break;
      case Token::kAbsent:
        break;
      case Token::kEmpty:
        body["authToken"] = "";
        break;
      case Token::kNull:
        body["authToken"] = nullptr;
        break;
      case Token::kNumber:
        body["authToken"] = 12345;
        break;
      case Token::kADigitChanged: {
        std::string t = token_a;
        t.back() = t.back() == '0' ? '1' : '0';
        body["authToken"] = t;
        break;
      }
      case Token::kATruncated:
        body["authToken"] = token_a.substr(0, token_a.size() - 1);
        break;
      case Token::kAExtended:
        body["authToken"] = token_a + "0";
        break;
    }
    std::string text = json::serialize(body);
    if (at.id == ActingId::kAThenB) {
      // A JSON object cannot hold a key twice, so the second copy goes in as text.
      text.insert(text.size() - 1, ",\"" + std::string(e.acting_field) + "\":\"" + b + "\"");
    }
    return text;
  }

  // Nothing the attempts could have touched has changed.
  void expect_nothing_changed(const std::string& context) {
    SCOPED_TRACE(context);
    EXPECT_EQ(counts(), baseline_) << "a refused request left a row behind or deleted one";
    for (const auto* u : {&w_.a, &w_.b}) {
      auto inbox = receive(*u);
      EXPECT_TRUE(inbox.friend_requests.empty());
      EXPECT_TRUE(inbox.friend_responses.empty());
      EXPECT_TRUE(inbox.group_invites.empty());
      EXPECT_TRUE(inbox.messages.empty());
    }
    auto log = poll_groups(w_.a, {w_.group});
    ASSERT_EQ(log.messages.size(), 1u);
    EXPECT_EQ(log.messages[0].enc_content, "baseline");
    EXPECT_EQ(log.messages[0].from_user_id, w_.a.id);
  }

  World w_;
  Counts baseline_;
};

class BolaEndpointTest : public BolaTest, public ::testing::WithParamInterface<Endpoint> {};

TEST_P(BolaEndpointTest, RefusesForeignMissingAndForgedCredentialsAndChangesNothing) {
  const Endpoint& e = GetParam();
  std::set<std::string> unauthorized_bodies;
  for (const auto& at : kAttempts) {
    SCOPED_TRACE(std::string(e.path) + " " + at.label);
    auto body = body_for(e, at);
    auto res = http().post(e.path, body);
    EXPECT_EQ(res.status, at.status) << body << " -> " << res.body;
    EXPECT_TRUE(res.content_type.starts_with("text/plain")) << res.content_type;
    EXPECT_NE(res.body.find(at.reason), std::string::npos) << res.body;
    EXPECT_EQ(res.body.find(w_.a.token), std::string::npos) << "no token echoed";
    EXPECT_EQ(res.body.find(w_.b.token), std::string::npos) << "no token echoed";
    if (res.status == 401) unauthorized_bodies.insert(res.body);
  }
  // Unknown user and wrong token read the same, so a 401 does not reveal which ids exist.
  EXPECT_EQ(unauthorized_bodies.size(), 1u);
  expect_nothing_changed(std::string("after every refused ") + e.path);

  // Control: the same body with A's real credentials is valid, so the refusals above were
  // about the credentials and nothing else.
  json::object legit = e.body(w_, w_.a.id, w_.b.id);
  legit[e.acting_field] = w_.a.id;
  legit["authToken"] = w_.a.token;
  auto res = http().post(e.path, json::serialize(legit));
  EXPECT_EQ(res.status, 200) << res.body;
}

std::string endpoint_name(const ::testing::TestParamInfo<Endpoint>& param) {
  return std::string(param.param.path + 1);  // "/postmsg" -> "postmsg"
}

INSTANTIATE_TEST_SUITE_P(Bola, BolaEndpointTest, ::testing::ValuesIn(kEndpoints), endpoint_name);

// /receive answers from the caller's own queue only, and its cursor acknowledges (deletes) the
// caller's own items only.
TEST_F(BolaTest, ReceiveNeverReturnsOrForgetsAnotherUsersItems) {
  const auto& a = w_.a;
  const auto& b = w_.b;
  auto carol = register_user();
  // Everything that can be queued, for B, from both A and a third user.
  const TestUser* from_both[] = {&a, &carol};
  for (const auto* from : from_both) {
    ASSERT_EQ(http()
                  .post("/connect", proto::encode(proto::FriendRequest{
                                        from->id, from->token, b.id, 0,
                                        std::string(proto::kKeyAgreementProtocol), "cHVi"}))
                  .status,
              200);
    ASSERT_EQ(http()
                  .post("/connect2", proto::encode(proto::FriendResponse{from->id, from->token,
                                                                         b.id, 0, "cmVzcA=="}))
                  .status,
              200);
    ASSERT_EQ(
        http()
            .post("/groupinv", proto::encode(proto::GroupInvite{from->id, from->token, b.id,
                                                                w_.group, 0, "AES_256", "aW52"}))
            .status,
        200);
    ASSERT_EQ(post_message(*from, b.id, "for B").status, 200);
  }
  ASSERT_EQ(post_message(b, a.id, "for A").status, 200);

  auto raw = http().post("/receive", proto::encode(proto::User{a.id, "", a.token, 0}));
  ASSERT_EQ(raw.status, 200);
  auto mine = proto::decode_notifications(raw.body, proto::UnknownFields::kReject);
  ASSERT_TRUE(mine.ok()) << raw.body;
  EXPECT_TRUE(mine->friend_requests.empty());
  EXPECT_TRUE(mine->friend_responses.empty());
  EXPECT_TRUE(mine->group_invites.empty());
  ASSERT_EQ(mine->messages.size(), 1u) << raw.body;
  EXPECT_EQ(mine->messages[0].to_id, a.id);
  EXPECT_EQ(mine->messages[0].enc_content, "for A");
  EXPECT_EQ(raw.body.find("for B"), std::string::npos) << raw.body;

  // A acknowledges "everything" with the largest cursor there is: only A's queue is forgotten.
  auto ack = http().post(
      "/receive",
      proto::encode(proto::User{a.id, "", a.token, std::numeric_limits<std::int64_t>::max()}));
  ASSERT_EQ(ack.status, 200) << ack.body;
  EXPECT_EQ(ack.body.find("for B"), std::string::npos) << ack.body;
  auto deadline = Clock::now() + std::chrono::seconds(5);
  while (!receive(a).messages.empty() && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(receive(a).messages.empty()) << "A's own acknowledged item is forgotten";
  auto theirs = receive(b);
  EXPECT_EQ(theirs.friend_requests.size(), 2u);
  EXPECT_EQ(theirs.friend_responses.size(), 2u);
  EXPECT_EQ(theirs.group_invites.size(), 2u);
  EXPECT_EQ(theirs.messages.size(), 2u);

  // User queues and group logs never alias: B's user id is no group A could poll.
  EXPECT_TRUE(poll_groups(a, {b.id}).messages.empty());
  auto as_group =
      http().post("/pollgroup", proto::encode(proto::PollGroup{a.id, a.token, b.id, 0}));
  EXPECT_EQ(as_group.status, 404) << as_group.body;
  EXPECT_EQ(as_group.body.find("for B"), std::string::npos);
}

// Only the caller's own id in a long-poll's list stands for a direct queue; any other id is
// read as a group id. So listing B's user id never wakes on B's traffic, whether it was queued
// before the poll began or while it waits.
TEST_F(BolaTest, LongPollListingAnotherUsersIdDoesNotWakeOnTheirTraffic) {
  const auto& a = w_.a;
  const auto& b = w_.b;
  auto carol = register_user();
  ASSERT_EQ(post_message(carol, b.id, "queued before").status, 200);
  auto long_poll = [&](std::vector<std::string> ids) {
    auto body = proto::encode(proto::PollGroups{a.id, a.token, std::move(ids), 1});
    unsigned short port = server().port();
    return std::async(std::launch::async,
                      [port, body] { return HttpClient(port).post("/longpoll", body); });
  };

  auto started = Clock::now();
  auto poll = long_poll({a.id, b.id});
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_EQ(post_message(carol, b.id, "while waiting").status, 200);
  auto res = poll.get();
  auto waited =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "") << "timed out without news";
  EXPECT_GE(waited, kLongPollTimeoutMs - 100);

  // Control: the same poll does wake on A's own traffic.
  poll = long_poll({a.id, b.id});
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_EQ(post_message(carol, a.id, "for A").status, 200);
  res = poll.get();
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, a.id);
}

// A group id is a bearer capability by design (COMPAT §3: the in-person QR mode never tells
// the server who joined), so any registered user who knows it may post and poll; there is no
// membership to enforce. What the server does enforce: every post carries valid credentials of
// *some* user, and the stored sender is that authenticated user, never a claimed one.
TEST_F(BolaTest, GroupIdsAreBearerCapabilitiesButPostingNeedsSomeUsersCredentials) {
  const auto& a = w_.a;
  const auto& b = w_.b;
  // B was never invited, yet may post and poll: by design.
  ASSERT_EQ(post_group(b, w_.group, "from B").status, 200);
  auto polled =
      http().post("/pollgroup", proto::encode(proto::PollGroup{b.id, b.token, w_.group, 0}));
  ASSERT_EQ(polled.status, 200) << polled.body;

  // Without valid credentials of anyone, or claiming to be A with B's token: refused.
  const std::vector<std::pair<std::string, int>> refused = {
      {R"({"object":"SendMessage","toId":")" + w_.group + R"(","encContent":"anon"})", 400},
      {R"({"object":"SendMessage","toId":")" + w_.group +
           R"(","authToken":null,"fromUserId":null,"encContent":"anon"})",
       400},
      {proto::encode(proto::SendMessage{w_.group, "", a.id, "no token", 0}), 400},
      {proto::encode(proto::SendMessage{w_.group, b.token, a.id, "as A", 0}), 401},
      {proto::encode(proto::SendMessage{w_.group, a.token, kUnknownId, "ghost", 0}), 401},
  };
  for (const auto& [body, status] : refused) {
    auto res = http().post("/postgroup", body);
    EXPECT_EQ(res.status, status) << body << " -> " << res.body;
    EXPECT_FALSE(res.body.empty()) << "a reason is given";
  }
  auto log = poll_groups(a, {w_.group});
  ASSERT_EQ(log.messages.size(), 2u);
  EXPECT_EQ(log.messages[0].enc_content, "baseline");
  EXPECT_EQ(log.messages[0].from_user_id, a.id);
  EXPECT_EQ(log.messages[1].enc_content, "from B");
  EXPECT_EQ(log.messages[1].from_user_id, b.id) << "the authenticated sender, not a claimed one";

  // Polling a group likewise needs some user's valid credentials.
  auto anon_poll = http().post("/pollgroup", R"({"object":"PollGroup","groupId":")" + w_.group +
                                                 R"(","userId":")" + a.id + R"(","authToken":")" +
                                                 b.token + R"("})");
  EXPECT_EQ(anon_poll.status, 401) << anon_poll.body;
  EXPECT_EQ(anon_poll.body.find("from B"), std::string::npos);
}

}  // namespace
}  // namespace secchats::testing
