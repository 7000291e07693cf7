// Self-tests of the test-support TamperingProxy and V1Peer: the real relay behind the proxy,
// reference-client stand-ins and a real CLI user talking through it.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "proxied_fixture.hpp"
#include "secchats/crypto/random.hpp"
#include "secchats/protocol/json_codec.hpp"
#include "support/http_client.hpp"
#include "support/v1_peer.hpp"

namespace secchats::testing {
namespace {

using protocol::UnknownFields;
using Exchange = TamperingProxy::Exchange;

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

class SupportSelfTest : public ProxiedE2eTest {
 protected:
  // Two reference peers become friends: a asks, b answers, a completes.
  void befriend(V1Peer& a, V1Peer& b) {
    ASSERT_EQ(a.add_friend(b.user_id()), 200);
    auto at_b = b.poll();
    ASSERT_TRUE(contains(at_b.accepted, a.user_id()));
    auto at_a = a.poll();
    ASSERT_TRUE(contains(at_a.completed, b.user_id()));
    ASSERT_FALSE(a.channel_key(b.user_id()).empty());
    ASSERT_EQ(a.channel_key(b.user_id()), b.channel_key(a.user_id()));
  }
};

TEST_F(SupportSelfTest, ProxyForwardsRecordsAndNeverBlocksOnALongPoll) {
  HttpClient client(proxy_->port());
  auto reg = client.get("/register");
  ASSERT_EQ(reg.status, 200) << reg.body;
  auto user = protocol::decode_user(reg.body, UnknownFields::kReject);
  ASSERT_TRUE(user.ok()) << reg.body;
  protocol::User me = *user;
  me.name = "";
  const std::string receive_body = protocol::encode(me);
  auto received = client.post("/receive", receive_body);
  ASSERT_EQ(received.status, 200) << received.body;
  EXPECT_TRUE(protocol::decode_notifications(received.body, UnknownFields::kReject).ok());

  auto log = proxy_->exchanges();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].method, "GET");
  EXPECT_EQ(log[0].path, "/register");
  EXPECT_EQ(log[0].status, 200);
  EXPECT_EQ(log[0].response_body, reg.body);
  EXPECT_TRUE(log[0].completed);
  EXPECT_EQ(log[1].method, "POST");
  EXPECT_EQ(log[1].path, "/receive");
  EXPECT_EQ(log[1].request_body, receive_body);
  EXPECT_EQ(log[1].forwarded_body, receive_body);
  EXPECT_EQ(log[1].status, 200);
  EXPECT_EQ(log[1].response_body, received.body);
  EXPECT_EQ(log[1].upstream_body, received.body);
  EXPECT_FALSE(log[1].request_rewritten || log[1].response_rewritten || log[1].dropped);
  EXPECT_EQ(proxy_->exchanges("/receive").size(), 1u);

  // A long-poll parks at the relay; other requests still go through at once.
  protocol::PollGroups wait;
  wait.user_id = me.user_id;
  wait.auth_token = me.auth_token;
  wait.group_ids = {*me.user_id};
  const std::string wait_body = protocol::encode(wait);
  std::atomic<int> longpoll_status{-1};
  std::thread longpoller([&] {
    HttpClient lp(proxy_->port());
    try {
      longpoll_status = lp.post("/longpoll", wait_body).status;
    } catch (const std::exception&) {
      longpoll_status = 0;  // cut
    }
  });
  ASSERT_TRUE(proxy_->wait_for(
      [](const std::vector<Exchange>& x) {
        return !x.empty() && x.back().path == "/longpoll" && !x.back().completed;
      },
      std::chrono::seconds(5)));
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(client.post("/receive", receive_body).status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));

  // A dropped request is answered 503 and never reaches the relay.
  proxy_->set_drop([](std::string_view path, std::string_view) { return path == "/receive"; });
  auto dropped = client.post("/receive", receive_body);
  EXPECT_EQ(dropped.status, 503);
  auto last = proxy_->exchanges().back();
  EXPECT_TRUE(last.dropped);
  EXPECT_EQ(last.status, 503);
  EXPECT_TRUE(last.upstream_body.empty());
  proxy_->reset_hooks();
  EXPECT_EQ(client.post("/receive", receive_body).status, 200);
  proxy_->clear();
  EXPECT_TRUE(proxy_->exchanges().empty());

  // Destroying the proxy cuts the long-poll in flight, without waiting for the relay.
  const auto t1 = std::chrono::steady_clock::now();
  proxy_.reset();
  longpoller.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t1, std::chrono::seconds(5));
  EXPECT_EQ(longpoll_status.load(), 0);
}

