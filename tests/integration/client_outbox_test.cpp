// libsecchats against the real relay: the event inbox (events the application's sink did not
// take are handed out again by the next sync) and the outbox (a send the relay did not take
// is kept, listed, delivered by the next sync, or cancelled).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "secchats/client.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace secchats::testing {
namespace {

class ClientOutbox : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<TempDir>("secchats-client-outbox");
    start_server(0);
    alice_ = make_client("alice");
    bob_ = make_client("bob");
    ASSERT_TRUE(alice_ && bob_);
    ASSERT_TRUE(alice_->add_friend(bob_->user_id()).ok());
    ASSERT_TRUE(bob_->sync().ok());
    auto accepted = bob_->accept(alice_->user_id());
    ASSERT_TRUE(accepted.ok()) << accepted.error().message();
    // A few rounds for the v2 upgrade; whatever they bring is not under test.
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(alice_->sync().ok());
      ASSERT_TRUE(bob_->sync().ok());
    }
  }

  void start_server(unsigned short port) {
    server_ = std::make_unique<ServerProcess>(ServerProcess::Options{
        dir_->path() / "relay",
        {"--ip-rate-per-sec", "0", "--user-rate-per-sec", "0", "--register-rate-per-min", "0"},
        port});
  }

  std::unique_ptr<Client> make_client(const std::string& name) {
    auto c = Client::create_account(dir_->path() / name, SecretString("pw " + name),
                                    server_->base_url(), name);
    EXPECT_TRUE(c.ok()) << c.error().message();
    return c.ok() ? std::move(c).value() : nullptr;
  }

  static std::vector<std::string> texts(const std::vector<Event>& events) {
    std::vector<std::string> out;
    for (const auto& e : events) {
      if (e.kind == Event::Kind::kMessage) out.push_back(e.message.text);
    }
    return out;
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<Client> alice_, bob_;
};

TEST_F(ClientOutbox, EventsTheSinkDidNotTakeComeFirstAtTheNextSync) {
  for (const char* text : {"one", "two", "three"})
    ASSERT_TRUE(alice_->send_text(bob_->user_id(), text).ok());

  // The sink takes the first message and then fails (its output is gone).
  std::vector<std::string> shown;
  Status s = bob_->sync([&](const Event& e) {
    if (e.kind != Event::Kind::kMessage) return true;
    if (!shown.empty()) return false;
    shown.push_back(e.message.text);
    return true;
  });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(shown, std::vector<std::string>{"one"});

  // The next sync hands out the rest, in order, although the cursor had moved past them.
  auto again = bob_->sync();
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_EQ(texts(*again), (std::vector<std::string>{"two", "three"}));
  // Taken now: never again.
  auto third = bob_->sync();
  ASSERT_TRUE(third.ok());
  EXPECT_TRUE(texts(*third).empty());
  // They were stored all along.
  auto history = bob_->history(alice_->user_id());
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->size(), 3u);
}

TEST_F(ClientOutbox, ListenEndsWhenTheSinkRefusesAndKeepsTheEvent) {
  ASSERT_TRUE(alice_->send_text(bob_->user_id(), "hello").ok());
  Status s = bob_->listen([](const Event& e) { return e.kind != Event::Kind::kMessage; },
                          [] { return true; });
  ASSERT_FALSE(s.ok());
  auto again = bob_->sync();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(texts(*again), std::vector<std::string>{"hello"});
}

TEST_F(ClientOutbox, ASendWhileTheRelayIsDownIsPendingUntilTheNextSync) {
  const unsigned short port = server_->port();
  server_.reset();  // the relay is down
  auto sent = alice_->send_text(bob_->user_id(), "later");
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.error().code(), ErrorCode::kNetwork);
  EXPECT_NE(sent.error().message().find("queued, not sent yet"), std::string::npos)
      << sent.error().message();
  auto cancelled_one = alice_->send_text(bob_->user_id(), "never mind");
  ASSERT_FALSE(cancelled_one.ok());

  auto pending = alice_->pending();
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_EQ((*pending)[0].message.text, "later");
  EXPECT_EQ((*pending)[0].message.delivery, "pending");
  EXPECT_GE((*pending)[0].attempts, 1);
  EXPECT_FALSE((*pending)[0].last_error.empty());
  auto history = alice_->history(bob_->user_id());
  ASSERT_TRUE(history.ok());
  ASSERT_FALSE(history->empty());
  EXPECT_EQ(history->back().delivery, "pending");

  ASSERT_TRUE(alice_->cancel_pending((*pending)[1].message.message_id).ok());
  auto twice = alice_->cancel_pending((*pending)[1].message.message_id);
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().code(), ErrorCode::kNotFound);

  start_server(port);
  ASSERT_TRUE(alice_->sync().ok());
  EXPECT_TRUE(alice_->pending()->empty());
  history = alice_->history(bob_->user_id());
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->back().text, "later");
  EXPECT_EQ(history->back().delivery, "sent");
  auto got = bob_->sync();
  ASSERT_TRUE(got.ok()) << got.error().message();
  EXPECT_EQ(texts(*got), std::vector<std::string>{"later"});
}

