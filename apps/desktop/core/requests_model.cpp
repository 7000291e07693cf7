#include "requests_model.hpp"

namespace secchats::desktop {

RequestsModel::RequestsModel(QObject* parent) : QAbstractListModel(parent) {}

int RequestsModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

QVariant RequestsModel::data(const QModelIndex& index, int role) const {
  if (index.parent().isValid() || index.row() < 0 || index.row() >= rowCount()) return {};
  const Row& row = rows_[static_cast<std::size_t>(index.row())];
  switch (role) {
    case Qt::DisplayRole:
    case kTitleRole:
      return row.title;
    case kKindRole:
      return row.kind;
    case kIdRole:
      return row.id;
    case kDetailRole:
      return row.detail;
    default:
      return {};
  }
}

QHash<int, QByteArray> RequestsModel::roleNames() const {
  auto names = QAbstractListModel::roleNames();
  names[kKindRole] = "kind";
  names[kIdRole] = "id";
  names[kTitleRole] = "title";
  names[kDetailRole] = "detail";
  return names;
}

void RequestsModel::setContent(const std::vector<PendingRequest>& requests,
                               const std::vector<GroupInviteInfo>& invites) {
  std::vector<Row> rows;
  for (const auto& r : requests) {
    if (!r.incoming) continue;
    const QString id = QString::fromStdString(r.user_id);
    rows.push_back({QStringLiteral("friend"), id, id, QString()});
  }
  for (const auto& inv : invites) {
    const QString from = inv.from_nickname.empty() ? QString::fromStdString(inv.from_user_id)
                                                   : QString::fromStdString(inv.from_nickname);
    const QString name =
        inv.name.empty() ? QString::fromStdString(inv.group_id) : QString::fromStdString(inv.name);
    rows.push_back({QStringLiteral("group"), QString::fromStdString(inv.group_id), name,
                    tr("from %1").arg(from)});
  }
  if (rows == rows_) return;  // a refresh that changed nothing keeps the view as it is
  if (rows.size() == rows_.size()) {
    rows_ = std::move(rows);
    emit dataChanged(index(0), index(rowCount() - 1));
    return;
  }
  beginResetModel();
  rows_ = std::move(rows);
  endResetModel();
}

void RequestsModel::remove(const QString& kind, const QString& id) {
  const int row = rowOf(kind, id);
  if (row < 0) return;
  beginRemoveRows({}, row, row);
  rows_.erase(rows_.begin() + row);
  endRemoveRows();
}

int RequestsModel::rowOf(const QString& kind, const QString& id) const {
  for (std::size_t i = 0; i < rows_.size(); ++i) {
    if (rows_[i].kind == kind && rows_[i].id == id) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace secchats::desktop
