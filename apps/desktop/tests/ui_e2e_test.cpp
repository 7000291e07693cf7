// The desktop app end to end: a MainWindow on a Session with a temporary home, against the real
// relay binary, with CLI users (the real `secchats` binary) on the other side. The test drives
// the real widgets (found by objectName or accessible name) and asserts on what they show.
#include <gtest/gtest.h>

#include <QAction>
#include <QApplication>
#include <QDir>
#include <QFile>
#include <QImage>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLineEdit>
#include <QListView>
#include <QListWidget>
#include <QMenu>
#include <QPushButton>
#include <QRegularExpression>
#include <QTest>
#include <memory>

#include "cli_test_helpers.hpp"
#include "core/app_settings.hpp"
#include "core/chat_list_model.hpp"
#include "core/friends_model.hpp"
#include "core/requests_model.hpp"
#include "core/session.hpp"
#include "core/timeline_model.hpp"
#include "support/cli_process.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"
#include "testing/a11y_audit.hpp"
#include "testing/screenshot.hpp"
#include "ui/add_friend_dialog.hpp"
#include "ui/chat_view.hpp"
#include "ui/composer.hpp"
#include "ui/group_dialogs.hpp"
#include "ui/main_window.hpp"
#include "ui/message_delegate.hpp"
#include "ui/notifier.hpp"
#include "ui/requests_panel.hpp"
#include "ui/ui_text.hpp"
#include "ui_test_env.hpp"
#include "widgets/identity_card.hpp"
#include "widgets/image_viewer.hpp"
#include "widgets/in_person_group_dialog.hpp"
#include "widgets/inline_message.hpp"
#include "widgets/onboarding_page.hpp"
#include "widgets/qr_code_widget.hpp"
#include "widgets/qr_scanner.hpp"
#include "widgets/safety_number_dialog.hpp"
#include "widgets/unlock_page.hpp"

namespace secchats::desktop::ui {
namespace {

using secchats::desktop::testing::findByAccessibleName;
using secchats::desktop::testing::findTopLevel;
using secchats::testing::CliResult;
using secchats::testing::CliUser;
using secchats::testing::ServerProcess;
using secchats::testing::TempDir;

using secchats::desktop::testing::findRow;
using secchats::desktop::testing::initCliUser;
using secchats::desktop::testing::jsonLines;
using secchats::desktop::testing::kNetworkMs;
using secchats::desktop::testing::ok;
using secchats::desktop::testing::rowWithText;
using secchats::desktop::testing::syncUntil;

// Types Alice's account into the onboarding form, as a user would (the caller submits).
void fillOnboarding(OnboardingPage* onboarding, const std::string& server_url) {
  onboarding->setServerUrl(QString::fromStdString(server_url));
  findByAccessibleName<QLineEdit>(onboarding, QStringLiteral("Nickname"))->setText("alice");
  findByAccessibleName<QLineEdit>(onboarding, QStringLiteral("Password"))
      ->setText("correct horse alice");
  findByAccessibleName<QLineEdit>(onboarding, QStringLiteral("Confirm password"))
      ->setText("correct horse alice");
}

QString chatTitle(Session& s, const QString& chat_id) {
  const int row = s.chats()->rowOf(chat_id);
  return row < 0 ? QString() : s.chats()->index(row, 0).data(ChatListModel::kTitleRole).toString();
}

class UiE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<TempDir>("secchats-ui-e2e");
    server_ = std::make_unique<ServerProcess>(ServerProcess::Options{dir_->path() / "relay", {}});
  }
  void TearDown() override {
    if (server_) server_->terminate();
  }

  CliUser cliUser(const std::string& nick, QString* id) {
    return initCliUser(dir_->path(), server_->base_url(), nick, id);
  }

