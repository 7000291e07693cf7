// The messages of one open chat, oldest at the top. Loads lazily: the newest page first, older
// pages as the view scrolls up (canFetchMore/fetchMore -> Client::history(before_local_id)).
// Reactions are not rows: they are folded into the message they react to (kReactionsRole).
#pragma once

#include <QAbstractListModel>
#include <QImage>
#include <map>
#include <string>
#include <unordered_map>
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
    kSenderNameRole,    // QString: "Nickname (1a2b3c4d)" or the short id; "" for ours
    kOutgoingRole,      // bool
    kTimeRole,          // QDateTime (local)
    kDeliveryRole,      // QString "sent" / "pending" / "failed" / "received"
    kReactionsRole,     // QStringList of emoji characters, one per reacting user
    kOwnReactionRole,   // QString: our reaction name (EMO_*), "" if none
    kHasReactionsRole,  // bool: kReactionsRole is not empty (cheap: asked per row on layout)
    // Attachments (type "FILE", protocol-v2 §15); empty/0 for other rows.
    kAttachmentKindRole,   // QString "file" / "image" / "voice" / "video"
    kFileNameRole,         // QString: the sender's name for it (peer-controlled: plain text)
    kFileSizeRole,         // qint64 bytes (plaintext)
    kMediaTypeRole,        // QString e.g. "audio/ogg"
    kThumbnailRole,        // QImage decoded once from AttachmentInfo::thumbnail (null if none)
    kMediaSizeRole,        // QSize: image/video pixels (invalid if unknown)
    kDurationRole,         // qint64 ms (voice/video; 0 unknown)
    kSavedPathRole,        // QString: where a download last wrote it ("" if never)
    kUploadStateRole,      // QString "uploading" / "uploaded" (outgoing), "" incoming
    kTransferPercentRole,  // int 0..100 while a transfer of it runs, else -1
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
  // The page fetchMore asked for could not be read: allows fetchMore again.
  void olderPageFailed(const QString& chat_id);

  // The oldest local_id loaded (rows and folded reactions; 0 if nothing): the next page is
  // the one before it.
  qint64 firstLocalId() const;
  qint64 lastLocalId() const;               // the largest local_id shown (0 if empty)
  int rowOfLocalId(qint64 local_id) const;  // -1 if absent
  bool hasOlder() const { return has_older_; }
  void setOwnUserId(const QString& user_id);  // whose reaction kOwnReactionRole shows
  // A transfer's progress for its row (kTransferPercentRole; -1 = none): a download by its
  // message id; an upload (message_id 0) by file name among our messages still uploading.
  void setTransferPercent(qint64 message_id, const QString& file_name, int percent);

 private:
  struct Row {
    MessageInfo message;  // IMG bytes are dropped once decoded into `image`
    mutable QImage image;
    mutable bool image_decoded = false;
    mutable QImage thumbnail;  // FILE: decoded from attachment->thumbnail once
    mutable bool thumbnail_decoded = false;
    int transfer_percent = -1;
    // Reacting user -> reaction name ("" = they removed theirs), latest wins.
    std::map<std::string, std::string> reactions;
  };
  static QString senderName(const MessageInfo& m);
  QString accessibleText(const Row& row) const;  // Qt::AccessibleTextRole
  static QVariant attachmentData(const Row& row, int role);
  int findRow(const MessageInfo& m) const;
  int findReactionTarget(std::int64_t message_id) const;
  // Applies a reaction to its target row; `older` reactions (from an older page) do not
  // override a user's newer one. Returns the row changed, -1 if the target is not loaded
  // (it is then kept for when its page arrives).
  int foldReaction(const MessageInfo& reaction, bool older);
  void emitRowChanged(int row);

  QString chat_id_;
  std::vector<Row> rows_;
  bool has_older_ = false;
  bool fetching_ = false;
  std::int64_t oldest_local_id_ = 0;
  std::string own_user_id_;  // for kOwnReactionRole; also learned from outgoing messages
  // Reactions whose target is in a page not loaded yet, by target message id.
  std::unordered_map<std::int64_t, std::map<std::string, std::string>> orphan_reactions_;
};

}  // namespace secchats::desktop
