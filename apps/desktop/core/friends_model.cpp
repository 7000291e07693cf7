#include "friends_model.hpp"

namespace secchats::desktop {
namespace {

bool same_friend(const FriendInfo& a, const FriendInfo& b) {
  return a.user_id == b.user_id && a.nickname == b.nickname && a.protocol == b.protocol &&
         a.verified == b.verified && a.identity_changed == b.identity_changed &&
         a.sending_blocked == b.sending_blocked;
}

}  // namespace

FriendsModel::FriendsModel(QObject* parent) : QAbstractListModel(parent) {}

int FriendsModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(friends_.size());
}

QVariant FriendsModel::data(const QModelIndex& index, int role) const {
  const FriendInfo* f = at(index.row());
  if (!f || index.parent().isValid()) return {};
  switch (role) {
    case Qt::DisplayRole:
      return f->nickname.empty() ? QString::fromStdString(f->user_id)
                                 : QString::fromStdString(f->nickname);
    case kUserIdRole:
      return QString::fromStdString(f->user_id);
    case kNicknameRole:
      return QString::fromStdString(f->nickname);
    case kProtocolRole:
      return QString::fromStdString(f->protocol);
    case kVerifiedRole:
      return f->verified;
    case kIdentityChangedRole:
      return f->identity_changed;
    case kSendingBlockedRole:
      return f->sending_blocked;
    default:
      return {};
  }
}

QHash<int, QByteArray> FriendsModel::roleNames() const {
  auto names = QAbstractListModel::roleNames();
  names[kUserIdRole] = "userId";
  names[kNicknameRole] = "nickname";
  names[kProtocolRole] = "protocol";
  names[kVerifiedRole] = "verified";
  names[kIdentityChangedRole] = "identityChanged";
  names[kSendingBlockedRole] = "sendingBlocked";
  return names;
}

void FriendsModel::setFriends(std::vector<FriendInfo> friends) {
  bool same_ids = friends.size() == friends_.size();
  for (std::size_t i = 0; same_ids && i < friends.size(); ++i) {
    same_ids = friends[i].user_id == friends_[i].user_id;
  }
  if (!same_ids) {
    // Friends come and go rarely (accept, never removed today): a reset is fine here.
    beginResetModel();
    friends_ = std::move(friends);
    endResetModel();
    return;
  }
  for (std::size_t i = 0; i < friends.size(); ++i) {
    if (same_friend(friends_[i], friends[i])) continue;
    friends_[i] = std::move(friends[i]);
    const int row = static_cast<int>(i);
    emit dataChanged(index(row), index(row));
  }
}

int FriendsModel::rowOf(const QString& user_id) const {
  const std::string id = user_id.toStdString();
  for (std::size_t i = 0; i < friends_.size(); ++i) {
    if (friends_[i].user_id == id) return static_cast<int>(i);
  }
  return -1;
}

const FriendInfo* FriendsModel::at(int row) const {
  if (row < 0 || row >= static_cast<int>(friends_.size())) return nullptr;
  return &friends_[static_cast<std::size_t>(row)];
}

const FriendInfo* FriendsModel::find(const QString& user_id) const {
  return at(rowOf(user_id));
}

}  // namespace secchats::desktop