TEST_F(SupportSelfTest, RewritersChangeWhatTheRelayStoresAndWhatClientsSee) {
  V1Peer alice(proxy_->port(), "Alice");
  V1Peer bob(proxy_->port(), "Bob");
  alice.register_account();
  bob.register_account();
  befriend(alice, bob);

  // The "relay" swaps Alice's ciphertext for one of its own (it knows the key here).
  const std::string forged =
      alice.encrypt_for(bob.user_id(), protocol::encode(alice.make_text(bob.user_id(), "forged")));
  proxy_->set_request_rewriter(
      [&](std::string_view path, std::string_view body) -> std::optional<std::string> {
        if (path != "/postmsg") return std::nullopt;
        auto m = protocol::decode_send_message(body);
        if (!m.ok()) return std::nullopt;
        m->enc_content = forged;
        return protocol::encode(*m);
      });
  alice.send_text(bob.user_id(), "original");
  proxy_->reset_hooks();
  auto got = bob.poll();
  ASSERT_EQ(got.messages.size(), 1u) << got.raw_body;
  EXPECT_EQ(got.messages[0].text, "forged");
  EXPECT_EQ(got.messages[0].from_user_id, alice.user_id());
  auto posts = proxy_->exchanges("/postmsg");
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_TRUE(posts[0].request_rewritten);
  EXPECT_NE(posts[0].forwarded_body, posts[0].request_body);
  auto stored = protocol::decode_send_message(posts[0].forwarded_body);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->enc_content, forged);

  // Strict like the reference: one unknown field and the whole /receive response is lost.
  alice.send_text(bob.user_id(), "kept for later");
  proxy_->set_response_rewriter([](std::string_view path, std::string_view,
                                   std::string_view body) -> std::optional<std::string> {
    if (path != "/receive" || body.empty() || body.back() != '}') return std::nullopt;
    std::string out(body.substr(0, body.size() - 1));
    return out + ",\"more\":false}";
  });
  const std::int64_t cursor = bob.cursor();
  EXPECT_THROW(bob.poll(), V1PeerError);
  EXPECT_EQ(bob.cursor(), cursor);
  EXPECT_TRUE(proxy_->exchanges("/receive").back().response_rewritten);
  proxy_->reset_hooks();
  got = bob.poll();
  ASSERT_EQ(got.messages.size(), 1u);
  EXPECT_EQ(got.messages[0].text, "kept for later");

  // An unknown type (UPDATE) and an undecryptable body are recorded, not fatal.
  auto update = alice.make_text(bob.user_id(), "{\"bundle\":1}");
  update.type = "UPDATE";
  EXPECT_EQ(alice.send_message(bob.user_id(), update).status, 200);
  EXPECT_EQ(
      alice.raw_post("/postmsg", alice.postmsg_body(bob.user_id(), "AAAAAAAAAAAAAAAAAAAAAAAA"))
          .status,
      200);
  alice.send_text(bob.user_id(), "still fine");
  got = bob.poll();
  ASSERT_EQ(got.messages.size(), 1u);
  EXPECT_EQ(got.messages[0].text, "still fine");
  ASSERT_EQ(got.anomalies.size(), 2u);
  EXPECT_EQ(got.anomalies[0].kind, V1Anomaly::Kind::kUnknownType);
  EXPECT_EQ(got.anomalies[0].detail, "UPDATE");
  ASSERT_TRUE(got.anomalies[0].message.has_value());
  EXPECT_EQ(got.anomalies[0].message->message_id, update.message_id);
  EXPECT_EQ(got.anomalies[1].kind, V1Anomaly::Kind::kUndecryptable);
  EXPECT_EQ(bob.anomalies().size(), 2u);
}

TEST_F(SupportSelfTest, ReplayReturnsTheOriginalStatus) {
  V1Peer alice(proxy_->port(), "Alice");
  V1Peer bob(proxy_->port(), "Bob");
  alice.register_account();
  bob.register_account();
  befriend(alice, bob);

  const std::int64_t id = alice.send_text(bob.user_id(), "once");
  auto post = proxy_->exchanges("/postmsg");
  ASSERT_EQ(post.size(), 1u);
  ASSERT_EQ(post[0].status, 200);
  EXPECT_EQ(proxy_->replay(post[0]).status, 200);
  EXPECT_EQ(proxy_->replay(post[0].path, post[0].forwarded_body).status, 200);
  EXPECT_EQ(proxy_->exchanges("/postmsg").size(), 1u);  // replays bypass the proxy
  auto got = bob.poll();
  ASSERT_EQ(got.messages.size(), 1u);
  EXPECT_EQ(got.messages[0].message_id, id);
  ASSERT_EQ(got.anomalies.size(), 2u);  // the reference drops duplicates
  EXPECT_EQ(got.anomalies[0].kind, V1Anomaly::Kind::kDuplicate);

  // A failure replays as the same failure.
  EXPECT_EQ(alice.add_friend(crypto::random_hex(16)), 404);
  auto connect = proxy_->exchanges("/connect").back();
  ASSERT_EQ(connect.status, 404);
  EXPECT_EQ(proxy_->replay(connect).status, 404);
  auto bad_token = alice.raw_post("/receive", "{\"object\":\"User\",\"userId\":\"" +
                                                  alice.user_id() + "\",\"authToken\":\"00\"}");
  ASSERT_EQ(bad_token.status, 401);
  EXPECT_EQ(proxy_->replay(proxy_->exchanges().back()).status, 401);

  // Loss: a dropped message never reaches the relay.
  proxy_->set_drop([](std::string_view path, std::string_view) { return path == "/postmsg"; });
  EXPECT_EQ(alice.send_message(bob.user_id(), alice.make_text(bob.user_id(), "lost")).status, 503);
  proxy_->reset_hooks();
  got = bob.poll();
  EXPECT_TRUE(got.messages.empty());
  EXPECT_TRUE(got.anomalies.empty());
}

