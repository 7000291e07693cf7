#include "transfer_model.hpp"

#include <algorithm>

namespace secchats::desktop {

TransferModel::TransferModel(QObject* parent) : QAbstractListModel(parent) {}

int TransferModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

QVariant TransferModel::data(const QModelIndex& index, int role) const {
  if (index.parent().isValid() || index.row() < 0 || index.row() >= rowCount()) return {};
  const Transfer& t = rows_[static_cast<std::size_t>(index.row())];
  switch (role) {
    case Qt::DisplayRole:
    case kNameRole:
      return t.name;
    case kIdRole:
      return t.id;
    case kDirectionRole:
      return static_cast<int>(t.direction);
    case kStateRole:
      return static_cast<int>(t.state);
    case kChatIdRole:
      return t.chat_id;
    case kMessageIdRole:
      return t.message_id;
    case kPercentRole:
      return t.percent;
    case kPhaseRole:
      return t.phase;
    case kErrorRole:
      return t.error;
    default:
      return {};
  }
}

QHash<int, QByteArray> TransferModel::roleNames() const {
  auto names = QAbstractListModel::roleNames();
  names[kIdRole] = "transferId";
  names[kDirectionRole] = "direction";
  names[kStateRole] = "state";
  names[kChatIdRole] = "chatId";
  names[kMessageIdRole] = "messageId";
  names[kNameRole] = "name";
  names[kPercentRole] = "percent";
  names[kPhaseRole] = "phase";
  names[kErrorRole] = "error";
  return names;
}

qint64 TransferModel::add(Transfer t) {
  t.id = next_id_++;
  const int row = rowCount();
  beginInsertRows({}, row, row);
  rows_.push_back(std::move(t));
  endInsertRows();
  return rows_.back().id;
}

int TransferModel::rowOf(qint64 id) const {
  for (std::size_t i = 0; i < rows_.size(); ++i) {
    if (rows_[i].id == id) return static_cast<int>(i);
  }
  return -1;
}

const TransferModel::Transfer* TransferModel::find(qint64 id) const {
  const int row = rowOf(id);
  return row < 0 ? nullptr : &rows_[static_cast<std::size_t>(row)];
}

TransferModel::Transfer* TransferModel::findMutable(qint64 id) {
  const int row = rowOf(id);
  return row < 0 ? nullptr : &rows_[static_cast<std::size_t>(row)];
}

QString TransferModel::phaseName(TransferProgress::Phase phase) {
  switch (phase) {
    case TransferProgress::Phase::kPreparing:
      return tr("Preparing");
    case TransferProgress::Phase::kUploading:
      return tr("Uploading");
    case TransferProgress::Phase::kDownloading:
      return tr("Downloading");
    case TransferProgress::Phase::kVerifying:
      return tr("Verifying");
  }
  return {};
}

void TransferModel::setProgress(qint64 id, const TransferProgress& progress) {
  Transfer* t = findMutable(id);
  if (!t || t->state == State::kStopped) return;
  t->state = State::kRunning;
  t->phase = phaseName(progress.phase);
  t->percent = progress.total_bytes == 0
                   ? -1
                   : static_cast<int>(std::min<std::uint64_t>(
                         100, progress.done_bytes * 100 / progress.total_bytes));
  changed(rowOf(id));
}

void TransferModel::setState(qint64 id, State state, const QString& error) {
  Transfer* t = findMutable(id);
  if (!t) return;
  t->state = state;
  t->error = error;
  if (state == State::kQueued) {
    t->percent = -1;
    t->phase.clear();
    t->cancel = std::make_shared<std::atomic<bool>>(false);  // a new run, a new flag
  }
  changed(rowOf(id));
}

void TransferModel::remove(qint64 id) {
  const int row = rowOf(id);
  if (row < 0) return;
  beginRemoveRows({}, row, row);
  rows_.erase(rows_.begin() + row);
  endRemoveRows();
}

int TransferModel::downloadPercent(const QString& chat_id, qint64 message_id) const {
  for (const Transfer& t : rows_) {
    if (t.direction == Direction::kDownload && t.chat_id == chat_id && t.message_id == message_id &&
        (t.state == State::kQueued || t.state == State::kRunning)) {
      return std::max(t.percent, 0);
    }
  }
  return -1;
}

bool TransferModel::downloadActive(const QString& chat_id, qint64 message_id) const {
  return downloadPercent(chat_id, message_id) >= 0;
}

void TransferModel::changed(int row) {
  if (row >= 0) emit dataChanged(index(row), index(row));
}

}  // namespace secchats::desktop
