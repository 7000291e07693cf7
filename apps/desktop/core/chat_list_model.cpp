#include "chat_list_model.hpp"

#include <QDateTime>
#include <unordered_map>
#include <unordered_set>

namespace secchats::desktop {
namespace {

bool same_message(const std::optional<MessageInfo>& a, const std::optional<MessageInfo>& b) {
  if (a.has_value() != b.has_value()) return false;
  if (!a) return true;
  return a->local_id == b->local_id && a->message_id == b->message_id && a->type == b->type &&
         a->text == b->text && a->delivery == b->delivery && a->outgoing == b->outgoing &&
         a->from_user_id == b->from_user_id && a->from_name == b->from_name;
}

// Whether a row must be repainted: every field a role shows.
bool same_summary(const ChatSummary& a, const ChatSummary& b) {
  return a.kind == b.kind && a.chat_id == b.chat_id && a.title == b.title &&
         a.protocol == b.protocol && a.last_activity_ms == b.last_activity_ms &&
         a.unread == b.unread && a.message_count == b.message_count && a.closed == b.closed &&
         same_message(a.last_message, b.last_message);
}

QString preview(const ChatSummary& chat) {
  if (!chat.last_message) return {};
  const MessageInfo& m = *chat.last_message;
  QString body;
  if (m.type == "TEXT") {
    body = QString::fromStdString(m.text).simplified();  // one line: newlines become spaces
  } else if (m.type == "IMG") {
    body = ChatListModel::tr("Photo");
  } else {
    body = ChatListModel::tr("Unsupported message");
  }
  if (m.outgoing) return ChatListModel::tr("You: %1").arg(body);
  if (chat.kind == ChatKind::kGroup) {
    // With the start of the id, as in the timeline: names alone can be copied.
    const QString id = QString::fromStdString(m.from_user_id).left(8);
    QString who = m.from_name.empty() ? id
                                      : ChatListModel::tr("%1 (%2)").arg(
                                            QString::fromStdString(m.from_name).simplified(), id);
    return ChatListModel::tr("%1: %2").arg(who, body);
  }
  return body;
}

}  // namespace

ChatListModel::ChatListModel(QObject* parent) : QAbstractListModel(parent) {}

int ChatListModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(chats_.size());
}

QVariant ChatListModel::data(const QModelIndex& index, int role) const {
  const ChatSummary* chat = at(index.row());
  if (!chat || index.parent().isValid()) return {};
  switch (role) {
    case Qt::DisplayRole:
    case kTitleRole:
      return chat->title.empty() ? QString::fromStdString(chat->chat_id)
                                 : QString::fromStdString(chat->title);
    case Qt::AccessibleTextRole: {
      // What the row shows, as one sentence for a screen reader.
      QString text = chat->title.empty() ? QString::fromStdString(chat->chat_id)
                                         : QString::fromStdString(chat->title);
      if (chat->kind == ChatKind::kGroup) text = tr("Group %1").arg(text);
      if (chat->unread > 0) text += tr(", %n unread", nullptr, static_cast<int>(chat->unread));
      const QString last = preview(*chat);
      if (!last.isEmpty()) text += tr(". Last message: %1").arg(last);
      return text;
    }
    case kChatIdRole:
      return QString::fromStdString(chat->chat_id);
    case kIsGroupRole:
      return chat->kind == ChatKind::kGroup;
    case kLastMessageRole:
      return preview(*chat);
    case kLastActivityRole:
      return QDateTime::fromMSecsSinceEpoch(chat->last_activity_ms).toLocalTime();
    case kUnreadRole:
      return static_cast<int>(chat->unread);
    case kProtocolRole:
      return QString::fromStdString(chat->protocol);
    case kClosedRole:
      return chat->closed;
    default:
      return {};
  }
}

QHash<int, QByteArray> ChatListModel::roleNames() const {
  auto names = QAbstractListModel::roleNames();
  names[kChatIdRole] = "chatId";
  names[kIsGroupRole] = "isGroup";
  names[kTitleRole] = "title";
  names[kLastMessageRole] = "lastMessage";
  names[kLastActivityRole] = "lastActivity";
  names[kUnreadRole] = "unread";
  names[kProtocolRole] = "protocol";
  names[kClosedRole] = "closed";
  return names;
}

// In four steps, each with the signal views and selection models understand, so a selected
// chat stays selected and a scrolled list does not jump: rows that left are removed, the
// remaining rows are reordered (layoutChanged with persistent indexes moved), new rows are
// inserted where they belong, and rows whose content changed get dataChanged.
void ChatListModel::setChats(std::vector<ChatSummary> chats) {
  std::unordered_set<std::string> incoming_ids;
  for (const auto& c : chats)
    incoming_ids.insert(c.chat_id);

  // 1. Removals, back to front so the row numbers stay right.
  for (int row = static_cast<int>(chats_.size()) - 1; row >= 0; --row) {
    if (incoming_ids.count(chats_[row].chat_id)) continue;
    beginRemoveRows({}, row, row);
    chats_.erase(chats_.begin() + row);
    endRemoveRows();
  }

  // 2. Reorder the rows that stay into their relative order in `chats`.
  std::unordered_map<std::string, int> new_position;  // among the rows that stay
  {
    std::unordered_set<std::string> staying;
    for (const auto& c : chats_)
      staying.insert(c.chat_id);
    int pos = 0;
    for (const auto& c : chats) {
      if (staying.count(c.chat_id)) new_position[c.chat_id] = pos++;
    }
  }
  bool reordered = false;
  for (int row = 0; row < static_cast<int>(chats_.size()); ++row) {
    if (new_position[chats_[row].chat_id] != row) reordered = true;
  }
  if (reordered) {
    emit layoutAboutToBeChanged({}, QAbstractItemModel::VerticalSortHint);
    const QModelIndexList before = persistentIndexList();
    QModelIndexList after;
    after.reserve(before.size());
    for (const QModelIndex& idx : before) {
      const int to = new_position[chats_[idx.row()].chat_id];
      after.push_back(index(to, idx.column()));
    }
    std::vector<ChatSummary> sorted(chats_.size());
    for (auto& c : chats_) {
      const int to = new_position[c.chat_id];
      sorted[to] = std::move(c);
    }
    chats_ = std::move(sorted);
    changePersistentIndexList(before, after);
    emit layoutChanged({}, QAbstractItemModel::VerticalSortHint);
  }

  // 3. Insertions: with the staying rows in order, every mismatch is a new chat.
  for (int row = 0; row < static_cast<int>(chats.size()); ++row) {
    if (row < static_cast<int>(chats_.size()) && chats_[row].chat_id == chats[row].chat_id) {
      continue;
    }
    beginInsertRows({}, row, row);
    chats_.insert(chats_.begin() + row, chats[row]);
    endInsertRows();
  }

  // 4. Content changes.
  for (int row = 0; row < static_cast<int>(chats.size()); ++row) {
    if (same_summary(chats_[row], chats[row])) continue;
    chats_[row] = std::move(chats[row]);
    emit dataChanged(index(row), index(row));
  }
}

int ChatListModel::rowOf(const QString& chat_id) const {
  const std::string id = chat_id.toStdString();
  for (std::size_t i = 0; i < chats_.size(); ++i) {
    if (chats_[i].chat_id == id) return static_cast<int>(i);
  }
  return -1;
}

const ChatSummary* ChatListModel::at(int row) const {
  if (row < 0 || row >= static_cast<int>(chats_.size())) return nullptr;
  return &chats_[static_cast<std::size_t>(row)];
}

}  // namespace secchats::desktop
