// Every endpoint's success path and error paths, against the real binary.
#include <boost/json/parse.hpp>

#include <fstream>
#include <regex>
#include <sstream>

#include "secchats/common/encoding.hpp"
#include "server_fixture.hpp"

namespace secchats::testing {
namespace {
namespace proto = secchats::protocol;
using proto::UnknownFields;

class ApiTest : public ServerTest {};

bool is_hex_of_length(const std::string& s, std::size_t n) {
  return s.size() == n && is_lower_hex(s);
}

TEST_F(ApiTest, RegisterAnswersGetAndPostWithOrWithoutBody) {
  std::set<std::string> ids;
  for (auto [method, body] : {std::pair{"GET", ""}, {"POST", ""}, {"POST", "{}"}}) {
    auto res = http().request(method, "/register", body);
    ASSERT_EQ(res.status, 200) << method << " " << res.body;
    EXPECT_EQ(res.content_type, "application/json");
    auto user = proto::decode_user(res.body, UnknownFields::kReject);
    ASSERT_TRUE(user.ok()) << res.body;
    EXPECT_TRUE(is_hex_of_length(*user->user_id, 32)) << "128-bit id";
    EXPECT_TRUE(is_hex_of_length(*user->auth_token, 64)) << "256-bit token";
    EXPECT_EQ(user->name, "");
    // Exactly the reference field set, in the reference order.
    EXPECT_TRUE(std::regex_match(
        res.body,
        std::regex(
            R"(\{"object":"User","userId":"[0-9a-f]{32}","name":"","authToken":"[0-9a-f]{64}","lastMessageTimestamp":0\})")))
        << res.body;
    ids.insert(*user->user_id);
  }
  EXPECT_EQ(ids.size(), 3u);
}

TEST_F(ApiTest, Register2AllocatesAGroupWithTheExactFieldSet) {
  auto alice = register_user();
  auto res = http().post("/register2", proto::encode(proto::User{alice.id, "", alice.token, 0}));
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_TRUE(std::regex_match(
      res.body,
      std::regex(
          R"(\{"object":"Group","groupId":"[0-9a-f]{32}","name":"","algorithm":null,"privateKey":null,"lastMessageTimestamp":0\})")))
      << res.body;
  EXPECT_TRUE(proto::decode_group(res.body, UnknownFields::kReject).ok());
}

TEST_F(ApiTest, FriendRequestAndResponseTravelWithoutTokens) {
  auto alice = register_user();
  auto bob = register_user();
  auto res = http().post("/connect", proto::encode(proto::FriendRequest{
                                         alice.id, alice.token, bob.id, 0,
                                         std::string(proto::kKeyAgreementProtocol), "cHVi"}));
  ASSERT_EQ(res.status, 200) << res.body;

  auto raw = http().post("/receive", proto::encode(proto::User{bob.id, "", bob.token, 0}));
  ASSERT_EQ(raw.status, 200);
  EXPECT_EQ(raw.body.find("authToken"), std::string::npos) << raw.body;
  EXPECT_EQ(raw.body.find(alice.token), std::string::npos);
  EXPECT_NE(raw.body.find(R"("protocol":"DH_512\/AES_256")"), std::string::npos) << raw.body;
  auto inbox = proto::decode_notifications(raw.body, UnknownFields::kReject);
  ASSERT_TRUE(inbox.ok()) << raw.body;
  ASSERT_EQ(inbox->friend_requests.size(), 1u);
  const auto& fr = inbox->friend_requests[0];
  EXPECT_EQ(fr.from_user_id, alice.id);
  EXPECT_EQ(fr.to_user_id, bob.id);
  EXPECT_EQ(fr.crypto_data, "cHVi");
  EXPECT_GT(fr.timestamp, 1700000000000) << "server-assigned epoch milliseconds";

  res =
      http().post("/connect2",
                  proto::encode(proto::FriendResponse{bob.id, bob.token, alice.id, 0, "cmVzcA=="}));
  ASSERT_EQ(res.status, 200) << res.body;
  auto alice_inbox = receive(alice);
  ASSERT_EQ(alice_inbox.friend_responses.size(), 1u);
  EXPECT_EQ(alice_inbox.friend_responses[0].from_user_id, bob.id);
  EXPECT_EQ(alice_inbox.friend_responses[0].crypto_data, "cmVzcA==");
  EXPECT_FALSE(alice_inbox.friend_responses[0].auth_token.has_value());
}

TEST_F(ApiTest, MessagesAreQueuedAndReturnedAfterTheCursor) {
  auto alice = register_user();
  auto bob = register_user();
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(post_message(alice, bob.id, std::string("m").append(std::to_string(i))).status, 200);
  auto all = receive(bob);
  ASSERT_EQ(all.messages.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(all.messages[i].enc_content, std::string("m").append(std::to_string(i)));
    EXPECT_EQ(all.messages[i].from_user_id, alice.id);
    EXPECT_EQ(all.messages[i].to_id, bob.id);
    if (i > 0) {
      EXPECT_GT(all.messages[i].timestamp, all.messages[i - 1].timestamp);
    }
  }
  auto after_first = receive(bob, all.messages[0].timestamp);
  ASSERT_EQ(after_first.messages.size(), 2u);
  EXPECT_EQ(after_first.messages[0].enc_content, "m1");
  EXPECT_TRUE(receive(bob, all.messages[2].timestamp).messages.empty());
  // Alice's own queue is untouched by what she sent.
  EXPECT_TRUE(receive(alice).messages.empty());
}

TEST_F(ApiTest, GroupInviteAndGroupLogs) {
  auto alice = register_user();
  auto bob = register_user();
  auto g1 = register_group(alice);
  auto g2 = register_group(alice);
  ASSERT_NE(g1, g2);

  auto res = http().post(
      "/groupinv", proto::encode(proto::GroupInvite{alice.id, alice.token, bob.id, g1, 0,
                                                    std::string(proto::kGroupAlgorithm), "aW52"}));
  ASSERT_EQ(res.status, 200) << res.body;
  auto inbox = receive(bob);
  ASSERT_EQ(inbox.group_invites.size(), 1u);
  EXPECT_EQ(inbox.group_invites[0].group_id, g1);
  EXPECT_EQ(inbox.group_invites[0].algorithm, "AES_256");
  EXPECT_EQ(inbox.group_invites[0].crypto_data, "aW52");

  auto post_group = [&](const TestUser& u, const std::string& g, const std::string& c) {
    return http().post("/postgroup", proto::encode(proto::SendMessage{g, u.token, u.id, c, 0}));
  };
  ASSERT_EQ(post_group(alice, g1, "a1").status, 200);
  ASSERT_EQ(post_group(bob, g2, "b2").status, 200);
  ASSERT_EQ(post_group(bob, g1, "b1").status, 200);

  // /pollgroup: one group's log.
  auto one = http().post("/pollgroup", proto::encode(proto::PollGroup{bob.id, bob.token, g1, 0}));
  ASSERT_EQ(one.status, 200) << one.body;
  auto log1 = proto::decode_group_notifications(one.body, UnknownFields::kReject);
  ASSERT_TRUE(log1.ok()) << one.body;
  ASSERT_EQ(log1->messages.size(), 2u);
  EXPECT_EQ(log1->messages[0].enc_content, "a1");
  EXPECT_EQ(log1->messages[0].to_id, g1);
  EXPECT_EQ(log1->messages[1].from_user_id, bob.id);

  // /pollgroups: every listed group, newer than the cursor, in timestamp order.
  auto both = poll_groups(bob, {g1, g2});
  ASSERT_EQ(both.messages.size(), 3u);
  EXPECT_EQ(both.messages[0].enc_content, "a1");
  EXPECT_EQ(both.messages[1].enc_content, "b2");
  EXPECT_EQ(both.messages[2].enc_content, "b1");
  auto newer = poll_groups(bob, {g1, g2}, both.messages[0].timestamp);
  ASSERT_EQ(newer.messages.size(), 2u);
  EXPECT_EQ(newer.messages[0].to_id, g2);
  // Unknown ids in the list are skipped, not fatal.
  EXPECT_EQ(poll_groups(bob, {"ffffffffffffffffffffffffffffffff", g2}).messages.size(), 1u);
}

// The exact bytes the reference client sends, with the ids swapped for live ones.
TEST_F(ApiTest, AcceptsTheReferenceClientsExactRequestBodies) {
  std::ifstream in(std::string(SECCHATS_VECTORS_DIR) + "/reference-json.json");
  std::stringstream ss;
  ss << in.rdbuf();
  auto doc = boost::json::parse(ss.str());
  const auto& requests = doc.at("requests_as_sent_by_reference_client").as_object();

  auto me = register_user();
  auto friend_user = register_user();
  auto group = register_group(me);
  auto live = [&](std::string body) {
    auto swap = [&](const std::string& from, const std::string& to) {
      for (auto pos = body.find(from); pos != std::string::npos;
           pos = body.find(from, pos + to.size()))
        body.replace(pos, from.size(), to);
    };
    swap("8e1f0c2d3b4a59687766554433221100", me.id);
    swap("f3c1d2e4a5b60718293a4b5c6d7e8f90f3c1d2e4a5b60718293a4b5c6d7e8f90", me.token);
    swap("0a1b2c3d4e5f60718293a4b5c6d7e8f9", friend_user.id);
    swap("5be0c1d2e3f4a5b697887766554433aa", group);
    return body;
  };
  for (const auto& [endpoint, value] : requests) {
    std::string path(endpoint);
    if (path == "/register") continue;  // described, not a body
    std::string body = live(std::string(value.as_string()));
    if (path == "/longpoll") {
      // Traffic already waits for this user, so the long-poll answers at once.
      ASSERT_EQ(post_message(friend_user, me.id, "x").status, 200);
    }
    auto res = http().post(path, body);
    EXPECT_EQ(res.status, 200) << path << ": " << res.body;
  }
  EXPECT_EQ(receive(friend_user).friend_requests.size(), 1u);
}

TEST_F(ApiTest, MalformedBodiesGet400AndChangeNothing) {
  auto alice = register_user();
  auto bob = register_user();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/postmsg", "not json"},
      {"/postmsg", "[1,2]"},
      {"/postmsg", "{\"object\":\"SendMessage\",\"toId\":"},
      {"/postmsg", R"({"object":"SendMessage","toId":5,"authToken":")" + alice.token +
                       R"(","fromUserId":")" + alice.id + R"(","encContent":"x"})"},
      {"/postmsg", R"({"object":"SendMessage","toId":")" + bob.id + R"(","authToken":")" +
                       alice.token + R"(","fromUserId":")" + alice.id + R"("})"},  // no content
      {"/postmsg", R"({"object":"SendMessage","authToken":")" + alice.token +
                       R"(","fromUserId":")" + alice.id + R"(","encContent":"x"})"},  // no toId
      {"/postmsg", R"({"object":"SendMessage","toId":")" + bob.id + R"(","authToken":")" +
                       alice.token + R"(","fromUserId":")" + alice.id +
                       R"(","encContent":"x","timestamp":"soon"})"},
      {"/postmsg", R"({"object":"User","userId":")" + alice.id + R"("})"},  // wrong class
      {"/connect", R"({"object":"FriendRequest","fromUserId":")" + alice.id + R"(","authToken":")" +
                       alice.token + R"(","toUserId":")" + bob.id + R"("})"},  // no cryptoData
      {"/receive", R"({"object":"User","userId":")" + bob.id + R"(","authToken":")" + bob.token +
                       R"(","lastMessageTimestamp":1.5})"},
      {"/pollgroups", R"({"object":"PollGroups","userId":")" + bob.id + R"(","authToken":")" +
                          bob.token + R"(","groupIds":"g"})"},
      {"/receive", R"({"object":"User","authToken":")" + bob.token + R"("})"},  // no userId
  };
  for (const auto& [path, body] : cases) {
    auto res = http().post(path, body);
    EXPECT_EQ(res.status, 400) << path << " " << body << " -> " << res.body;
    EXPECT_FALSE(res.body.empty()) << "a reason is given";
    EXPECT_EQ(res.body.find("exception"), std::string::npos);
  }
  auto inbox = receive(bob);
  EXPECT_TRUE(inbox.messages.empty());
  EXPECT_TRUE(inbox.friend_requests.empty());
}

