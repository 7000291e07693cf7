// ChatListModel::setChats: a refresh moves, inserts, removes and repaints rows without a reset,
// so a selected chat stays selected and persistent indexes follow their chat.
#include <gtest/gtest.h>

#include <QAbstractItemModelTester>
#include <QItemSelectionModel>
#include <QSignalSpy>

#include "core/chat_list_model.hpp"

namespace secchats::desktop {
namespace {

ChatSummary chat(const std::string& id, std::int64_t activity, std::int64_t unread = 0) {
  ChatSummary c;
  c.chat_id = id;
  c.title = "title " + id;
  c.last_activity_ms = activity;
  c.unread = unread;
  return c;
}

std::vector<std::string> ids(const ChatListModel& m) {
  std::vector<std::string> out;
  for (int r = 0; r < m.rowCount(); ++r) {
    out.push_back(m.index(r).data(ChatListModel::kChatIdRole).toString().toStdString());
  }
  return out;
}

TEST(ChatListModel, FillsRowsAndRoles) {
  ChatListModel m;
  QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::Fatal);
  auto group = chat("g1", 30, 2);
  group.kind = ChatKind::kGroup;
  MessageInfo last;
  last.type = "TEXT";
  last.text = "hi\nthere";
  last.from_name = "bob";
  last.from_user_id = "bobid";
  group.last_message = last;
  auto unnamed = chat("f1", 20);
  unnamed.title.clear();
  m.setChats({group, unnamed});
  ASSERT_EQ(m.rowCount(), 2);
  EXPECT_EQ(m.index(0).data(ChatListModel::kIsGroupRole).toBool(), true);
  EXPECT_EQ(m.index(0).data(ChatListModel::kUnreadRole).toInt(), 2);
  EXPECT_EQ(m.index(0).data(Qt::DisplayRole).toString(), "title g1");
  EXPECT_EQ(m.index(0).data(ChatListModel::kLastMessageRole).toString(),
            "bob (bobid): hi there");                            // with the id start
  EXPECT_EQ(m.index(1).data(Qt::DisplayRole).toString(), "f1");  // no name yet: the id
  EXPECT_EQ(m.index(1).data(ChatListModel::kLastMessageRole).toString(), "");
  EXPECT_EQ(m.rowOf("f1"), 1);
  EXPECT_EQ(m.rowOf("nope"), -1);
}

TEST(ChatListModel, ReorderInsertRemoveKeepsSelectionWithoutReset) {
  ChatListModel m;
  QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::Fatal);
  m.setChats({chat("a", 40), chat("b", 30), chat("c", 20), chat("d", 10)});
  QItemSelectionModel selection(&m);
  selection.setCurrentIndex(m.index(2), QItemSelectionModel::ClearAndSelect);  // "c"
  QPersistentModelIndex d_index(m.index(3));
  QSignalSpy resets(&m, &QAbstractItemModel::modelReset);
  QSignalSpy changed(&m, &QAbstractItemModel::dataChanged);

  // "c" got a message (now first, unread), "b" left, "e" is new, "a" and "d" unchanged.
  m.setChats({chat("c", 50, 1), chat("e", 45), chat("a", 40), chat("d", 10)});

  EXPECT_EQ(ids(m), (std::vector<std::string>{"c", "e", "a", "d"}));
  EXPECT_EQ(resets.count(), 0);
  ASSERT_TRUE(selection.currentIndex().isValid());
  EXPECT_EQ(selection.currentIndex().data(ChatListModel::kChatIdRole).toString(), "c");
  EXPECT_TRUE(selection.isSelected(m.index(0)));
  ASSERT_TRUE(d_index.isValid());
  EXPECT_EQ(d_index.row(), 3);
  EXPECT_EQ(d_index.data(ChatListModel::kChatIdRole).toString(), "d");
  // Only "c" changed content.
  ASSERT_EQ(changed.count(), 1);
  EXPECT_EQ(changed.at(0).at(0).value<QModelIndex>().row(), 0);
  EXPECT_EQ(m.index(0).data(ChatListModel::kUnreadRole).toInt(), 1);
}

TEST(ChatListModel, SameContentEmitsNothing) {
  ChatListModel m;
  m.setChats({chat("a", 2), chat("b", 1)});
  QSignalSpy changed(&m, &QAbstractItemModel::dataChanged);
  QSignalSpy layout(&m, &QAbstractItemModel::layoutChanged);
  QSignalSpy inserted(&m, &QAbstractItemModel::rowsInserted);
  m.setChats({chat("a", 2), chat("b", 1)});
  EXPECT_EQ(changed.count() + layout.count() + inserted.count(), 0);
}

TEST(ChatListModel, EmptiesAndRefills) {
  ChatListModel m;
  QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::Fatal);
  m.setChats({chat("a", 2), chat("b", 1)});
  m.setChats({});
  EXPECT_EQ(m.rowCount(), 0);
  m.setChats({chat("x", 3), chat("b", 1), chat("y", 0)});
  EXPECT_EQ(ids(m), (std::vector<std::string>{"x", "b", "y"}));
  EXPECT_EQ(m.at(1)->chat_id, "b");
  EXPECT_EQ(m.at(5), nullptr);
}

}  // namespace
}  // namespace secchats::desktop