// Counts the kSent events of `events` for message `id`, checking what they carry.
int sent_events_for(const std::vector<Event>& events, std::int64_t id, const std::string& chat) {
  int n = 0;
  for (const auto& e : events) {
    if (e.kind != Event::Kind::kSent || e.message.message_id != id) continue;
    EXPECT_EQ(e.message.chat_id, chat);
    EXPECT_EQ(e.message.chat_kind, ChatKind::kFriend);
    EXPECT_EQ(e.message.delivery, "sent");
    EXPECT_TRUE(e.message.outgoing);
    EXPECT_EQ(e.user_id, chat);
    EXPECT_EQ(e.text, "bob");  // the friend's nickname, for "sent #ID (queued earlier) to ..."
    ++n;
  }
  return n;
}

TEST_F(ClientOutbox, TheSyncThatDeliversAQueuedSendSaysSoOnce) {
  const unsigned short port = server_->port();
  server_.reset();
  ASSERT_FALSE(alice_->send_text(bob_->user_id(), "later").ok());
  auto pending = alice_->pending();
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  const std::int64_t id = (*pending)[0].message.message_id;

  start_server(port);
  // The sink cannot show the first kSent: the next sync hands it out again.
  Status refused = alice_->sync([](const Event& e) { return e.kind != Event::Kind::kSent; });
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(alice_->pending()->empty());
  auto synced = alice_->sync();
  ASSERT_TRUE(synced.ok()) << synced.error().message();
  EXPECT_EQ(sent_events_for(*synced, id, bob_->user_id()), 1);
  auto again = alice_->sync();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(sent_events_for(*again, id, bob_->user_id()), 0);
  // A send delivered by its own call is answered by the call, never as an event.
  auto direct = alice_->send_text(bob_->user_id(), "now");
  ASSERT_TRUE(direct.ok()) << direct.error().message();
  auto after = alice_->sync();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(sent_events_for(*after, direct->message_id, bob_->user_id()), 0);

  // A queued send that a later send of the same chat posts first is reported by the next sync.
  server_.reset();
  ASSERT_FALSE(alice_->send_text(bob_->user_id(), "held").ok());
  const std::int64_t held = (*alice_->pending())[0].message.message_id;
  start_server(port);
  auto next = alice_->send_text(bob_->user_id(), "next");
  ASSERT_TRUE(next.ok()) << next.error().message();
  auto reported = alice_->sync();
  ASSERT_TRUE(reported.ok());
  EXPECT_EQ(sent_events_for(*reported, held, bob_->user_id()), 1);
  EXPECT_EQ(sent_events_for(*reported, next->message_id, bob_->user_id()), 0);
}

TEST_F(ClientOutbox, PostOutboxDeliversAQueuedSendAndKeepsItsSentEventForTheNextSync) {
  const unsigned short port = server_->port();
  server_.reset();  // the relay is down
  ASSERT_FALSE(alice_->send_text(bob_->user_id(), "queued").ok());

  // Still down: nothing posted, the item waits and the warning says why (no content).
  auto down = alice_->post_outbox();
  ASSERT_TRUE(down.ok()) << down.error().message();
  EXPECT_EQ(down->waiting, 1u);
  ASSERT_EQ(down->warnings.size(), 1u);
  EXPECT_EQ(down->warnings[0].kind, Event::Kind::kWarning);
  EXPECT_NE(down->warnings[0].text.find("still not sent"), std::string::npos)
      << down->warnings[0].text;
  EXPECT_EQ(down->warnings[0].text.find("queued"), std::string::npos);

  start_server(port);
  auto up = alice_->post_outbox();
  ASSERT_TRUE(up.ok()) << up.error().message();
  EXPECT_EQ(up->waiting, 0u);
  EXPECT_TRUE(up->warnings.empty());
  EXPECT_TRUE(alice_->pending()->empty());
  // The friend has it without alice syncing.
  auto got = bob_->sync();
  ASSERT_TRUE(got.ok()) << got.error().message();
  EXPECT_EQ(texts(*got), std::vector<std::string>{"queued"});
  // Its delivery is kept for alice's next sync, once.
  auto events = alice_->sync();
  ASSERT_TRUE(events.ok()) << events.error().message();
  int sent = 0;
  for (const auto& e : *events) {
    if (e.kind == Event::Kind::kSent && e.message.text == "queued") ++sent;
  }
  EXPECT_EQ(sent, 1);
  auto again = alice_->post_outbox();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->waiting, 0u);
  auto later = alice_->sync();
  ASSERT_TRUE(later.ok());
  for (const auto& e : *later)
    EXPECT_NE(e.kind, Event::Kind::kSent);
}

}  // namespace
}  // namespace secchats::testing
