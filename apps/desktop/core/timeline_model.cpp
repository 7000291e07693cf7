#include "timeline_model.hpp"

#include <QDateTime>
#include <QLocale>
#include <QSize>
#include <algorithm>

namespace secchats::desktop {
namespace {

bool is_reaction(const MessageInfo& m) {
  return m.type == "EMOJI";
}

// Latest wins, except that a reaction from an older page never overrides one already known.
void apply(std::map<std::string, std::string>& reactions, const MessageInfo& r, bool older) {
  if (older && reactions.count(r.from_user_id)) return;
  reactions[r.from_user_id] = r.emoji;
}

}  // namespace

TimelineModel::TimelineModel(QObject* parent) : QAbstractListModel(parent) {}

QString TimelineModel::chatId() const {
  return chat_id_;
}

// Names are the peer's choice: two members may both call themselves "Alice", and in a v1
// group one member can post as another. The start of the id tells them apart, as the CLI's
// "Name (1a2b3c4d)" does.
QString TimelineModel::senderName(const MessageInfo& m) {
  if (m.outgoing) return QString();
  const QString id = QString::fromStdString(m.from_user_id).left(8);
  if (m.from_name.empty()) return id;
  return tr("%1 (%2)").arg(QString::fromStdString(m.from_name), id);
}

// What a screen reader says for a row: who, when, what, delivery and reactions — the bubble
// shows all of it, the display text alone is only the message.
QString TimelineModel::accessibleText(const Row& row) const {
  const MessageInfo& m = row.message;
  QString what;
  if (m.type == "TEXT") {
    what = QString::fromStdString(m.text);
  } else if (m.type == "IMG") {
    what = tr("Photo");
  } else if (m.type == "FILE" && m.attachment) {
    const AttachmentInfo& a = *m.attachment;
    const QString name = QString::fromStdString(a.file_name);
    const QString size = QLocale().formattedDataSize(static_cast<qint64>(a.size));
    if (a.kind == "voice") {
      what = tr("Voice message, %1 seconds").arg((a.duration_ms + 500) / 1000);
    } else if (a.kind == "image") {
      what = tr("Photo %1, %2").arg(name, size);
    } else if (a.kind == "video") {
      what = tr("Video %1, %2").arg(name, size);
    } else {
      what = tr("File %1, %2").arg(name, size);
    }
    if (row.transfer_percent >= 0) what += tr(", %1% transferred").arg(row.transfer_percent);
  } else {
    what = tr("Attachment");
  }
  const QString when = QLocale().toString(
      QDateTime::fromMSecsSinceEpoch(m.sender_timestamp).toLocalTime(), QLocale::ShortFormat);
  QString text = m.outgoing ? tr("You, %1: %2").arg(when, what)
                            : tr("%1, %2: %3").arg(senderName(m), when, what);
  if (m.outgoing) {
    if (m.delivery == "sent") {
      text += tr(". Sent");
    } else if (m.delivery == "failed") {
      text += tr(". Failed");
    } else {
      text += tr(". Sending");
    }
  }
  QStringList symbols;
  for (const auto& [user, name] : row.reactions) {
    if (!name.empty()) symbols << QString::fromStdString(reaction_symbol(name));
  }
  if (!symbols.isEmpty()) text += tr(". Reactions: %1").arg(symbols.join(QLatin1Char(' ')));
  return text;
}

int TimelineModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

QVariant TimelineModel::data(const QModelIndex& index, int role) const {
  if (index.parent().isValid() || index.row() < 0 || index.row() >= rowCount()) return {};
  const Row& row = rows_[static_cast<std::size_t>(index.row())];
  const MessageInfo& m = row.message;
  switch (role) {
    case Qt::DisplayRole:
    case kTextRole:
      return QString::fromStdString(m.text);
    case Qt::AccessibleTextRole:
      return accessibleText(row);
    case kMessageIdRole:
      return qint64{m.message_id};
    case kLocalIdRole:
      return qint64{m.local_id};
    case kTypeRole:
      return QString::fromStdString(m.type);
    case kImageRole:
      if (m.type != "IMG") return {};
      if (!row.image_decoded) {
        // Decoded on first paint, once: a page of images costs nothing until shown. PNG or
        // JPEG (libsecchats sends photos as JPEG, and so may the reference UI): Qt sniffs.
        row.image.loadFromData(m.image.data(), static_cast<int>(m.image.size()));
        row.image_decoded = true;
      }
      return row.image;
    case kSenderIdRole:
      return QString::fromStdString(m.from_user_id);
    case kSenderNameRole:
      return senderName(m);
    case kOutgoingRole:
      return m.outgoing;
    case kTimeRole:
      return QDateTime::fromMSecsSinceEpoch(m.sender_timestamp).toLocalTime();
    case kDeliveryRole:
      return QString::fromStdString(m.delivery);
    case kReactionsRole: {
      QStringList symbols;
      for (const auto& [user, name] : row.reactions) {
        if (!name.empty()) symbols << QString::fromStdString(reaction_symbol(name));
      }
      return symbols;
    }
    case kHasReactionsRole:
      return std::any_of(row.reactions.begin(), row.reactions.end(),
                         [](const auto& r) { return !r.second.empty(); });
    case kOwnReactionRole: {
      auto own = row.reactions.find(own_user_id_);
      return own == row.reactions.end() ? QString() : QString::fromStdString(own->second);
    }
    default:
      return attachmentData(row, role);
  }
}

QVariant TimelineModel::attachmentData(const Row& row, int role) {
  if (role == kTransferPercentRole) return row.transfer_percent;
  if (!row.message.attachment) return {};
  const AttachmentInfo& a = *row.message.attachment;
  switch (role) {
    case kAttachmentKindRole:
      return QString::fromStdString(a.kind);
    case kFileNameRole:
      return QString::fromStdString(a.file_name);
    case kFileSizeRole:
      return static_cast<qint64>(a.size);
    case kMediaTypeRole:
      return QString::fromStdString(a.media_type);
    case kThumbnailRole:
      if (!row.thumbnail_decoded) {
        // The sender's JPEG (at most 16 KiB): decoded on first paint, once. A broken one
        // stays null and the row shows a placeholder.
        if (!a.thumbnail.empty()) {
          row.thumbnail.loadFromData(a.thumbnail.data(), static_cast<int>(a.thumbnail.size()),
                                     "JPEG");
        }
        row.thumbnail_decoded = true;
      }
      return row.thumbnail;
    case kMediaSizeRole:
      if (a.width == 0 || a.height == 0) return QSize();
      return QSize(static_cast<int>(std::min<std::uint32_t>(a.width, 1u << 20)),
                   static_cast<int>(std::min<std::uint32_t>(a.height, 1u << 20)));
    case kDurationRole:
      return qint64{a.duration_ms};
    case kSavedPathRole:
      return QString::fromStdString(a.saved_path);
    case kUploadStateRole:
      return QString::fromStdString(a.upload_state);
    default:
      return {};
  }
}

void TimelineModel::setTransferPercent(qint64 message_id, const QString& file_name, int percent) {
  int found = -1;
  for (int i = static_cast<int>(rows_.size()) - 1; i >= 0 && found < 0; --i) {
    const MessageInfo& m = rows_[static_cast<std::size_t>(i)].message;
    if (!m.attachment) continue;
    if (message_id != 0) {
      if (m.message_id == message_id) found = i;
    } else if (m.outgoing && m.attachment->upload_state == "uploading" &&
               QString::fromStdString(m.attachment->file_name) == file_name) {
      found = i;
    }
  }
  if (found < 0) return;
  Row& row = rows_[static_cast<std::size_t>(found)];
  if (row.transfer_percent == percent) return;
  row.transfer_percent = percent;
  emitRowChanged(found);
}

QHash<int, QByteArray> TimelineModel::roleNames() const {
  auto names = QAbstractListModel::roleNames();
  names[kMessageIdRole] = "messageId";
  names[kLocalIdRole] = "localId";
  names[kTypeRole] = "type";
  names[kTextRole] = "text";
  names[kImageRole] = "image";
  names[kSenderIdRole] = "senderId";
  names[kSenderNameRole] = "senderName";
  names[kOutgoingRole] = "outgoing";
  names[kTimeRole] = "time";
  names[kDeliveryRole] = "delivery";
  names[kReactionsRole] = "reactions";
  names[kOwnReactionRole] = "ownReaction";
  names[kAttachmentKindRole] = "attachmentKind";
  names[kFileNameRole] = "fileName";
  names[kFileSizeRole] = "fileSize";
  names[kMediaTypeRole] = "mediaType";
  names[kThumbnailRole] = "thumbnail";
  names[kMediaSizeRole] = "mediaSize";
  names[kDurationRole] = "duration";
  names[kSavedPathRole] = "savedPath";
  names[kUploadStateRole] = "uploadState";
  names[kTransferPercentRole] = "transferPercent";
  return names;
}

bool TimelineModel::canFetchMore(const QModelIndex& parent) const {
  return !parent.isValid() && has_older_ && !fetching_ && !chat_id_.isEmpty();
}

void TimelineModel::fetchMore(const QModelIndex& parent) {
  if (!canFetchMore(parent)) return;
  fetching_ = true;
  emit olderPageWanted(chat_id_, firstLocalId());
}

qint64 TimelineModel::firstLocalId() const {
  return oldest_local_id_;
}

qint64 TimelineModel::lastLocalId() const {
  qint64 last = 0;
  for (auto it = rows_.rbegin(); it != rows_.rend(); ++it) {
    if (it->message.local_id != 0) return std::max(last, qint64{it->message.local_id});
  }
  return last;
}

int TimelineModel::rowOfLocalId(qint64 local_id) const {
  for (int i = static_cast<int>(rows_.size()) - 1; i >= 0; --i) {
    if (rows_[static_cast<std::size_t>(i)].message.local_id == local_id) return i;
  }
  return -1;
}

void TimelineModel::reset(const QString& chat_id, std::vector<MessageInfo> newest_page,
                          bool has_older) {
  beginResetModel();
  chat_id_ = chat_id;
  rows_.clear();
  orphan_reactions_.clear();
  oldest_local_id_ = 0;
  has_older_ = has_older;
  fetching_ = false;
  endResetModel();
  // The page goes in as an older page into an empty model: the same folding rules.
  prependPage(chat_id, std::move(newest_page), has_older);
}

void TimelineModel::prependPage(const QString& chat_id, std::vector<MessageInfo> page,
                                bool has_older) {
  if (chat_id != chat_id_) return;  // an answer for a chat no longer open
  fetching_ = false;
  has_older_ = has_older;
  std::vector<Row> fresh;
  std::vector<const MessageInfo*> reactions;
  for (auto& m : page) {
    if (m.outgoing && own_user_id_.empty()) own_user_id_ = m.from_user_id;
    if (m.local_id != 0 && (oldest_local_id_ == 0 || m.local_id < oldest_local_id_)) {
      oldest_local_id_ = m.local_id;
    }
    if (is_reaction(m)) {
      reactions.push_back(&m);
      continue;
    }
    if (findRow(m) >= 0) continue;  // overlaps what is shown (a message that arrived meanwhile)
    Row row;
    row.message = std::move(m);
    fresh.push_back(std::move(row));
  }
  // Reactions newest first, each one only where nothing newer is known. Within the page
  // newer means later; orphans from newer pages are newer than all of them.
  auto find_fresh = [&](std::int64_t target) -> Row* {
    for (auto it = fresh.rbegin(); it != fresh.rend(); ++it) {
      if (it->message.message_id == target) return &*it;
    }
    return nullptr;
  };
  for (Row& row : fresh) {
    auto orphan = orphan_reactions_.find(row.message.message_id);
    if (orphan == orphan_reactions_.end()) continue;
    row.reactions = std::move(orphan->second);
    orphan_reactions_.erase(orphan);
  }
  std::vector<int> changed_rows;
  for (auto it = reactions.rbegin(); it != reactions.rend(); ++it) {
    const MessageInfo& r = **it;
    if (Row* target = find_fresh(r.reply_to_message_id)) {
      apply(target->reactions, r, true);
    } else {
      const int row = foldReaction(r, true);
      if (row >= 0) changed_rows.push_back(row + static_cast<int>(fresh.size()));
    }
  }
  if (!fresh.empty()) {
    beginInsertRows({}, 0, static_cast<int>(fresh.size()) - 1);
    rows_.insert(rows_.begin(), std::make_move_iterator(fresh.begin()),
                 std::make_move_iterator(fresh.end()));
    endInsertRows();
  }
  for (int row : changed_rows)
    emitRowChanged(row);
}

void TimelineModel::appendOrUpdate(const MessageInfo& message) {
  if (QString::fromStdString(message.chat_id) != chat_id_ || chat_id_.isEmpty()) return;
  if (message.outgoing && own_user_id_.empty()) own_user_id_ = message.from_user_id;
  if (is_reaction(message)) {
    const int row = foldReaction(message, false);
    if (row >= 0) emitRowChanged(row);
    return;
  }
  const int existing = findRow(message);
  if (existing >= 0) {
    Row& row = rows_[static_cast<std::size_t>(existing)];
    // An attachment's upload finishing or a download recording where it saved the file
    // changes the row too (both written by the transfer thread's client).
    const bool attachment_changed =
        message.attachment && row.message.attachment &&
        (message.attachment->upload_state != row.message.attachment->upload_state ||
         message.attachment->saved_path != row.message.attachment->saved_path);
    const bool changed = row.message.delivery != message.delivery ||
                         (row.message.local_id == 0 && message.local_id != 0) || attachment_changed;
    if (!changed) return;
    row.message.delivery = message.delivery;
    if (attachment_changed) {
      row.message.attachment->upload_state = message.attachment->upload_state;
      row.message.attachment->saved_path = message.attachment->saved_path;
    }
    if (row.message.local_id == 0) row.message.local_id = message.local_id;
    emitRowChanged(existing);
    return;
  }
  // New rows go after every row with a smaller local_id (normally: at the end).
  int at = static_cast<int>(rows_.size());
  if (message.local_id != 0) {
    while (at > 0) {
      const auto prev = rows_[static_cast<std::size_t>(at - 1)].message.local_id;
      if (prev == 0 || prev < message.local_id) break;
      --at;
    }
  }
  Row row;
  row.message = message;
  auto orphan = orphan_reactions_.find(message.message_id);
  if (orphan != orphan_reactions_.end()) {
    row.reactions = std::move(orphan->second);
    orphan_reactions_.erase(orphan);
  }
  beginInsertRows({}, at, at);
  rows_.insert(rows_.begin() + at, std::move(row));
  endInsertRows();
}

void TimelineModel::setOwnUserId(const QString& user_id) {
  own_user_id_ = user_id.toStdString();
}

void TimelineModel::olderPageFailed(const QString& chat_id) {
  if (chat_id == chat_id_) fetching_ = false;
}

int TimelineModel::findRow(const MessageInfo& m) const {
  for (int i = static_cast<int>(rows_.size()) - 1; i >= 0; --i) {
    const MessageInfo& r = rows_[static_cast<std::size_t>(i)].message;
    if (m.local_id != 0 && r.local_id != 0) {
      if (r.local_id == m.local_id) return i;
      continue;
    }
    // A message not read from the store (a send's answer) is known by sender and id.
    if (r.message_id == m.message_id && r.from_user_id == m.from_user_id) return i;
  }
  return -1;
}

int TimelineModel::findReactionTarget(std::int64_t message_id) const {
  for (int i = static_cast<int>(rows_.size()) - 1; i >= 0; --i) {
    if (rows_[static_cast<std::size_t>(i)].message.message_id == message_id) return i;
  }
  return -1;
}

int TimelineModel::foldReaction(const MessageInfo& reaction, bool older) {
  const int row = findReactionTarget(reaction.reply_to_message_id);
  if (row < 0) {
    apply(orphan_reactions_[reaction.reply_to_message_id], reaction, older);
    return -1;
  }
  Row& target = rows_[static_cast<std::size_t>(row)];
  apply(target.reactions, reaction, older);
  return row;
}

void TimelineModel::emitRowChanged(int row) {
  emit dataChanged(index(row), index(row));
}

}  // namespace secchats::desktop
