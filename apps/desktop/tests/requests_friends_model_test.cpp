// RequestsModel (incoming friend requests + group invites) and FriendsModel.
#include <gtest/gtest.h>

#include <QAbstractItemModelTester>
#include <QSignalSpy>

#include "core/friends_model.hpp"
#include "core/requests_model.hpp"

namespace secchats::desktop {
namespace {

TEST(RequestsModel, IncomingRequestsThenInvites) {
  RequestsModel m;
  QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::Fatal);
  std::vector<PendingRequest> requests{{"alice", true, 1}, {"we-asked", false, 2}};
  GroupInviteInfo named{"g1", "Book club", "bob", "Bobby"};
  GroupInviteInfo bare{"g2", "", "carol", ""};
  m.setContent(requests, {named, bare});
  ASSERT_EQ(m.rowCount(), 3);  // our own outgoing request is not listed
  auto role = [&](int row, int r) { return m.index(row).data(r).toString(); };
  EXPECT_EQ(role(0, RequestsModel::kKindRole), "friend");
  EXPECT_EQ(role(0, RequestsModel::kIdRole), "alice");
  EXPECT_EQ(role(0, RequestsModel::kTitleRole), "alice");
  EXPECT_EQ(role(0, RequestsModel::kDetailRole), "");
  EXPECT_EQ(role(1, RequestsModel::kKindRole), "group");
  EXPECT_EQ(role(1, RequestsModel::kIdRole), "g1");
  EXPECT_EQ(role(1, Qt::DisplayRole), "Book club");
  EXPECT_EQ(role(1, RequestsModel::kDetailRole), "from Bobby");
  EXPECT_EQ(role(2, RequestsModel::kTitleRole), "g2");  // no name: the id
  EXPECT_EQ(role(2, RequestsModel::kDetailRole), "from carol");

  QSignalSpy resets(&m, &QAbstractItemModel::modelReset);
  m.setContent(requests, {named, bare});  // nothing new: the view is left alone
  EXPECT_EQ(resets.count(), 0);
  m.remove("group", "g1");
  EXPECT_EQ(m.rowCount(), 2);
  EXPECT_EQ(m.rowOf("group", "g1"), -1);
  EXPECT_EQ(m.rowOf("group", "g2"), 1);
  m.setContent({}, {});
  EXPECT_EQ(m.rowCount(), 0);
}

FriendInfo friend_info(const std::string& id, const std::string& nick) {
  FriendInfo f;
  f.user_id = id;
  f.nickname = nick;
  f.protocol = "v2";
  return f;
}

TEST(FriendsModel, RolesAndInPlaceUpdates) {
  FriendsModel m;
  QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::Fatal);
  m.setFriends({friend_info("u1", "Ann"), friend_info("u2", "")});
  ASSERT_EQ(m.rowCount(), 2);
  EXPECT_EQ(m.index(0).data(Qt::DisplayRole).toString(), "Ann");
  EXPECT_EQ(m.index(1).data(Qt::DisplayRole).toString(), "u2");
  EXPECT_EQ(m.index(0).data(FriendsModel::kProtocolRole).toString(), "v2");
  EXPECT_FALSE(m.index(0).data(FriendsModel::kVerifiedRole).toBool());

  QSignalSpy changed(&m, &QAbstractItemModel::dataChanged);
  QSignalSpy resets(&m, &QAbstractItemModel::modelReset);
  auto changed_key = friend_info("u2", "");
  changed_key.identity_changed = true;
  changed_key.sending_blocked = true;
  m.setFriends({friend_info("u1", "Ann"), changed_key});
  EXPECT_EQ(resets.count(), 0);
  ASSERT_EQ(changed.count(), 1);
  EXPECT_EQ(changed.at(0).at(0).value<QModelIndex>().row(), 1);
  EXPECT_TRUE(m.index(1).data(FriendsModel::kIdentityChangedRole).toBool());
  EXPECT_TRUE(m.index(1).data(FriendsModel::kSendingBlockedRole).toBool());
  ASSERT_NE(m.find("u2"), nullptr);
  EXPECT_TRUE(m.find("u2")->sending_blocked);
  EXPECT_EQ(m.find("u9"), nullptr);

  m.setFriends({friend_info("u1", "Ann"), changed_key, friend_info("u3", "Cy")});
  EXPECT_EQ(m.rowCount(), 3);
  EXPECT_EQ(m.rowOf("u3"), 2);
}

}  // namespace
}  // namespace secchats::desktop