TEST_F(ApiTest, WrongTokensAndActingAsAnotherUserGet401) {
  auto alice = register_user();
  auto bob = register_user();
  auto group = register_group(alice);
  TestUser forged{alice.id, bob.token};  // Bob's token, Alice's id
  TestUser unknown{"0123456789abcdef0123456789abcdef", alice.token};
  for (const auto& who : {forged, unknown, TestUser{alice.id, alice.token + "0"}}) {
    EXPECT_EQ(post_message(who, bob.id, "x").status, 401);
    EXPECT_EQ(http().post("/receive", proto::encode(proto::User{who.id, "", who.token, 0})).status,
              401);
    EXPECT_EQ(
        http().post("/register2", proto::encode(proto::User{who.id, "", who.token, 0})).status,
        401);
    EXPECT_EQ(http()
                  .post("/connect", proto::encode(proto::FriendRequest{who.id, who.token, bob.id, 0,
                                                                       "DH_512/AES_256", "x"}))
                  .status,
              401);
    EXPECT_EQ(http()
                  .post("/connect2",
                        proto::encode(proto::FriendResponse{who.id, who.token, bob.id, 0, "x"}))
                  .status,
              401);
    EXPECT_EQ(http()
                  .post("/groupinv", proto::encode(proto::GroupInvite{who.id, who.token, bob.id,
                                                                      group, 0, "AES_256", "x"}))
                  .status,
              401);
    EXPECT_EQ(
        http()
            .post("/postgroup", proto::encode(proto::SendMessage{group, who.token, who.id, "x", 0}))
            .status,
        401);
    EXPECT_EQ(http()
                  .post("/pollgroup", proto::encode(proto::PollGroup{who.id, who.token, group, 0}))
                  .status,
              401);
    EXPECT_EQ(
        http()
            .post("/pollgroups", proto::encode(proto::PollGroups{who.id, who.token, {group}, 0}))
            .status,
        401);
    EXPECT_EQ(
        http()
            .post("/longpoll", proto::encode(proto::PollGroups{who.id, who.token, {who.id}, 0}))
            .status,
        401);
  }
  // A missing token is a malformed request, not a wrong one.
  EXPECT_EQ(http().post("/receive", R"({"object":"User","userId":")" + alice.id + R"("})").status,
            400);
  EXPECT_TRUE(receive(bob).messages.empty());
  EXPECT_TRUE(receive(bob).friend_requests.empty());
  EXPECT_TRUE(poll_groups(alice, {group}).messages.empty());
}

