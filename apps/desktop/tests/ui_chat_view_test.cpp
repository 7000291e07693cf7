// ChatView's timeline behaviour without a relay: a Session that is not open still owns a real
// TimelineModel, which the test fills the way the Session does (reset, prependPage,
// appendOrUpdate) to check lazy loading and where the view keeps the user.
#include <gtest/gtest.h>

#include <QApplication>
#include <QDragEnterEvent>
#include <QFile>
#include <QLabel>
#include <QListView>
#include <QMimeData>
#include <QPushButton>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTest>
#include <memory>

#include "core/chat_list_model.hpp"
#include "core/friends_model.hpp"
#include "core/session.hpp"
#include "core/timeline_model.hpp"
#include "support/temp_dir.hpp"
#include "ui/chat_view.hpp"
#include "ui/composer.hpp"
#include "widgets/inline_message.hpp"

namespace secchats::desktop::ui {
namespace {

const QString kChat = QStringLiteral("0123456789abcdef0123456789abcdef");

std::vector<MessageInfo> page(std::int64_t first_local_id, int count) {
  std::vector<MessageInfo> out;
  for (int i = 0; i < count; ++i) {
    MessageInfo m;
    m.chat_id = kChat.toStdString();
    m.from_user_id = kChat.toStdString();
    m.from_name = "bob";
    m.local_id = first_local_id + i;
    m.message_id = 5000 + m.local_id;
    m.type = "TEXT";
    m.text = "message " + std::to_string(m.local_id);
    m.sender_timestamp = 1700000000000 + m.local_id * 1000;
    out.push_back(m);
  }
  return out;
}

class ChatViewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<secchats::testing::TempDir>("secchats-ui-chatview");
    session_ = std::make_unique<Session>(QString::fromStdString(dir_->path().string()));
    view_ = std::make_unique<ChatView>(session_.get());
    view_->resize(600, 400);
    view_->show();
    view_->openChat(kChat);  // not open: the worker has no client and does nothing
    older_ = std::make_unique<QSignalSpy>(model(), &TimelineModel::olderPageWanted);
    model()->reset(kChat, page(101, 50), true);
    QTest::qWait(50);
  }
  TimelineModel* model() const { return session_->timeline(); }
  QScrollBar* bar() const { return view_->timelineView()->verticalScrollBar(); }
  QString textAtTop() const {
    return view_->timelineView()->indexAt(QPoint(10, 10)).data(TimelineModel::kTextRole).toString();
  }

  std::unique_ptr<secchats::testing::TempDir> dir_;
  std::unique_ptr<Session> session_;
  std::unique_ptr<ChatView> view_;
  std::unique_ptr<QSignalSpy> older_;  // from before the first page arrived
};

TEST_F(ChatViewTest, OpensAtTheBottomAndTheViewDoesNotPullHistoryByItself) {
  QSignalSpy& older = *older_;
  ASSERT_GT(bar()->maximum(), 0) << "50 messages overflow the view";
  EXPECT_EQ(bar()->value(), bar()->maximum());
  QTest::qWait(100);
  EXPECT_EQ(older.count(), 0) << "the newest message is visible, which is no reason to fetch";
}

TEST_F(ChatViewTest, ScrollingToTheTopLoadsTheOlderPageAndKeepsThePlace) {
  QSignalSpy& older = *older_;
  ASSERT_EQ(older.count(), 0);
  bar()->setValue(bar()->minimum());
  ASSERT_EQ(older.count(), 1);
  EXPECT_EQ(older.at(0).at(0).toString(), kChat);
  EXPECT_EQ(older.at(0).at(1).toLongLong(), 101);
  // Scroll a little so a message (not the very first pixel) is at the top, then the page lands.
  bar()->setValue(bar()->minimum() + 3);
  const QString before = textAtTop();
  ASSERT_EQ(before, QStringLiteral("message 101"));
  model()->prependPage(kChat, page(51, 50), false);
  QTest::qWait(50);
  EXPECT_EQ(model()->rowCount(), 100);
  EXPECT_EQ(textAtTop(), before) << "the same message stays under the user's eyes";
  EXPECT_GT(bar()->value(), bar()->minimum());
  // Nothing older: reaching the top again asks for nothing.
  bar()->setValue(bar()->minimum());
  EXPECT_EQ(older.count(), 1);
}

TEST_F(ChatViewTest, NewMessagesFollowOnlyWhenAtTheBottom) {
  const std::vector<MessageInfo> next = page(151, 2);
  model()->appendOrUpdate(next[0]);
  QTest::qWait(50);
  EXPECT_EQ(bar()->value(), bar()->maximum()) << "at the bottom: stays at the bottom";
  bar()->setValue(bar()->maximum() / 2);
  const int reading = bar()->value();
  model()->appendOrUpdate(next[1]);
  QTest::qWait(50);
  EXPECT_EQ(bar()->value(), reading) << "reading older messages: not yanked down";
}