  QString home() const { return QString::fromStdString((dir_->path() / "alice").string()); }
  QString settingsFile() const {
    return QString::fromStdString((dir_->path() / "settings.ini").string());
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(UiE2eTest, OnboardFriendsTextPhotoReactionGroupsAndInPersonGroup) {
  QString bob_id;
  CliUser bob = cliUser("bob", &bob_id);
  ASSERT_FALSE(bob_id.isEmpty());

  AppSettings settings(settingsFile());
  Session session(home());
  MainWindow w(&session, &settings);
  w.resize(1000, 700);
  w.show();
  ASSERT_EQ(w.page(), MainWindow::Page::kOnboarding);

  // --- Onboarding: the real form, then the identity card shows our new ID.
  OnboardingPage* onboarding = w.onboardingPage();
  fillOnboarding(onboarding, server_->base_url());
  findByAccessibleName<QPushButton>(onboarding, QStringLiteral("Create account"))->click();
  ASSERT_TRUE(QTest::qWaitFor([&] { return w.page() == MainWindow::Page::kIdentity; }, kNetworkMs))
      << "account not created";
  const QString alice_id = session.userId();
  EXPECT_EQ(normalizeUserId(alice_id), alice_id);
  EXPECT_EQ(w.identityCard()->userId(), alice_id);
  auto* shown_id =
      findByAccessibleName<QLineEdit>(w.identityCard(), QStringLiteral("Your user ID"));
  ASSERT_NE(shown_id, nullptr);
  EXPECT_EQ(shown_id->text().remove(QLatin1Char(' ')), alice_id);
  findByAccessibleName<QPushButton>(w.identityCard(), QStringLiteral("Continue"))->click();
  ASSERT_EQ(w.page(), MainWindow::Page::kMain);
  EXPECT_TRUE(QTest::qWaitFor(
      [&] {
        return w.findChild<QLabel*>(QStringLiteral("connectivityLabel"))->text() ==
               QStringLiteral("Online");
      },
      kNetworkMs));

  // --- Add friend: a malformed ID is refused inline; Bob's ID sends the request.
  w.findChild<QAction*>(QStringLiteral("addFriendAction"))->trigger();
  AddFriendDialog* add = w.addFriendDialog();
  ASSERT_NE(add, nullptr);
  auto* id_edit = add->findChild<QLineEdit*>(QStringLiteral("friendIdEdit"));
  auto* add_message = add->findChild<InlineMessage*>(QStringLiteral("addFriendMessage"));
  auto* send_request = add->findChild<QPushButton*>(QStringLiteral("sendFriendRequestButton"));
  id_edit->setText(QStringLiteral("not-an-id"));
  send_request->click();
  EXPECT_EQ(add_message->kind(), InlineMessage::Kind::kError);
  EXPECT_TRUE(add->pendingId().isEmpty());
  id_edit->setText(bob_id.toUpper());
  send_request->click();
  EXPECT_FALSE(add_message->text().contains(QStringLiteral("Request sent")))
      << "never claimed before the Session says so";
  ASSERT_TRUE(QTest::qWaitFor(
      [&] { return add_message->text().contains(QStringLiteral("Request sent")); }, kNetworkMs))
      << add_message->text().toStdString();
  {
    const QStringList problems = secchats::desktop::testing::auditAccessibility(add);
    EXPECT_TRUE(problems.isEmpty()) << problems.join(QLatin1Char('\n')).toStdString();
  }
  add->close();

  ASSERT_FALSE(syncUntil(bob, [&](const QJsonObject& e) {
                 return e.value("event") == "friendRequest" && e.value("userId") == alice_id;
               }).isEmpty());
  ok(bob, {"accept", alice_id.toStdString()});
  ASSERT_TRUE(QTest::qWaitFor([&] { return session.chats()->rowOf(bob_id) >= 0; }, kNetworkMs))
      << "Bob's acceptance did not reach the chat list";

  // --- Text both ways.
  w.openChat(bob_id);
  ChatView* chat = w.chatView();
  ASSERT_EQ(chat->chatId(), bob_id);
  QAbstractItemModel* timeline = chat->timelineView()->model();
  QTest::keyClicks(chat->composer(), QStringLiteral("hello bob"));
  QTest::keyClick(chat->composer(), Qt::Key_Return);
  EXPECT_EQ(chat->composer()->toPlainText(), QString());
  ASSERT_TRUE(QTest::qWaitFor(
      [&] {
        const QModelIndex i = rowWithText(timeline, QStringLiteral("hello bob"));
        return i.isValid() && i.data(TimelineModel::kDeliveryRole).toString() == "sent";
      },
      kNetworkMs));
  {
    const auto t = MessageDelegate::textsFor(rowWithText(timeline, QStringLiteral("hello bob")));
    EXPECT_TRUE(t.outgoing);
    EXPECT_EQ(t.delivery, QStringLiteral("Sent"));
  }
  const QJsonObject got = syncUntil(bob, [&](const QJsonObject& e) {
    return e.value("event") == "message" && e.value("text") == "hello bob";
  });
  ASSERT_FALSE(got.isEmpty()) << "Bob did not get the text";
  const std::string hello_id = got.value("messageId").toString().toStdString();

  ok(bob, {"send", alice_id.toStdString(), "hi alice"});
  ASSERT_TRUE(QTest::qWaitFor(
      [&] { return rowWithText(timeline, QStringLiteral("hi alice")).isValid(); }, kNetworkMs));
  {
    const auto t = MessageDelegate::textsFor(rowWithText(timeline, QStringLiteral("hi alice")));
    EXPECT_FALSE(t.outgoing);
    EXPECT_EQ(t.delivery, QString());
  }
  EXPECT_TRUE(QTest::qWaitFor([&] { return chatTitle(session, bob_id) == "bob"; }, kNetworkMs))
      << "nickname learned from Bob's message: " << chatTitle(session, bob_id).toStdString();

  // --- A file to a v1 friend: the library's refusal, inline under the composer.
  const bool still_v1 =
      chat->findChild<QLabel*>(QStringLiteral("protocolBadge"))->text() == QStringLiteral("v1");
  if (still_v1) {
    const QString notes = QString::fromStdString((dir_->path() / "notes.txt").string());
    {
      QFile f(notes);
      ASSERT_TRUE(f.open(QIODevice::WriteOnly));
      f.write("plain notes");
    }
    chat->sendFiles({notes});
    ASSERT_TRUE(QTest::qWaitFor(
        [&] { return chat->errorLabel()->text().contains(QStringLiteral("Send file failed")); },
        kNetworkMs));
    const QString why = chat->errorLabel()->text();
    EXPECT_TRUE(why.contains(QStringLiteral("protocol v2"))) << why.toStdString();
  }

  // --- A photo (the path drag-and-drop and the Attach button take: inline for a v1 friend).
  const QString photo = QString::fromStdString((dir_->path() / "photo.png").string());
  QImage picture(64, 48, QImage::Format_RGB32);
  picture.fill(QColor(10, 120, 200));
  ASSERT_TRUE(picture.save(photo, "PNG"));
  if (still_v1) {
    chat->sendFiles({photo});
  } else {
    chat->sendImageFiles({photo});
  }
  ASSERT_TRUE(QTest::qWaitFor(
      [&] {
        const QModelIndex i = findRow(timeline, [](const QModelIndex& r) {
          return r.data(TimelineModel::kTypeRole).toString() == "IMG" &&
                 r.data(TimelineModel::kOutgoingRole).toBool();
        });
        return i.isValid() && i.data(TimelineModel::kDeliveryRole).toString() == "sent";
      },
      kNetworkMs));
  {
    const QModelIndex img = findRow(timeline, [](const QModelIndex& r) {
      return r.data(TimelineModel::kTypeRole).toString() == "IMG";
    });
    EXPECT_EQ(chat->delegate()->thumbnail(img).deviceIndependentSize().toSize(), QSize(64, 48));
    // Enter on the photo opens it full size in the viewer (which offers Save).
    chat->timelineView()->setCurrentIndex(img);
    chat->timelineView()->setFocus();
    QTest::keyClick(chat->timelineView(), Qt::Key_Return);
    ImageViewer* viewer = chat->findChild<ImageViewer*>();
    ASSERT_NE(viewer, nullptr);
    EXPECT_TRUE(viewer->isVisible());
    EXPECT_EQ(viewer->image().size(), QSize(64, 48));
    viewer->close();
  }
  ASSERT_FALSE(syncUntil(bob,
                         [&](const QJsonObject& e) {
                           return e.value("event") == "message" && e.value("type") == "IMG";
                         })
                   .isEmpty())
      << "Bob did not get the photo";

  // --- Reactions: ours through the menu on the selected message, Bob's shown under ours.
  {
    const QModelIndex hi = rowWithText(timeline, QStringLiteral("hi alice"));
    chat->timelineView()->setCurrentIndex(hi);
    chat->showReactionMenu();
    auto* menu = chat->findChild<QMenu*>(QStringLiteral("reactionMenu"));
    ASSERT_NE(menu, nullptr);
    EXPECT_EQ(menu->actions().size(), 7) << "seven emoji; no \"remove\" before we reacted";
    menu->findChild<QAction*>(QStringLiteral("react_EMO_HEART"))->trigger();
  }
  const QString heart = reactionSymbol(QStringLiteral("EMO_HEART"));
  EXPECT_TRUE(QTest::qWaitFor(
      [&] {
        return MessageDelegate::textsFor(rowWithText(timeline, QStringLiteral("hi alice")))
                   .reactions == heart;
      },
      kNetworkMs));
  EXPECT_FALSE(syncUntil(bob,
                         [&](const QJsonObject& e) {
                           return e.value("type") == "EMOJI" && e.value("emoji") == "EMO_HEART";
                         })
                   .isEmpty())
      << "Bob did not get the reaction";
  ok(bob, {"react", alice_id.toStdString(), hello_id, "thumb_up"});
  const QString thumb = reactionSymbol(QStringLiteral("EMO_THUMB_UP"));
  EXPECT_TRUE(QTest::qWaitFor(
      [&] {
        return MessageDelegate::textsFor(rowWithText(timeline, QStringLiteral("hello bob")))
                   .reactions == thumb;
      },
      kNetworkMs));

  // --- Safety number: the header button opens the dialog with the digits Bob's CLI shows;
  // confirming them marks Bob verified.
  {
    auto* safety_button = chat->findChild<QPushButton*>(QStringLiteral("safetyNumberButton"));
    ASSERT_TRUE(safety_button->isVisible());
    EXPECT_EQ(chat->findChild<QLabel*>(QStringLiteral("protocolBadge"))->text(), "v2");
    safety_button->click();
    ASSERT_TRUE(QTest::qWaitFor([&] { return w.safetyNumberDialog() != nullptr; }, kNetworkMs));
    SafetyNumberDialog* safety = w.safetyNumberDialog();
    const auto bob_view = ok(bob, {"verify", alice_id.toStdString()});
    ASSERT_EQ(bob_view.size(), 1u);
    const QString digits = bob_view.front().value("digits").toString();
    ASSERT_EQ(digits.size(), 60);
    EXPECT_EQ(safety->formattedDigits().remove(QRegularExpression(QStringLiteral("\\s"))), digits)
        << "both sides show the same number";
    EXPECT_FALSE(safety->isVerified());
    emit safety->verifyRequested(bob_id, digits);  // what "They match" / typing them sends
    ASSERT_TRUE(QTest::qWaitFor([&] { return safety->isVerified(); }, kNetworkMs));
    const int row = session.friends()->rowOf(bob_id);
    EXPECT_TRUE(QTest::qWaitFor(
        [&] { return session.friends()->index(row, 0).data(FriendsModel::kVerifiedRole).toBool(); },
        kNetworkMs));
    EXPECT_FALSE(chat->findChild<QFrame*>(QStringLiteral("identityBanner"))->isVisible());
    safety->close();
  }

  // --- A group: create it, invite Bob from the checklist, read his message in it.
  w.findChild<QAction*>(QStringLiteral("newGroupAction"))->trigger();
  NewGroupDialog* new_group = w.newGroupDialog();
  ASSERT_NE(new_group, nullptr);
  new_group->findChild<QLineEdit*>(QStringLiteral("groupNameEdit"))->setText("Team");
  new_group->findChild<QPushButton*>(QStringLiteral("createGroupButton"))->click();
  InviteDialog* invite = nullptr;
  ASSERT_TRUE(QTest::qWaitFor([&] { return (invite = findTopLevel<InviteDialog>()) != nullptr; },
                              kNetworkMs))
      << "no invite dialog after the group was created";
  const QString team_id = chat->chatId();
  EXPECT_TRUE(chat->isGroup());
  EXPECT_EQ(chatTitle(session, team_id), QStringLiteral("Team"));
  QListWidget* friends = invite->friendList();
  ASSERT_EQ(friends->count(), 1);
  EXPECT_EQ(friends->item(0)->data(Qt::UserRole).toString(), bob_id);
  {
    const QStringList problems = secchats::desktop::testing::auditAccessibility(invite);
    EXPECT_TRUE(problems.isEmpty()) << problems.join(QLatin1Char('\n')).toStdString();
  }
  friends->item(0)->setCheckState(Qt::Checked);
  invite->findChild<QPushButton*>(QStringLiteral("sendInvitesButton"))->click();
  ASSERT_FALSE(syncUntil(bob,
                         [&](const QJsonObject& e) {
                           return e.value("event") == "groupInvite" &&
                                  e.value("groupId") == team_id;
                         })
                   .isEmpty())
      << "Bob did not get the invite";
  ok(bob, {"group", "join", team_id.toStdString()});
  ok(bob, {"group", "send", team_id.toStdString(), "hi team"});
  ASSERT_TRUE(QTest::qWaitFor(
      [&] { return rowWithText(timeline, QStringLiteral("hi team")).isValid(); }, kNetworkMs));
  // The name with the start of the id: names alone can be copied by another member.
  EXPECT_EQ(MessageDelegate::textsFor(rowWithText(timeline, QStringLiteral("hi team"))).sender,
            QStringLiteral("bob (%1)").arg(bob_id.left(8)));

  // --- An in-person group from Bob's QR image.
  const std::string park_png = (dir_->path() / "park.png").string();
  const auto created = ok(bob, {"group", "qr-create", "Park", "--png", park_png});
  ASSERT_EQ(created.size(), 1u);
  const QString park_id = created.front().value("groupId").toString();
  w.findChild<QAction*>(QStringLiteral("joinInPersonGroupAction"))->trigger();
  InPersonGroupDialog* in_person = w.inPersonDialog();
  ASSERT_NE(in_person, nullptr);
  in_person->scanner()->scanImage(QImage(QString::fromStdString(park_png)));
  ASSERT_TRUE(QTest::qWaitFor([&] { return session.chats()->rowOf(park_id) >= 0; }, kNetworkMs))
      << "the scanned group was not joined";
  EXPECT_EQ(chatTitle(session, park_id), QStringLiteral("Park"));
  EXPECT_TRUE(QTest::qWaitFor([&] { return chat->chatId() == park_id; }, 5000));
  in_person->close();

  // The main window renders (not blank); SECCHATS_SCREENSHOT_DIR keeps a picture to look at.
  w.openChat(team_id);
  ASSERT_TRUE(QTest::qWaitFor(
      [&] { return rowWithText(timeline, QStringLiteral("hi team")).isValid(); }, kNetworkMs));
  const QImage shot = secchats::desktop::testing::renderImage(&w, 1);
  EXPECT_EQ(secchats::desktop::testing::checkNotBlank(shot), QString());
  if (const QString dir = qEnvironmentVariable("SECCHATS_SCREENSHOT_DIR"); !dir.isEmpty()) {
    shot.save(QDir(dir).filePath(QStringLiteral("ui_main_window.png")));
    w.openChat(bob_id);
    QTest::qWait(300);
    secchats::desktop::testing::renderImage(&w, 1).save(
        QDir(dir).filePath(QStringLiteral("ui_direct_chat.png")));
  }

  // Every screen so far is accessible.
  const QStringList problems = secchats::desktop::testing::auditAccessibility(&w);
  EXPECT_TRUE(problems.isEmpty()) << problems.join(QLatin1Char('\n')).toStdString();
}

TEST_F(UiE2eTest, RequestsPanelAcceptsAndUnlockReopens) {
  QString carol_id;
  CliUser carol = cliUser("carol", &carol_id);
  {
    AppSettings settings(settingsFile());
    Session session(home());
    MainWindow w(&session, &settings);
    w.show();
    OnboardingPage* onboarding = w.onboardingPage();
    fillOnboarding(onboarding, server_->base_url());
    onboarding->submit();
    ASSERT_TRUE(
        QTest::qWaitFor([&] { return w.page() == MainWindow::Page::kIdentity; }, kNetworkMs));
    findByAccessibleName<QPushButton>(w.identityCard(), QStringLiteral("Continue"))->click();
    const QString alice_id = session.userId();

    ok(carol, {"add", alice_id.toStdString()});
    auto* requests = w.findChild<QPushButton*>(QStringLiteral("requestsButton"));
    ASSERT_TRUE(QTest::qWaitFor([&] { return requests->text() == QStringLiteral("Requests (1)"); },
                                kNetworkMs))
        << requests->text().toStdString();
    requests->click();
    EXPECT_TRUE(w.requestsPanel()->isVisible());
    auto* accept =
        w.requestsPanel()->findChild<QPushButton*>(QStringLiteral("acceptRequest_") + carol_id);
    ASSERT_NE(accept, nullptr);
    EXPECT_TRUE(accept->hasFocus()) << "the keyboard lands on the first Accept";
    {
      const QStringList problems = secchats::desktop::testing::auditAccessibility(&w);
      EXPECT_TRUE(problems.isEmpty()) << problems.join(QLatin1Char('\n')).toStdString();
    }
    accept->click();
    EXPECT_TRUE(
        QTest::qWaitFor([&] { return requests->text() == QStringLiteral("Requests (0)"); }, 5000));
    ASSERT_TRUE(QTest::qWaitFor([&] { return session.chats()->rowOf(carol_id) >= 0; }, kNetworkMs));
    ASSERT_FALSE(syncUntil(carol, [&](const QJsonObject& e) {
                   return e.value("event") == "friendAccepted" && e.value("userId") == alice_id;
                 }).isEmpty());

    // Adding a friend by scanning the QR code of their ID (as their identity card shows it).
    QString dave_id;
    CliUser dave = cliUser("dave", &dave_id);
    QrCodeWidget code;
    ASSERT_TRUE(code.setText(dave_id));
    w.findChild<QAction*>(QStringLiteral("addFriendAction"))->trigger();
    AddFriendDialog* add = w.addFriendDialog();
    add->findChild<QPushButton*>(QStringLiteral("scanFriendQrButton"))->click();
    auto* scanner = add->findChild<QrScanner*>(QStringLiteral("friendQrScanner"));
    ASSERT_NE(scanner, nullptr);
    scanner->scanImage(code.toImage(8));
    auto* add_message = add->findChild<InlineMessage*>(QStringLiteral("addFriendMessage"));
    ASSERT_TRUE(QTest::qWaitFor(
        [&] { return add_message->text().contains(QStringLiteral("Request sent")); }, kNetworkMs))
        << add_message->text().toStdString();
    EXPECT_EQ(add->findChild<QLineEdit*>(QStringLiteral("friendIdEdit"))->text(), dave_id);
    add->close();
    EXPECT_FALSE(syncUntil(dave, [&](const QJsonObject& e) {
                   return e.value("event") == "friendRequest" && e.value("userId") == alice_id;
                 }).isEmpty());

    // A message from Carol while another chat (none) is open: a notification, content hidden.
    // (Carol's request notified already: a friend request, the content hidden too.)
    EXPECT_EQ(w.notifier()->lastTitle(), QStringLiteral("Friend request"));
    EXPECT_FALSE(w.notifier()->lastBody().contains(carol_id));
    const int before = w.notifier()->shownCount();
    ok(carol, {"send", alice_id.toStdString(), "secret plans"});
    ASSERT_TRUE(QTest::qWaitFor([&] { return w.notifier()->shownCount() > before; }, kNetworkMs));
    EXPECT_EQ(w.notifier()->lastBody().toStdString(), "New message");
    EXPECT_EQ(w.notifier()->lastChatId().toStdString(), carol_id.toStdString());
    EXPECT_TRUE(QTest::qWaitFor(
        [&] { return w.windowTitle() == QStringLiteral("Secure Chats (1)"); }, kNetworkMs))
        << w.windowTitle().toStdString();
    w.notifier()->activateLast();  // clicking the notification opens the chat
    EXPECT_EQ(w.chatView()->chatId(), carol_id);
    EXPECT_TRUE(QTest::qWaitFor(
        [&] {
          return rowWithText(w.chatView()->timelineView()->model(), QStringLiteral("secret plans"))
              .isValid();
        },
        kNetworkMs));
  }
  // The account exists now: unlock, not onboarding. A wrong password is said inline.
  AppSettings settings(settingsFile());
  Session session(home());
  MainWindow w(&session, &settings);
  w.show();
  ASSERT_EQ(w.page(), MainWindow::Page::kUnlock);
  UnlockPage* unlock = w.unlockPage();
  auto* password = findByAccessibleName<QLineEdit>(unlock, QStringLiteral("Password"));
  password->setText(QStringLiteral("wrong password"));
  unlock->submit();
  auto* error = unlock->findChild<InlineMessage*>();
  ASSERT_TRUE(
      QTest::qWaitFor([&] { return error->isVisible() && !error->text().isEmpty(); }, kNetworkMs));
  EXPECT_EQ(w.page(), MainWindow::Page::kUnlock);
  password->setText(QStringLiteral("correct horse alice"));
  unlock->submit();
  ASSERT_TRUE(QTest::qWaitFor([&] { return w.page() == MainWindow::Page::kMain; }, kNetworkMs));
  EXPECT_GE(session.chats()->rowOf(carol_id), 0);
}

}  // namespace
}  // namespace secchats::desktop::ui
