// /longpoll under the reference UI's polling loop (COMPAT §8): /receive, then /pollgroups,
// then /longpoll with lastMessageTimestamp = the maximum of its GROUP cursors and its own id
// last in groupIds; after a null answer it sleeps 1 s. Bodies and headers as that client
// sends them. The rule under test: one long-poll round per new item, and no item missed.
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "server_fixture.hpp"

namespace secchats::testing {
namespace {
namespace proto = secchats::protocol;
namespace asio = boost::asio;
namespace beast = boost::beast;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int kLongPollTimeoutMs = 2000;

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// One request the way Java 21's HttpClient sends it for the reference client: an h2c upgrade
// offer the relay must ignore, answered over HTTP/1.1. A fresh connection per request keeps
// the helper usable from several threads.
HttpResult java_post(unsigned short port, const std::string& path, const std::string& body) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(std::chrono::seconds(30));
  stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  std::string req = "POST " + path +
                    " HTTP/1.1\r\n"
                    "Connection: Upgrade, HTTP2-Settings\r\n"
                    "Content-Length: " +
                    std::to_string(body.size()) +
                    "\r\n"
                    "Host: 127.0.0.1:" +
                    std::to_string(port) +
                    "\r\n"
                    "HTTP2-Settings: AAEAAEAAAAIAAAABAAMAAABkAAQBAAAAAAUAAEAA\r\n"
                    "Upgrade: h2c\r\n"
                    "User-Agent: Java-http-client/21.0.5\r\n"
                    "Content-Type: application/json\r\n"
                    "\r\n" +
                    body;
  asio::write(stream, asio::buffer(req));
  beast::flat_buffer buffer;
  beast::http::response<beast::http::string_body> res;
  beast::http::read(stream, buffer, res);
  return {static_cast<int>(res.result_int()), res.body(),
          std::string(res[beast::http::field::content_type])};
}

// The reference UI's side of the protocol: its cursors and its three requests.
class ReferenceUi {
 public:
  ReferenceUi(TestUser user, std::vector<std::string> groups)
      : user_(std::move(user)), groups_(std::move(groups)) {
    for (const auto& g : groups_)
      group_cursors_[g] = 0;
  }

  const std::string& id() const { return user_.id; }

  // /receive with its direct-queue cursor (the nickname in clear, as the UI sends it); moves
  // the cursor to the newest item. Returns the number of items fetched.
  int receive(unsigned short port) {
    std::string body = R"({"object":"User","userId":")" + user_.id +
                       R"(","name":"Bob","authToken":")" + user_.token +
                       R"(","lastMessageTimestamp":)" + std::to_string(direct_cursor_) + "}";
    HttpResult res = java_post(port, "/receive", body);
    EXPECT_EQ(res.status, 200) << res.body;
    auto n = proto::decode_notifications(res.body, proto::UnknownFields::kReject);
    EXPECT_TRUE(n.ok()) << res.body;
    if (!n.ok()) return 0;
    int fetched = 0;
    auto take = [&](std::int64_t ts) {
      direct_cursor_ = std::max(direct_cursor_, ts);
      ++fetched;
    };
    for (const auto& r : n->friend_requests)
      take(r.timestamp);
    for (const auto& r : n->friend_responses)
      take(r.timestamp);
    for (const auto& i : n->group_invites)
      take(i.timestamp);
    for (const auto& m : n->messages)
      take(m.timestamp);
    return fetched;
  }

  // /pollgroups from the maximum of its group cursors; moves each group's cursor.
  int poll_groups(unsigned short port) {
    HttpResult res = java_post(port, "/pollgroups", poll_body(false));
    EXPECT_EQ(res.status, 200) << res.body;
    auto n = proto::decode_group_notifications(res.body, proto::UnknownFields::kReject);
    EXPECT_TRUE(n.ok()) << res.body;
    if (!n.ok()) return 0;
    for (const auto& m : n->messages) {
      auto& cursor = group_cursors_[m.to_id.value_or("")];
      cursor = std::max(cursor, m.timestamp);
    }
    return static_cast<int>(n->messages.size());
  }

  // /longpoll: the group cursors' maximum, its own id last. "" is the null answer.
  HttpResult long_poll(unsigned short port) const {
    return java_post(port, "/longpoll", poll_body(true));
  }
  std::future<HttpResult> long_poll_async(unsigned short port) const {
    std::string body = poll_body(true);
    return std::async(std::launch::async,
                      [port, body] { return java_post(port, "/longpoll", body); });
  }

  std::int64_t direct_cursor() const { return direct_cursor_; }

 private:
  std::string poll_body(bool with_self) const {
    std::int64_t newest = 0;
    for (const auto& [g, c] : group_cursors_)
      newest = std::max(newest, c);
    std::string ids;
    for (const auto& g : groups_)
      ids += (ids.empty() ? "\"" : ",\"") + g + "\"";
    if (with_self) ids += (ids.empty() ? "\"" : ",\"") + user_.id + "\"";
    return R"({"object":"PollGroups","userId":")" + user_.id + R"(","authToken":")" + user_.token +
           R"(","groupIds":[)" + ids + R"(],"lastMessageTimestamp":)" + std::to_string(newest) +
           "}";
  }

  TestUser user_;
  std::vector<std::string> groups_;
  std::int64_t direct_cursor_ = 0;
  std::map<std::string, std::int64_t> group_cursors_;
};

