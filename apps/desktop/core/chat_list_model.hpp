// The chat list: every friend and group, most recent activity first (Client::chats()).
#pragma once

#include <QAbstractListModel>
#include <vector>

#include "secchats/client.hpp"

namespace secchats::desktop {

class ChatListModel : public QAbstractListModel {
  Q_OBJECT
 public:
  enum Role {
    kChatIdRole = Qt::UserRole + 1,  // QString
    kIsGroupRole,                    // bool
    kTitleRole,                      // QString: nickname, group name, or the id while unknown
    kLastMessageRole,                // QString: one-line preview ("Photo", "You: hi", ...)
    kLastActivityRole,               // QDateTime (local time)
    kUnreadRole,                     // int
    kProtocolRole,                   // QString "v1" / "v2"
    kClosedRole,                     // bool: a group that removed us
  };
  explicit ChatListModel(QObject* parent = nullptr);

  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;  // DisplayRole = title
  QHash<int, QByteArray> roleNames() const override;

  // Replaces the content, keeping rows that did not change (no full reset: selection stays).
  void setChats(std::vector<ChatSummary> chats);
  int rowOf(const QString& chat_id) const;  // -1 if absent
  const ChatSummary* at(int row) const;

 private:
  std::vector<ChatSummary> chats_;
};

}  // namespace secchats::desktop