TEST_F(SupportSelfTest, V1PeerAndCliUserBefriendAndChatBothWaysThroughTheProxy) {
  std::string carol_id;
  CliUser carol = make_cli("Carol", &carol_id);
  V1Peer ref(proxy_->port(), "Ref");
  V1Peer ref2(proxy_->port(), "Ref2");
  ref.register_account();
  ref2.register_account();

  // The reference client asks (on P-256 here), the CLI accepts.
  ASSERT_EQ(ref.add_friend(carol_id, crypto::v1::Curve::kP256), 200);
  auto events = ok(carol, {"sync"});
  auto requests = events_of(events, "friendRequest");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(str(requests[0], "userId"), ref.user_id());
  ok(carol, {"accept", ref.user_id()});
  auto polled = ref.poll();
  ASSERT_TRUE(contains(polled.completed, carol_id)) << polled.raw_body;

  // The CLI asks (P-521), the reference client answers.
  ok(carol, {"add", ref2.user_id()});
  polled = ref2.poll();
  ASSERT_TRUE(contains(polled.accepted, carol_id)) << polled.raw_body;
  events = ok(carol, {"sync"});
  auto accepted = events_of(events, "friendAccepted");
  ASSERT_EQ(accepted.size(), 1u);
  EXPECT_EQ(str(accepted[0], "userId"), ref2.user_id());
  EXPECT_EQ(ok(carol, {"friends"}).size(), 2u);

  // Text both ways with both.
  for (V1Peer* peer : {&ref, &ref2}) {
    const std::string to_peer = "hello " + peer->nickname() + " from the CLI ✓";
    ok(carol, {"send", peer->user_id(), to_peer});
    polled = peer->poll();
    ASSERT_EQ(polled.messages.size(), 1u) << polled.raw_body;
    EXPECT_EQ(polled.messages[0].type, "TEXT");
    EXPECT_EQ(polled.messages[0].text, to_peer);
    EXPECT_EQ(polled.messages[0].from_user_id, carol_id);
    EXPECT_EQ(polled.messages[0].from_name, "Carol");

    const std::string to_cli = "hi Carol, " + peer->nickname() + " on v1 ✓";
    const std::int64_t id = peer->send_text(carol_id, to_cli);
    auto messages = events_of(ok(carol, {"sync"}), "message");
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_EQ(str(messages[0], "text"), to_cli);
    EXPECT_EQ(str(messages[0], "fromUserId"), peer->user_id());
    EXPECT_EQ(str(messages[0], "fromName"), peer->nickname());
    EXPECT_EQ(str(messages[0], "messageId"), std::to_string(id));  // ids are strings
  }
  // Our client offers v2 only to friends whose key exchange carried our marker
  // (docs/protocol-v2.md §2.1): a reference client gets nothing it cannot show.
  for (const V1Peer* peer : {&ref, &ref2}) {
    EXPECT_TRUE(peer->anomalies().empty()) << to_string(peer->anomalies().front().kind);
  }

  // Everything went through the proxy: the CLI's answer and request, everybody's messages.
  EXPECT_EQ(proxy_->exchanges("/connect2").size(), 2u);
  EXPECT_EQ(proxy_->exchanges("/connect").size(), 2u);
  EXPECT_EQ(proxy_->exchanges("/postmsg").size(), 4u);  // 4 texts, no v2 offer
  for (const auto& x : proxy_->exchanges()) {
    EXPECT_TRUE(x.completed) << x.path;
    EXPECT_EQ(x.status, 200) << x.path << ": " << x.response_body;
  }
}

}  // namespace
}  // namespace secchats::testing