TEST_F(ApiTest, UnknownTargetsGet404) {
  auto alice = register_user();
  const std::string ghost = "00000000000000000000000000000000";
  auto group = register_group(alice);
  EXPECT_EQ(http()
                .post("/connect", proto::encode(proto::FriendRequest{alice.id, alice.token, ghost,
                                                                     0, "DH_512/AES_256", "x"}))
                .status,
            404);
  EXPECT_EQ(post_message(alice, ghost, "x").status, 404);
  EXPECT_EQ(http()
                .post("/connect2",
                      proto::encode(proto::FriendResponse{alice.id, alice.token, ghost, 0, "x"}))
                .status,
            404);
  EXPECT_EQ(http()
                .post("/groupinv", proto::encode(proto::GroupInvite{alice.id, alice.token, ghost,
                                                                    group, 0, "AES_256", "x"}))
                .status,
            404);
  EXPECT_EQ(http()
                .post("/postgroup",
                      proto::encode(proto::SendMessage{ghost, alice.token, alice.id, "x", 0}))
                .status,
            404);
  EXPECT_EQ(
      http()
          .post("/pollgroup", proto::encode(proto::PollGroup{alice.id, alice.token, ghost, 0}))
          .status,
      404);
  EXPECT_EQ(http().post("/nope", "{}").status, 404);
  EXPECT_EQ(http().get("/postmsg").status, 405);
}

