// libsecchats against the real relay: what the desktop app reads and needs — the chat list
// (previews, unread counts, read marks), history pages, and interrupt_listen, which lets a
// worker thread leave a long-poll at once when the application has work for it.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "secchats/client.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace secchats::testing {
namespace {

using Clock = std::chrono::steady_clock;

class ClientAppApi : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<TempDir>("secchats-client-app-api");
    server_ = std::make_unique<ServerProcess>(ServerProcess::Options{
        dir_->path() / "relay",
        {"--ip-rate-per-sec", "0", "--user-rate-per-sec", "0", "--register-rate-per-min", "0"},
        0});
    alice_ = make_client("alice");
    bob_ = make_client("bob");
    ASSERT_TRUE(alice_ && bob_);
    ASSERT_TRUE(alice_->add_friend(bob_->user_id()).ok());
    ASSERT_TRUE(bob_->sync().ok());
    ASSERT_TRUE(bob_->accept(alice_->user_id()).ok());
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(alice_->sync().ok());
      ASSERT_TRUE(bob_->sync().ok());
    }
  }

  std::unique_ptr<Client> make_client(const std::string& name) {
    auto c = Client::create_account(dir_->path() / name, SecretString("pw " + name),
                                    server_->base_url(), name);
    EXPECT_TRUE(c.ok()) << c.error().message();
    return c.ok() ? std::move(c).value() : nullptr;
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<Client> alice_, bob_;
};

TEST_F(ClientAppApi, ChatListShowsPreviewUnreadAndReadMarks) {
  auto m1 = alice_->send_text(bob_->user_id(), "first");
  auto m2 = alice_->send_text(bob_->user_id(), "second");
  ASSERT_TRUE(m1.ok() && m2.ok());
  ASSERT_TRUE(bob_->sync().ok());
  ASSERT_TRUE(bob_->react(alice_->user_id(), m1->message_id, "heart").ok());

  auto chats = bob_->chats();
  ASSERT_TRUE(chats.ok()) << chats.error().message();
  ASSERT_EQ(chats->size(), 1u);
  const ChatSummary& chat = chats->front();
  EXPECT_EQ(chat.kind, ChatKind::kFriend);
  EXPECT_EQ(chat.chat_id, alice_->user_id());
  EXPECT_EQ(chat.title, "alice");
  EXPECT_EQ(chat.unread, 2);  // our own reaction is not unread
  EXPECT_EQ(chat.message_count, 3);
  ASSERT_TRUE(chat.last_message.has_value());
  EXPECT_EQ(chat.last_message->text, "second");  // a reaction is not the preview
  EXPECT_GE(chat.last_activity_ms, m2->sender_timestamp);

  auto marked = bob_->mark_read(alice_->user_id());
  ASSERT_TRUE(marked.ok()) << to_string(marked.error().code()) << ": " << marked.error().message();
  EXPECT_EQ(bob_->chats()->front().unread, 0);
  ASSERT_TRUE(alice_->send_text(bob_->user_id(), "third").ok());
  ASSERT_TRUE(bob_->sync().ok());
  EXPECT_EQ(bob_->chats()->front().unread, 1);
  // A reaction from them is not an unread message.
  ASSERT_TRUE(alice_->react(bob_->user_id(), m1->message_id, "heart").ok());
  ASSERT_TRUE(bob_->sync().ok());
  EXPECT_EQ(bob_->chats()->front().unread, 1);

  auto unknown = bob_->mark_read("00ff");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code(), ErrorCode::kNotFound);
}

TEST_F(ClientAppApi, ChatsAreOrderedByLatestActivity) {
  auto group = alice_->create_group("book club");
  ASSERT_TRUE(group.ok()) << group.error().message();
  auto chats = alice_->chats();
  ASSERT_TRUE(chats.ok());
  ASSERT_EQ(chats->size(), 2u);
  EXPECT_EQ((*chats)[0].chat_id, group->group_id);  // began last
  EXPECT_EQ((*chats)[0].kind, ChatKind::kGroup);
  EXPECT_EQ((*chats)[0].title, "book club");
  EXPECT_FALSE((*chats)[0].last_message.has_value());

  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(alice_->send_text(bob_->user_id(), "news").ok());
  chats = alice_->chats();
  ASSERT_TRUE(chats.ok());
  EXPECT_EQ((*chats)[0].chat_id, bob_->user_id());
  EXPECT_EQ((*chats)[0].unread, 0);  // our own message
}

