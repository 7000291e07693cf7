// The friends (Client::friends()): for the invite-to-group picker, safety numbers, the
// verification state shown next to a chat.
#pragma once

#include <QAbstractListModel>
#include <vector>

#include "secchats/client.hpp"

namespace secchats::desktop {

class FriendsModel : public QAbstractListModel {
  Q_OBJECT
 public:
  enum Role {
    kUserIdRole = Qt::UserRole + 1,  // QString
    kNicknameRole,                   // QString ("" until learned)
    kProtocolRole,                   // QString "v1" / "v2"
    kVerifiedRole,                   // bool
    kIdentityChangedRole,            // bool
    kSendingBlockedRole,             // bool
  };
  explicit FriendsModel(QObject* parent = nullptr);

  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;  // DisplayRole = nickname or id
  QHash<int, QByteArray> roleNames() const override;

  // Replaces the content in the order given; rows that did not change stay as they are.
  void setFriends(std::vector<FriendInfo> friends);
  int rowOf(const QString& user_id) const;  // -1 if absent
  const FriendInfo* at(int row) const;
  const FriendInfo* find(const QString& user_id) const;  // nullptr if absent

 private:
  std::vector<FriendInfo> friends_;
};

}  // namespace secchats::desktop