TEST_F(ApiTest, OversizedBodiesGet413AndTheServerGoesOn) {
  auto alice = register_user();
  auto bob = register_user();
  std::string big(1100 * 1024, 'A');
  auto res = post_message(alice, bob.id, big);
  EXPECT_EQ(res.status, 413) << res.body;
  // Just under the limit (1 MiB body) is accepted.
  std::string fits(1024 * 1024 - 400, 'B');
  EXPECT_EQ(post_message(alice, bob.id, fits).status, 200);
  auto inbox = receive(bob);
  ASSERT_EQ(inbox.messages.size(), 1u);
  EXPECT_EQ(inbox.messages[0].enc_content->size(), fits.size());
}

TEST_F(ApiTest, MalformedHttpGets400) {
  auto reply = HttpClient::raw_exchange(server().port(), "BLAH / HTTP/9.9\r\nfoo\r\n\r\n");
  EXPECT_NE(reply.find("400"), std::string::npos) << reply;
  EXPECT_EQ(http().post("/register", "").status, 200) << "server still serves";
}

// Several requests in one segment (pipelining), an HTTP/1.0 one, a closing one and a POST
// body: each is parsed from what is already buffered and answered in order, byte for byte.
TEST_F(ApiTest, PipelinedRequestsAreAnsweredInOrderWithExactBytes) {
  const std::string ok =
      "HTTP/1.1 200 OK\r\nServer: secchats\r\nContent-Type: text/plain; charset=utf-8\r\n"
      "Cache-Control: no-store\r\nContent-Length: 3\r\n\r\nok\n";
  const std::string ok_http10 =
      "HTTP/1.0 200 OK\r\nServer: secchats\r\nContent-Type: text/plain; charset=utf-8\r\n"
      "Cache-Control: no-store\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nok\n";
  const std::string bad_json_reply =
      "HTTP/1.1 400 Bad Request\r\nServer: secchats\r\n"
      "Content-Type: text/plain; charset=utf-8\r\n"
      "Cache-Control: no-store\r\nConnection: close\r\n";
  const std::string reply = HttpClient::raw_exchange(
      server().port(),
      "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
      "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /receive HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\n"
      "{\"a\":");
  ASSERT_EQ(reply.substr(0, ok.size() + ok_http10.size() + ok.size()), ok + ok_http10 + ok)
      << reply;
  EXPECT_EQ(reply.substr(ok.size() * 2 + ok_http10.size(), bad_json_reply.size()), bad_json_reply)
      << reply;
  EXPECT_EQ(http().get("/healthz").status, 200) << "server still serves";
}

