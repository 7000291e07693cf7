// Incoming friend requests and group invites, as the requests panel lists them
// (Client::requests() filtered to incoming, plus Client::group_invites()).
#pragma once

#include <QAbstractListModel>
#include <vector>

#include "secchats/client.hpp"

namespace secchats::desktop {

class RequestsModel : public QAbstractListModel {
  Q_OBJECT
 public:
  enum Role {
    kKindRole = Qt::UserRole + 1,  // QString "friend" / "group"
    kIdRole,                       // QString: the requesting user's id, or the group id
    kTitleRole,                    // QString: friend request: the id; invite: the group name
    kDetailRole,                   // QString: invite: "from <nickname or id>"; request: ""
  };
  explicit RequestsModel(QObject* parent = nullptr);

  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;  // DisplayRole = title
  QHash<int, QByteArray> roleNames() const override;

  // Replaces the content. Outgoing requests (PendingRequest::incoming false) are ignored.
  // Friend requests come first (oldest first), then invites in the order given.
  void setContent(const std::vector<PendingRequest>& requests,
                  const std::vector<GroupInviteInfo>& invites);
  // Drops one row (after the user accepted or declined it), without waiting for a refresh.
  // kind: "friend" / "group". Does nothing if absent.
  void remove(const QString& kind, const QString& id);
  int rowOf(const QString& kind, const QString& id) const;  // -1 if absent

 private:
  struct Row {
    QString kind;
    QString id;
    QString title;
    QString detail;
    bool operator==(const Row&) const = default;
  };
  std::vector<Row> rows_;
};

}  // namespace secchats::desktop
