// `secchats daemon`'s event stream and its socket under load (docs/cli.md, "Events" and "Wire
// format"): a subscriber gets what `listen --json` prints, events that came while nobody was
// subscribed go to the next subscriber first, and concurrent connections each get their own
// answers while every message arrives once.
#include <map>
#include <set>

#include "daemon_fixture.hpp"

namespace secchats::testing {
namespace {

class CliDaemonEvents : public DaemonFriendsTest {
 protected:
  std::unique_ptr<DaemonClient> subscriber(DaemonUser& u) {
    auto c = u.daemon->connect();
    EXPECT_TRUE(c);
    if (!c) return c;
    auto r = c->call("subscribe");
    EXPECT_TRUE(r.ok()) << r.describe();
    EXPECT_EQ(boost::json::serialize(r.result), R"({"subscribed":true})") << r.describe();
    return c;
  }

  static std::function<bool(const std::vector<boost::json::object>&)> has_texts(
      std::vector<std::string> wanted) {
    return [wanted](const std::vector<boost::json::object>& all) {
      auto got = texts_of(all);
      for (const auto& w : wanted) {
        if (std::find(got.begin(), got.end(), w) == got.end()) return false;
      }
      return true;
    };
  }
};

TEST_F(CliDaemonEvents, ASubscriberGetsMessagesImagesReactionsAndGroupPostsAsListenPrintsThem) {
  auto sub = subscriber(bob_);
  ASSERT_TRUE(sub);
  auto sent = rpc_ok(*alice_.rpc, "send", params({{"friend", "Bob"}, {"text", "hello bob"}}));
  ASSERT_EQ(sent.size(), 1u);
  const std::string text_id = str(sent[0], "messageId");
  rpc_ok(*alice_.rpc, "sendImage", params({{"friend", "Bob"}, {"file", write_png("p.png", 2048)}}));
  rpc_ok(*alice_.rpc, "react",
         params({{"friend", "Bob"}, {"messageId", text_id}, {"emoji", "heart"}}));
  auto created = rpc_ok(*alice_.rpc, "group.create", params({{"name", "Crew"}}));
  ASSERT_EQ(created.size(), 1u);
  const std::string group = str(created[0], "groupId");
  rpc_ok(*alice_.rpc, "group.invite", params({{"group", group}, {"friend", "Bob"}}));

  auto events = events_until(*sub, [](const std::vector<boost::json::object>& all) {
    return !events_of(all, "groupInvite").empty();
  });
  ASSERT_FALSE(events_of(events, "groupInvite").empty()) << dump(events);
  rpc_ok(*bob_.rpc, "group.join", params({{"group", group}}));
  rpc_ok(*alice_.rpc, "group.send", params({{"group", group}, {"text", "hello crew"}}));
  auto more = events_until(*sub, has_texts({"hello crew"}));
  events.insert(events.end(), more.begin(), more.end());

  std::map<std::string, boost::json::object> by_type;
  for (const auto& e : events_of(events, "message")) {
    by_type.emplace(str(e, "type") + "/" + str(e, "chatKind"), e);
  }
  ASSERT_TRUE(by_type.count("TEXT/friend")) << dump(events);
  ASSERT_TRUE(by_type.count("IMG/friend")) << dump(events);
  ASSERT_TRUE(by_type.count("EMOJI/friend")) << dump(events);
  ASSERT_TRUE(by_type.count("TEXT/group")) << dump(events);
  const auto& text = by_type["TEXT/friend"];
  EXPECT_EQ(str(text, "text"), "hello bob");
  EXPECT_EQ(str(text, "messageId"), text_id);
  EXPECT_EQ(str(text, "fromUserId"), alice_.id);
  EXPECT_EQ(str(text, "fromName"), "Alice");
  EXPECT_TRUE(text.contains("sentAt") && text.contains("serverTimestamp")) << dump({text});
  const auto* image_bytes = by_type["IMG/friend"].if_contains("imageBytes");
  ASSERT_TRUE(image_bytes && image_bytes->is_int64()) << dump({by_type["IMG/friend"]});
  EXPECT_GT(image_bytes->as_int64(), 0);
  EXPECT_EQ(str(by_type["EMOJI/friend"], "replyTo"), text_id);
  EXPECT_FALSE(str(by_type["EMOJI/friend"], "emoji").empty());
  EXPECT_EQ(str(by_type["TEXT/group"], "chat"), group);

  // The same message as `history` keeps it has the same members as the event (listen --json
  // and history print one `message` shape).
  auto hist = rpc_ok(*bob_.rpc, "history", params({{"chat", alice_.id}, {"limit", 10}}));
  for (const auto& h : hist) {
    if (str(h, "messageId") == text_id) {
      EXPECT_EQ(keys_of(h), keys_of(text)) << dump({h, text});
    }
  }

  // Unsubscribed: no more events on that connection, the answers still come.
  auto un = sub->call("unsubscribe");
  EXPECT_TRUE(un.ok()) << un.describe();
  rpc_ok(*alice_.rpc, "send", params({{"friend", "Bob"}, {"text", "after unsubscribe"}}));
  auto late = sync_until(*bob_.rpc, has_texts({"after unsubscribe"}));
  EXPECT_TRUE(has_texts({"after unsubscribe"})(late)) << dump(late);
  EXPECT_TRUE(sub->call("id").ok());
  EXPECT_FALSE(sub->next_event(std::chrono::milliseconds(200)).has_value());
}

TEST_F(CliDaemonEvents, EventsWhileNobodyIsSubscribedGoToTheNextSubscriberFirstInOrder) {
  // Bob's daemon runs its sync loop with no subscriber: what arrives stays in its store.
  for (const char* t : {"one", "two", "three"}) {
    rpc_ok(*alice_.rpc, "send", params({{"friend", "Bob"}, {"text", t}}));
  }
  auto sub = subscriber(bob_);
  ASSERT_TRUE(sub);
  rpc_ok(*alice_.rpc, "send", params({{"friend", "Bob"}, {"text", "four"}}));
  auto events = events_until(*sub, has_texts({"one", "two", "three", "four"}));
  auto texts = texts_of(events);
  // At least once and in order: the first time each appears follows the order they were sent.
  std::vector<std::string> firsts;
  for (const auto& t : texts) {
    if (std::find(firsts.begin(), firsts.end(), t) == firsts.end()) firsts.push_back(t);
  }
  EXPECT_EQ(firsts, (std::vector<std::string>{"one", "two", "three", "four"})) << dump(events);

  // A subscriber that goes away: the events after it are kept for the next one.
  sub.reset();
  rpc_ok(*alice_.rpc, "send", params({{"friend", "Bob"}, {"text", "five"}}));
  auto sub2 = subscriber(bob_);
  ASSERT_TRUE(sub2);
  auto again = events_until(*sub2, has_texts({"five"}));
  EXPECT_TRUE(has_texts({"five"})(again)) << dump(again);
  auto again_texts = texts_of(again);
  for (const char* old : {"one", "two", "three", "four"}) {
    EXPECT_EQ(std::count(again_texts.begin(), again_texts.end(), old), 0)
        << old << " was taken by the first subscriber already";
  }
}

TEST_F(CliDaemonEvents, ConcurrentConnectionsGetTheirOwnAnswersAndEveryMessageArrivesOnce) {
  auto sub = subscriber(bob_);
  ASSERT_TRUE(sub);
  constexpr int kConnections = 4;
  constexpr int kSends = 50;
  std::vector<std::unique_ptr<DaemonClient>> conns;
  for (int i = 0; i < kConnections; ++i) {
    conns.push_back(alice_.daemon->connect());
    ASSERT_TRUE(conns.back());
  }
  // Interleaved: each round puts one request on every connection before reading anything.
  std::vector<std::vector<std::pair<std::int64_t, std::string>>> asked(kConnections);
  for (int n = 0; n < kSends; ++n) {
    for (int c = 0; c < kConnections; ++c) {
      const std::string text = "c" + std::to_string(c) + "-n" + std::to_string(n);
      // Every tenth request on a connection is a read, to mix methods.
      if (n % 10 == 9) {
        asked[c].emplace_back(conns[c]->send_request("friends"), "");
      }
      asked[c].emplace_back(
          conns[c]->send_request("send", params({{"friend", "Bob"}, {"text", text}})), text);
    }
  }
  std::set<std::string> message_ids;
  std::vector<std::string> all_texts;
  for (int c = 0; c < kConnections; ++c) {
    for (const auto& [id, text] : asked[c]) {
      ASSERT_GT(id, 0);
      auto r = conns[c]->wait_reply(id, std::chrono::seconds(120));
      ASSERT_TRUE(r.ok()) << text << ": " << r.describe();
      EXPECT_EQ(r.raw.at("id").as_int64(), id);
      auto objs = r.objects();
      if (text.empty()) {
        ASSERT_EQ(objs.size(), 1u) << r.describe();
        EXPECT_EQ(str(objs[0], "userId"), bob_.id);
        continue;
      }
      ASSERT_EQ(objs.size(), 1u) << r.describe();
      EXPECT_EQ(str(objs[0], "event"), "sent");
      EXPECT_TRUE(message_ids.insert(str(objs[0], "messageId")).second) << r.describe();
      all_texts.push_back(text);
    }
    // Nothing but answers came on the sending connections.
    EXPECT_EQ(conns[c]->queued_notifications(), 0u);
  }
  ASSERT_EQ(all_texts.size(), static_cast<std::size_t>(kConnections * kSends));

  auto events = events_until(*sub, has_texts(all_texts), std::chrono::seconds(120));
  std::map<std::string, int> seen;
  for (const auto& t : texts_of(events))
    ++seen[t];
  for (const auto& t : all_texts)
    EXPECT_EQ(seen[t], 1) << t;
  EXPECT_EQ(seen.size(), all_texts.size());
  // Per connection, Bob sees them in the order they were sent (requests run in arrival order).
  for (int c = 0; c < kConnections; ++c) {
    int last = -1;
    const std::string prefix = "c" + std::to_string(c) + "-n";
    for (const auto& t : texts_of(events)) {
      if (!t.starts_with(prefix)) continue;
      const int n = std::stoi(t.substr(prefix.size()));
      EXPECT_GT(n, last) << t;
      last = n;
    }
  }
}

}  // namespace
}  // namespace secchats::testing