TEST_F(ChatViewTest, KeyChangeShowsARedBannerAndABlockStopsTheComposer) {
  ChatSummary summary;
  summary.chat_id = kChat.toStdString();
  summary.title = "bob";
  summary.protocol = "v2";
  session_->chats()->setChats({summary});
  FriendInfo bob;
  bob.user_id = kChat.toStdString();
  bob.nickname = "bob";
  bob.protocol = "v2";
  session_->friends()->setFriends({bob});
  auto* banner = view_->findChild<QFrame*>(QStringLiteral("identityBanner"));
  EXPECT_FALSE(banner->isVisible());
  EXPECT_TRUE(view_->composer()->isEnabled());
  EXPECT_EQ(view_->findChild<QLabel*>(QStringLiteral("chatTitle"))->text(), QStringLiteral("bob"));

  bob.identity_changed = true;
  session_->friends()->setFriends({bob});
  EXPECT_TRUE(banner->isVisible());
  EXPECT_TRUE(view_->findChild<QPushButton*>(QStringLiteral("verifyButton"))->isVisible());
  EXPECT_TRUE(view_->composer()->isEnabled()) << "a change alone does not block sending";

  bob.sending_blocked = true;
  session_->friends()->setFriends({bob});
  EXPECT_TRUE(banner->isVisible());
  EXPECT_FALSE(view_->composer()->isEnabled());
  EXPECT_TRUE(view_->findChild<QLabel*>(QStringLiteral("identityBannerText"))
                  ->text()
                  .contains(QStringLiteral("blocked")));
  QSignalSpy verify(view_.get(), &ChatView::safetyNumberRequested);
  view_->findChild<QPushButton*>(QStringLiteral("verifyButton"))->click();
  ASSERT_EQ(verify.count(), 1);
  EXPECT_EQ(verify.at(0).at(0).toString(), kChat);
}

// Dropped files: folders are not taken; in a v1 chat a photo goes inline (Send image) and any
// other file to the library, which refuses it for v1 (Send file); in a v2 chat both are
// attachments. No account is open here, so each send reports back: proof of where it went.
TEST_F(ChatViewTest, DroppedFilesGoInlineOrAsAttachmentsByProtocol) {
  const QString png = QString::fromStdString((dir_->path() / "drop.png").string());
  const QString txt = QString::fromStdString((dir_->path() / "notes.txt").string());
  QImage picture(8, 8, QImage::Format_RGB32);
  picture.fill(Qt::red);
  ASSERT_TRUE(picture.save(png, "PNG"));
  QFile(txt).open(QIODevice::WriteOnly);

  QMimeData folder_only;
  folder_only.setUrls({QUrl::fromLocalFile(QString::fromStdString(dir_->path().string()))});
  QDragEnterEvent refused(QPoint(5, 5), Qt::CopyAction, &folder_only, Qt::LeftButton,
                          Qt::NoModifier);
  QApplication::sendEvent(view_.get(), &refused);
  EXPECT_FALSE(refused.isAccepted()) << "a folder is not a file to send";

  QMimeData files;
  files.setUrls({QUrl::fromLocalFile(txt), QUrl::fromLocalFile(png)});
  const auto dropAndCollect = [&] {
    // Qt delivers a drop to the widget that accepted the drag's enter.
    QDragEnterEvent enter(QPoint(5, 5), Qt::CopyAction, &files, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(view_.get(), &enter);
    EXPECT_TRUE(enter.isAccepted());
    QSignalSpy failed(session_.get(), &Session::operationFailed);
    QDropEvent drop(QPointF(5, 5), Qt::CopyAction, &files, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(view_.get(), &drop);
    EXPECT_TRUE(QTest::qWaitFor([&] { return failed.count() >= 2; }, 5000));
    QTest::qWait(50);
    QStringList whats;
    for (const auto& args : failed)
      whats << args.at(0).toString();
    whats.sort();
    return whats;
  };
  // Not in the chat list: treated as v1.
  EXPECT_EQ(dropAndCollect(), QStringList({"Send file", "Send image"}));

  ChatSummary summary;
  summary.chat_id = kChat.toStdString();
  summary.title = "bob";
  summary.protocol = "v2";
  session_->chats()->setChats({summary});
  EXPECT_EQ(dropAndCollect(), QStringList({"Send file", "Send file"}));
}

TEST_F(ChatViewTest, EmptyMessageIsRefusedInline) {
  QTest::keyClicks(view_->composer(), QStringLiteral("   "));
  QTest::keyClick(view_->composer(), Qt::Key_Return);
  EXPECT_TRUE(view_->errorLabel()->isVisible());
  EXPECT_EQ(view_->errorLabel()->kind(), InlineMessage::Kind::kError);
}

}  // namespace
}  // namespace secchats::desktop::ui