class ReferenceLoopTest : public ServerTest {
 protected:
  void SetUp() override { start({"--longpoll-timeout-ms", std::to_string(kLongPollTimeoutMs)}); }

  unsigned short port() { return server().port(); }

  HttpResult post_group(const TestUser& from, const std::string& group, const std::string& c) {
    return http().post("/postgroup",
                       proto::encode(proto::SendMessage{group, from.token, from.id, c, 0}));
  }

  std::int64_t longpolls_waiting() {
    auto varz = boost::json::parse(http().get("/varz").body);
    return varz.at("longpolls_waiting").as_int64();
  }

  // Until the relay holds `n` long-polls (the poll is parked and watching).
  bool wait_parked(std::int64_t n = 1) {
    const auto deadline = Clock::now() + 5s;
    while (Clock::now() < deadline) {
      if (longpolls_waiting() >= n) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }
};

TEST_F(ReferenceLoopTest, AfterReceiveFetchedTheQueueTheLongPollWaitsForANewDirectMessage) {
  auto alice = register_user();
  ReferenceUi bob(register_user(), {});
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(post_message(alice, bob.id(), "queued " + std::to_string(i)).status, 200);

  ASSERT_EQ(bob.receive(port()), 3);
  bob.poll_groups(port());
  auto poll = bob.long_poll_async(port());
  // The fetched items are still queued (acknowledged only by the next /receive), yet the
  // UI has them: the poll must not answer for them.
  ASSERT_EQ(poll.wait_for(500ms), std::future_status::timeout)
      << "answered at once for items /receive already fetched: " << poll.get().body;
  ASSERT_TRUE(wait_parked());

  const auto sent = Clock::now();
  ASSERT_EQ(post_message(alice, bob.id(), "new").status, 200);
  ASSERT_EQ(poll.wait_for(1s), std::future_status::ready) << "a new message must wake it";
  HttpResult woke = poll.get();
  std::cout << "[ info ] reference-loop wake-up after post: " << ms_since(sent) << " ms\n";
  EXPECT_EQ(woke.status, 200);
  EXPECT_EQ(woke.body, bob.id());
  EXPECT_EQ(bob.receive(port()), 1) << "the wake-up was for exactly the new message";
}

TEST_F(ReferenceLoopTest, WithNothingNewTheLongPollRunsToItsTimeout) {
  auto alice = register_user();
  ReferenceUi bob(register_user(), {});
  ASSERT_EQ(post_message(alice, bob.id(), "queued").status, 200);
  ASSERT_EQ(bob.receive(port()), 1);
  bob.poll_groups(port());
  const auto started = Clock::now();
  HttpResult res = bob.long_poll(port());
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "") << "the null answer";
  EXPECT_GE(ms_since(started), kLongPollTimeoutMs - 100);
}