TEST_F(ClientAppApi, HistoryPagesWalkBackWithoutGapsOrRepeats) {
  for (int i = 0; i < 25; ++i)
    ASSERT_TRUE(alice_->send_text(bob_->user_id(), "m" + std::to_string(i)).ok());
  std::vector<std::string> seen;
  std::int64_t before = 0;
  int pages = 0;
  for (;;) {
    auto page = alice_->history(bob_->user_id(), 10, before);
    ASSERT_TRUE(page.ok()) << page.error().message();
    if (page->empty()) break;
    ++pages;
    ASSERT_LE(page->size(), 10u);
    for (std::size_t i = 1; i < page->size(); ++i)
      EXPECT_LT((*page)[i - 1].local_id, (*page)[i].local_id);  // oldest first
    for (auto it = page->rbegin(); it != page->rend(); ++it)
      seen.push_back(it->text);
    before = page->front().local_id;
  }
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(seen.size(), 25u);
  for (int i = 0; i < 25; ++i)
    EXPECT_EQ(seen[static_cast<std::size_t>(i)], "m" + std::to_string(24 - i));
  EXPECT_FALSE(alice_->history(bob_->user_id(), 10, -1).ok());
}

TEST_F(ClientAppApi, InterruptListenEndsTheLongPollAtOnce) {
  std::atomic<bool> keep{true};
  std::atomic<bool> polling{false};
  Status result = ok_status();
  std::thread listener([&] {
    result = bob_->listen([&](const Event&) { return true; },
                          [&] {
                            polling = true;
                            return keep.load();
                          });
  });
  // Let it settle into the long-poll (the relay holds it for up to 24 s).
  while (!polling)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const auto asked = Clock::now();
  keep = false;
  bob_->interrupt_listen();
  listener.join();
  const auto took = Clock::now() - asked;
  EXPECT_TRUE(result.ok()) << result.error().message();
  EXPECT_LT(took, std::chrono::seconds(3));

  // The interrupted poll broke nothing: the same client sends and syncs.
  ASSERT_TRUE(bob_->send_text(alice_->user_id(), "still here").ok());
  auto events = alice_->sync();
  ASSERT_TRUE(events.ok());
}

TEST_F(ClientAppApi, AnInterruptWithWorkQueuedLetsTheLoopResumeAndDeliver) {
  // The desktop app's pattern: listen runs until work is queued; after the work it listens
  // again. Messages sent meanwhile still arrive through the resumed listen.
  std::atomic<int> work_queued{0};
  std::atomic<int> got{0};
  std::atomic<bool> stop{false};
  std::thread worker([&] {
    while (!stop) {
      auto s = bob_->listen(
          [&](const Event& e) {
            if (e.kind == Event::Kind::kMessage) ++got;
            return true;
          },
          [&] { return work_queued == 0 && !stop; });
      EXPECT_TRUE(s.ok()) << s.error().message();
      if (work_queued > 0) {
        EXPECT_TRUE(bob_->send_text(alice_->user_id(), "from the worker").ok());
        --work_queued;
      }
    }
  });
  for (int round = 0; round < 3; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const auto asked = Clock::now();
    ++work_queued;
    bob_->interrupt_listen();
    while (work_queued > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_LT(Clock::now() - asked, std::chrono::seconds(3)) << "round " << round;
    ASSERT_TRUE(alice_->send_text(bob_->user_id(), "ping " + std::to_string(round)).ok());
  }
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (got < 3 && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  stop = true;
  bob_->interrupt_listen();
  worker.join();
  EXPECT_EQ(got, 3);
  auto mine = alice_->sync();
  ASSERT_TRUE(mine.ok());
  int from_worker = 0;
  for (const auto& e : *mine)
    if (e.kind == Event::Kind::kMessage && e.message.text == "from the worker") ++from_worker;
  EXPECT_EQ(from_worker, 3);
}

}  // namespace
}  // namespace secchats::testing
