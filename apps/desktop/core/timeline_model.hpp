// The messages of one open chat, oldest at the top. Loads lazily: the newest page first, older
// pages as the view scrolls up (canFetchMore/fetchMore -> Client::history(before_local_id)).
// Reactions are not rows: they are folded into the message they react to (kReactionsRole).
#pragma once

#include <QAbstractListModel>
#include <QImage>
#include <vector>

#include "secchats/client.hpp"

namespace secchats::desktop {

class TimelineModel : public QAbstractListModel {
  Q_OBJECT
 public:
  enum Role {
    kMessageIdRole = Qt::UserRole + 1,  // qint64 (the sender's message id)
    kLocalIdRole,                       // qint64
    kTypeRole,                          // QString "TEXT" / "IMG" / other
    kTextRole,                          // QString (DisplayRole too)
    kImageRole,                         // QImage (IMG), decoded once and cached
    kSenderIdRole,                      // QString
    kSenderNameRole,                    // QString: nickname or short id; "" for our own
    kOutgoingRole,                      // bool
    kTimeRole,                          // QDateTime (local)
    kDeliveryRole,                      // QString "sent" / "pending" / "failed" / "received"
    kReactionsRole,                     // QStringList of emoji characters, one per reacting user
    kOwnReactionRole,                   // QString: our reaction name (EMO_*), "" if none
  };
  explicit TimelineModel(QObject* parent = nullptr);

  QString chatId() const;
  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QHash<int, QByteArray> roleNames() const override;
  bool canFetchMore(const QModelIndex& parent) const override;
  void fetchMore(const QModelIndex& parent) override;  // asks for the page before the first row

 signals:
  // Emitted by fetchMore; the Session answers with prependPage on the GUI thread.
  void olderPageWanted(const QString& chat_id, qint64 before_local_id);

 public:
  // Called by the Session (GUI thread).
  void reset(const QString& chat_id, std::vector<MessageInfo> newest_page, bool has_older);
  void prependPage(const QString& chat_id, std::vector<MessageInfo> page, bool has_older);
  void appendOrUpdate(const MessageInfo& message);  // new message, delivery change or reaction

 private:
  struct Row;
  QString chat_id_;
  std::vector<Row> rows_;
  bool has_older_ = false;
  bool fetching_ = false;
};

}  // namespace secchats::desktop