TEST_F(ReferenceLoopTest, AGroupMessageWakesItAndFetchedDirectItemsDoNot) {
  auto alice = register_user();
  auto bob_user = register_user();
  std::string group = register_group(alice);
  ASSERT_EQ(post_group(alice, group, "earlier in the group").status, 200);
  // Direct items newer than the group cursor: the hint (the group cursor) alone cannot tell
  // that the UI has them.
  ASSERT_EQ(post_message(alice, bob_user.id, "d1").status, 200);
  ASSERT_EQ(post_message(alice, bob_user.id, "d2").status, 200);

  ReferenceUi bob(bob_user, {group});
  ASSERT_EQ(bob.receive(port()), 2);
  ASSERT_EQ(bob.poll_groups(port()), 1);
  auto poll = bob.long_poll_async(port());
  ASSERT_EQ(poll.wait_for(500ms), std::future_status::timeout)
      << "answered at once for fetched items: " << poll.get().body;
  ASSERT_TRUE(wait_parked());

  ASSERT_EQ(post_group(alice, group, "new in the group").status, 200);
  ASSERT_EQ(poll.wait_for(1s), std::future_status::ready) << "a group message must wake it";
  EXPECT_EQ(poll.get().body, group);
  EXPECT_EQ(bob.receive(port()), 0);
  EXPECT_EQ(bob.poll_groups(port()), 1);
}

TEST_F(ReferenceLoopTest, AnItemPostedBetweenReceiveAndLongPollWakesItAtOnce) {
  auto alice = register_user();
  ReferenceUi bob(register_user(), {});
  ASSERT_EQ(post_message(alice, bob.id(), "fetched").status, 200);
  ASSERT_EQ(bob.receive(port()), 1);
  ASSERT_EQ(post_message(alice, bob.id(), "in between").status, 200);
  bob.poll_groups(port());
  const auto started = Clock::now();
  HttpResult res = bob.long_poll(port());
  EXPECT_EQ(res.body, bob.id());
  EXPECT_LT(ms_since(started), 1000.0) << "answered at once, not at the timeout";
  EXPECT_EQ(bob.receive(port()), 1);
}

TEST_F(ReferenceLoopTest, ADirectItemOlderThanTheGroupCursorStillWakesItAtOnce) {
  // The direct item lands after /receive, then a group message the UI fetches with
  // /pollgroups: the long-poll's hint (the group cursor) is newer than the direct item, so
  // the hint alone would sleep through it.
  auto alice = register_user();
  auto bob_user = register_user();
  std::string group = register_group(alice);
  ReferenceUi bob(bob_user, {group});
  ASSERT_EQ(bob.receive(port()), 0);
  ASSERT_EQ(post_message(alice, bob.id(), "direct").status, 200);
  ASSERT_EQ(post_group(alice, group, "group").status, 200);
  ASSERT_EQ(bob.poll_groups(port()), 1);
  const auto started = Clock::now();
  HttpResult res = bob.long_poll(port());
  EXPECT_EQ(res.body, bob.id());
  EXPECT_LT(ms_since(started), 1000.0) << "answered at once, not at the timeout";
  EXPECT_EQ(bob.receive(port()), 1);
}