TEST_F(ApiTest, VarzShowsCountsButNoIds) {
  auto alice = register_user();
  auto bob = register_user();
  ASSERT_EQ(post_message(alice, bob.id, "x").status, 200);
  auto res = http().get("/varz");
  ASSERT_EQ(res.status, 200);
  auto v = boost::json::parse(res.body);
  EXPECT_EQ(v.at("users").as_int64(), 2);
  EXPECT_EQ(v.at("queued_items").as_int64(), 1);
  EXPECT_GE(v.at("requests").at("/postmsg").as_int64(), 1);
  EXPECT_EQ(res.body.find(alice.id), std::string::npos);
  EXPECT_EQ(res.body.find(bob.id), std::string::npos);
}

TEST_F(ApiTest, HealthzAnswersOkWhileStorageServesAndIsCountedInVarz) {
  auto res = http().get("/healthz");
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "ok\n");
  EXPECT_EQ(http().post("/healthz", "").status, 405);
  auto v = boost::json::parse(http().get("/varz").body);
  EXPECT_GE(v.at("requests").at("/healthz").as_int64(), 1);
}

TEST_F(ApiTest, ConcurrentWritersAreReadBackExactlyOnceInOrder) {
  constexpr int kWriters = 8;
  constexpr int kPerWriter = 500;
  auto target = register_user();
  std::vector<TestUser> writers;
  for (int i = 0; i < kWriters; ++i)
    writers.push_back(register_user());

  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      HttpClient client(server().port());
      for (int i = 0; i < kPerWriter; ++i) {
        auto body =
            proto::encode(proto::SendMessage{target.id, writers[w].token, writers[w].id,
                                             std::to_string(w) + ":" + std::to_string(i), 0});
        if (client.post("/postmsg", body).status != 200) ++failures;
      }
    });
  }

  // Read by cursor while the writers are still going.
  std::map<std::string, int> seen;
  std::vector<std::string> delivered;  // in delivery order
  std::int64_t cursor = 0;
  std::int64_t last_ts = 0;
  bool ordered = true;
  auto drain_once = [&] {
    auto inbox = receive(target, cursor);
    for (const auto& m : inbox.messages) {
      if (m.timestamp <= last_ts) ordered = false;
      last_ts = m.timestamp;
      ++seen[*m.enc_content];
      delivered.push_back(*m.enc_content);
      cursor = m.timestamp;
    }
    return inbox.messages.size();
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
  while (seen.size() < kWriters * kPerWriter && std::chrono::steady_clock::now() < deadline) {
    if (drain_once() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (auto& t : threads)
    t.join();
  drain_once();

  EXPECT_EQ(failures.load(), 0);
  EXPECT_TRUE(ordered) << "timestamps strictly increase in delivery order";
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kWriters * kPerWriter));
  for (const auto& [content, count] : seen)
    EXPECT_EQ(count, 1) << content;
  // Each writer's messages arrive in the order it sent them. (Re-reading from cursor 0 would
  // find nothing: the cursors above acknowledged, and so deleted, everything.)
  std::map<int, int> next_per_writer;
  for (const auto& content : delivered) {
    auto colon = content.find(':');
    int w = std::stoi(content.substr(0, colon));
    int i = std::stoi(content.substr(colon + 1));
    EXPECT_EQ(i, next_per_writer[w]) << "writer " << w;
    next_per_writer[w] = i + 1;
  }
  auto varz = boost::json::parse(http().get("/varz").body);
  std::cout << "[ info ] " << kWriters * kPerWriter << " concurrent posts committed in "
            << varz.at("write_batches").as_int64() << " transactions (largest batch "
            << varz.at("write_max_batch").as_int64() << ")\n";
}

}  // namespace
}  // namespace secchats::testing
