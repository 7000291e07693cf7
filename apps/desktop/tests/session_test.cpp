// Session against the real relay and CLI: an account made through the Session, a CLI friend,
// messages both ways into the models, and a send that does not wait out the long-poll.
#include <gtest/gtest.h>

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTest>
#include <regex>

#include "core/chat_list_model.hpp"
#include "core/requests_model.hpp"
#include "core/session.hpp"
#include "core/timeline_model.hpp"
#include "support/cli_process.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace secchats::desktop {
namespace {

using secchats::testing::CliUser;
using secchats::testing::ServerProcess;
using secchats::testing::TempDir;

constexpr int kHoldMs = 20000;  // the relay's long-poll hold in this test

std::string field(const std::string& out, const std::string& key) {
  std::smatch m;
  if (std::regex_search(out, m, std::regex("\"" + key + "\":\"([^\"]*)\""))) return m[1];
  return {};
}

// Waits (processing events) until `pred` holds.
template <class Pred>
bool wait_for(Pred pred, int timeout_ms = 20000) {
  return QTest::qWaitFor(pred, timeout_ms);
}

int row_with_text(const TimelineModel& t, const QString& text) {
  for (int r = 0; r < t.rowCount(); ++r) {
    if (t.index(r).data(TimelineModel::kTextRole).toString() == text) return r;
  }
  return -1;
}

TEST(Session, LiveAccountFriendMessagesAndPromptSends) {
  TempDir dir("secchats-desktop-session");
  ServerProcess relay({dir.path() / "relay", {"--longpoll-timeout-ms", std::to_string(kHoldMs)}});
  const QString url = QString::fromStdString(relay.base_url());

  Session session(QString::fromStdString((dir.path() / "alice").string()));
  EXPECT_FALSE(session.accountExists());
  QSignalSpy opened(&session, &Session::accountOpened);
  QSignalSpy failed(&session, &Session::accountFailed);
  QSignalSpy connectivity(&session, &Session::connectivityChanged);
  QSignalSpy incoming(&session, &Session::incoming);
  QSignalSpy request_signal(&session, &Session::requestReceived);
  QSignalSpy operation_failed(&session, &Session::operationFailed);
  ServerSettings server;
  server.url = url;
  session.createAccount(server, "alice", "alice password 1");
  ASSERT_TRUE(opened.wait(60000)) << (failed.isEmpty()
                                          ? std::string("timeout")
                                          : failed.at(0).at(0).toString().toStdString());
  EXPECT_TRUE(session.isOpen());
  EXPECT_TRUE(session.accountExists());
  const std::string alice_id = session.userId().toStdString();
  EXPECT_GE(alice_id.size(), 32u);
  EXPECT_EQ(session.nickname(), "alice");
  EXPECT_TRUE(wait_for([&] {
    for (const auto& args : connectivity) {
      if (args.at(0).value<Connectivity>() == Connectivity::kOnline) return true;
    }
    return false;
  })) << "never online";

  // Bob (CLI) asks; the request reaches the Session through its live loop.
  CliUser bob(dir.path() / "bob", "bob password 1");
  auto init = bob.run({"init", "--server", url.toStdString(), "--nick", "bob"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  const std::string bob_id = field(init.out, "userId");
  ASSERT_FALSE(bob_id.empty()) << init.out;
  const QString bob_q = QString::fromStdString(bob_id);
  auto added = bob.run({"add", alice_id});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  ASSERT_TRUE(wait_for([&] { return session.requests()->rowOf("friend", bob_q) >= 0; }))
      << "the friend request never showed";
  ASSERT_FALSE(request_signal.isEmpty());
  EXPECT_EQ(request_signal.at(0).at(0).toString(), "friend");
  EXPECT_EQ(request_signal.at(0).at(1).toString(), bob_q);

  QSignalSpy created(&session, &Session::chatCreated);
  session.acceptFriend(bob_q);
  ASSERT_TRUE(created.wait(20000));
  EXPECT_EQ(created.at(0).at(0).toString(), bob_q);
  EXPECT_GE(session.chats()->rowOf(bob_q), 0);
  EXPECT_EQ(session.requests()->rowOf("friend", bob_q), -1);
  auto bob_sync = bob.run({"sync"});
  ASSERT_EQ(bob_sync.exit_code, 0) << bob_sync.err;
  ASSERT_NE(bob_sync.out.find("friendAccepted"), std::string::npos) << bob_sync.out;

  // Bob -> Alice: the chat list, the notification signal, then the timeline once opened.
  auto sent = bob.run({"send", alice_id, "hello from bob"});
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  ASSERT_TRUE(wait_for([&] {
    const int row = session.chats()->rowOf(bob_q);
    return row >= 0 && session.chats()->index(row).data(ChatListModel::kUnreadRole).toInt() == 1;
  })) << "the message never reached the chat list";
  {
    const int row = session.chats()->rowOf(bob_q);
    EXPECT_EQ(session.chats()->index(row).data(ChatListModel::kLastMessageRole).toString(),
              "hello from bob");
    EXPECT_EQ(session.chats()->index(row).data(Qt::DisplayRole).toString(), "bob");
  }
  ASSERT_TRUE(wait_for([&] { return !incoming.isEmpty(); }));
  EXPECT_EQ(incoming.at(0).at(0).toString(), bob_q);
  EXPECT_EQ(incoming.at(0).at(1).toString(), "bob");
  EXPECT_EQ(incoming.at(0).at(2).toString(), "hello from bob");

  TimelineModel* timeline = session.timeline();
  session.openChat(bob_q);
  ASSERT_TRUE(wait_for([&] { return row_with_text(*timeline, "hello from bob") >= 0; }));
  EXPECT_TRUE(wait_for([&] {
    const int row = session.chats()->rowOf(bob_q);
    return session.chats()->index(row).data(ChatListModel::kUnreadRole).toInt() == 0;
  })) << "opening the chat did not mark it read";

  // While the open chat is shown, a new message lands in the timeline directly.
  sent = bob.run({"send", alice_id, "second from bob"});
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  ASSERT_TRUE(wait_for([&] { return row_with_text(*timeline, "second from bob") >= 0; }));

  // Let the live loop settle into its long-poll, then send: the relay would hold that poll for
  // kHoldMs; the send must not wait for it (Session interrupts the listen).
  QTest::qWait(1500);
  QElapsedTimer timer;
  timer.start();
  session.sendText(bob_q, "hi bob");
  ASSERT_TRUE(wait_for(
      [&] {
        const int row = row_with_text(*timeline, "hi bob");
        return row >= 0 &&
               timeline->index(row).data(TimelineModel::kDeliveryRole).toString() == "sent";
      },
      kHoldMs))
      << "the sent message never showed as sent";
  const qint64 elapsed = timer.elapsed();
  EXPECT_LT(elapsed, 5000) << "the send waited for the long-poll (" << elapsed << " ms)";
  EXPECT_TRUE(operation_failed.isEmpty());
  {
    const int row = session.chats()->rowOf(bob_q);
    EXPECT_EQ(session.chats()->index(row).data(ChatListModel::kLastMessageRole).toString(),
              "You: hi bob");
  }
  bob_sync = bob.run({"sync"});
  ASSERT_EQ(bob_sync.exit_code, 0) << bob_sync.err;
  EXPECT_NE(bob_sync.out.find("\"text\":\"hi bob\""), std::string::npos) << bob_sync.out;

  // A failure is reported, not swallowed, and the refused text is handed back (it was never
  // stored, so the composer must not lose it).
  QSignalSpy refused(&session, &Session::textRefused);
  session.sendText(bob_q, "   ");
  ASSERT_TRUE(wait_for([&] { return !operation_failed.isEmpty(); }));
  EXPECT_EQ(operation_failed.at(0).at(0).toString(), "Send message");
  ASSERT_TRUE(wait_for([&] { return !refused.isEmpty(); }));
  EXPECT_EQ(refused.at(0).at(0).toString(), bob_q);
  EXPECT_EQ(refused.at(0).at(1).toString(), "   ");
}

TEST(Session, WrongPasswordFailsAndTheRightOneOpens) {
  TempDir dir("secchats-desktop-unlock");
  ServerProcess relay({dir.path() / "relay", {}});
  const QString home = QString::fromStdString((dir.path() / "carol").string());
  {
    Session first(home);
    QSignalSpy opened(&first, &Session::accountOpened);
    ServerSettings server;
    server.url = QString::fromStdString(relay.base_url());
    first.createAccount(server, "carol", "carol password");
    ASSERT_TRUE(opened.wait(60000));
  }  // closes the store and stops the loop
  Session again(home);
  EXPECT_TRUE(again.accountExists());
  QSignalSpy opened(&again, &Session::accountOpened);
  QSignalSpy failed(&again, &Session::accountFailed);
  again.unlock("not the password");
  ASSERT_TRUE(failed.wait(60000));
  EXPECT_FALSE(again.isOpen());
  QSignalSpy connectivity(&again, &Session::connectivityChanged);
  again.unlock("carol password");
  ASSERT_TRUE(opened.wait(60000));
  EXPECT_TRUE(again.isOpen());
  EXPECT_EQ(again.nickname(), "carol");
  auto seen = [&](Connectivity state) {
    for (const auto& args : connectivity) {
      if (args.at(0).value<Connectivity>() == state) return true;
    }
    return false;
  };
  ASSERT_TRUE(wait_for([&] { return seen(Connectivity::kOnline); }));

  // The relay goes away: the live loop says offline, with the library's reason.
  relay.kill_hard();
  ASSERT_TRUE(wait_for([&] { return seen(Connectivity::kOffline); }, 30000));
  for (const auto& args : connectivity) {
    if (args.at(0).value<Connectivity>() == Connectivity::kOffline) {
      EXPECT_FALSE(args.at(1).toString().isEmpty());
    }
  }
}

}  // namespace
}  // namespace secchats::desktop