// The UI's loop on its own thread against a stream of N items, direct and group alternating,
// each posted while the UI is parked in /longpoll: exactly N wake-ups, every one of them
// followed by a round that fetches something new, and no item lost.
TEST_F(ReferenceLoopTest, EveryNewItemCostsExactlyOneRound) {
  constexpr int kItems = 12;
  auto alice = register_user();
  auto bob_user = register_user();
  std::string group = register_group(alice);
  // Some history first, so the queue and the group are not empty when the loop starts.
  ASSERT_EQ(post_message(alice, bob_user.id, "history").status, 200);
  ASSERT_EQ(post_group(alice, group, "history").status, 200);

  ReferenceUi bob(bob_user, {group});
  const unsigned short relay = port();
  std::atomic<bool> stop{false};
  std::atomic<int> fetched{0};
  std::atomic<int> wakeups{0};
  std::atomic<int> null_answers{0};
  std::atomic<int> empty_rounds{0};  // rounds after a wake-up that fetched nothing
  std::thread ui([&] {
    bool after_wakeup = false;
    while (!stop) {
      int got = bob.receive(relay);
      got += bob.poll_groups(relay);
      fetched += got;
      if (after_wakeup && got == 0) ++empty_rounds;
      HttpResult res = bob.long_poll(relay);
      if (res.status != 200) ADD_FAILURE() << "long-poll failed: " << res.status;
      after_wakeup = !res.body.empty();
      if (after_wakeup) {
        ++wakeups;
      } else {
        ++null_answers;
        if (!stop) std::this_thread::sleep_for(1s);  // as the reference UI does
      }
    }
  });

  auto wait_for = [](const std::function<bool()>& cond) {
    const auto deadline = Clock::now() + 10s;
    while (!cond() && Clock::now() < deadline)
      std::this_thread::sleep_for(2ms);
    return cond();
  };
  ASSERT_TRUE(wait_for([&] { return fetched == 2; })) << "the history";
  for (int i = 0; i < kItems; ++i) {
    ASSERT_TRUE(wait_parked()) << "item " << i;
    // Give a spurious answer time to show before the next item is posted.
    std::this_thread::sleep_for(50ms);
    ASSERT_TRUE(wait_parked()) << "item " << i;
    HttpResult posted = i % 2 == 0 ? post_message(alice, bob.id(), "m" + std::to_string(i))
                                   : post_group(alice, group, "g" + std::to_string(i));
    ASSERT_EQ(posted.status, 200);
    ASSERT_TRUE(wait_for([&] { return fetched == 3 + i; })) << "item " << i << " was missed";
  }
  ASSERT_TRUE(wait_parked());
  std::this_thread::sleep_for(200ms);
  stop = true;
  ui.join();  // the last poll ends at its timeout

  std::cout << "[ info ] " << kItems << " items: " << wakeups << " wake-ups, " << null_answers
            << " null answers\n";
  EXPECT_EQ(fetched, 2 + kItems) << "every item fetched exactly once";
  EXPECT_EQ(empty_rounds, 0) << "a wake-up that brought nothing new is a wasted round";
  // The history was fetched by the first round before any poll, so no wake-up is owed to it.
  EXPECT_EQ(wakeups, kItems);
}

TEST_F(ReferenceLoopTest, ARestartCostsAtMostOneExtraRoundAndMissesNothing) {
  auto alice = register_user();
  ReferenceUi bob(register_user(), {});
  ASSERT_EQ(post_message(alice, bob.id(), "before").status, 200);
  ASSERT_EQ(bob.receive(port()), 1);

  restart({"--longpoll-timeout-ms", std::to_string(kLongPollTimeoutMs)});
  ASSERT_EQ(post_message(alice, bob.id(), "after the restart").status, 200);
  // Worst case: the UI's long-poll reaches the new relay before any /receive, so the relay
  // knows no mark. It must answer (an item is waiting), not sleep.
  const auto started = Clock::now();
  HttpResult res = bob.long_poll(port());
  EXPECT_EQ(res.body, bob.id());
  EXPECT_LT(ms_since(started), 1000.0);
  EXPECT_EQ(bob.receive(port()), 1) << "the item posted after the restart";
  // One round later the relay knows the mark again and waits.
  bob.poll_groups(port());
  auto poll = bob.long_poll_async(port());
  EXPECT_EQ(poll.wait_for(500ms), std::future_status::timeout);
  ASSERT_EQ(post_message(alice, bob.id(), "next").status, 200);
  ASSERT_EQ(poll.wait_for(1s), std::future_status::ready);
  EXPECT_EQ(poll.get().body, bob.id());
}

}  // namespace
}  // namespace secchats::testing
