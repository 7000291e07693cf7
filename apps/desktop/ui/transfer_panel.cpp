#include "transfer_panel.hpp"

#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

#include "core/session.hpp"
#include "core/transfer_model.hpp"
#include "ui_text.hpp"

namespace secchats::desktop::ui {

TransferPanel::TransferPanel(Session* session, QWidget* parent)
    : QWidget(parent), session_(session) {
  setObjectName(QStringLiteral("transferPanel"));
  rows_ = new QVBoxLayout(this);
  rows_->setContentsMargins(0, 0, 0, 0);
  TransferModel* model = session_->transfers();
  // Few rows (one per transfer): rebuilt on every change, which keeps focus handling simple.
  connect(model, &QAbstractItemModel::rowsInserted, this, &TransferPanel::rebuild);
  connect(model, &QAbstractItemModel::rowsRemoved, this, &TransferPanel::rebuild);
  connect(model, &QAbstractItemModel::modelReset, this, &TransferPanel::rebuild);
  connect(model, &QAbstractItemModel::dataChanged, this, [this, model](const QModelIndex& i) {
    // Progress only: update the bar in place (a rebuild would steal focus from Cancel).
    QWidget* row = findChild<QWidget*>(
        QStringLiteral("transfer_%1").arg(i.data(TransferModel::kIdRole).toLongLong()));
    const bool running = i.data(TransferModel::kStateRole).toInt() !=
                         static_cast<int>(TransferModel::State::kStopped);
    auto* cancel = row ? row->findChild<QPushButton*>(QStringLiteral("cancelTransfer")) : nullptr;
    if (!row || (cancel != nullptr) != running) return rebuild();
    if (auto* bar = row->findChild<QProgressBar*>()) {
      const int percent = i.data(TransferModel::kPercentRole).toInt();
      bar->setRange(0, percent < 0 ? 0 : 100);  // busy indicator until the size is known
      if (percent >= 0) bar->setValue(percent);
    }
    if (auto* phase = row->findChild<QLabel*>(QStringLiteral("transferPhase"))) {
      phase->setText(i.data(TransferModel::kPhaseRole).toString());
    }
    (void)model;
  });
  rebuild();
}

void TransferPanel::rebuild() {
  while (QLayoutItem* item = rows_->takeAt(0)) {
    if (QWidget* w = item->widget()) w->deleteLater();
    delete item;
  }
  TransferModel* model = session_->transfers();
  for (int r = 0; r < model->rowCount(); ++r) {
    const QModelIndex i = model->index(r);
    const qint64 id = i.data(TransferModel::kIdRole).toLongLong();
    const bool upload = i.data(TransferModel::kDirectionRole).toInt() ==
                        static_cast<int>(TransferModel::Direction::kUpload);
    const bool stopped = i.data(TransferModel::kStateRole).toInt() ==
                         static_cast<int>(TransferModel::State::kStopped);
    const QString name = displaySafe(i.data(TransferModel::kNameRole).toString());
    auto* row = new QWidget(this);
    row->setObjectName(QStringLiteral("transfer_%1").arg(id));
    auto* h = new QHBoxLayout(row);
    h->setContentsMargins(0, 0, 0, 0);
    auto* label =
        new QLabel(upload ? tr("Sending %1").arg(name) : tr("Downloading %1").arg(name), row);
    label->setTextFormat(Qt::PlainText);  // a peer's file name: never markup
    label->setObjectName(QStringLiteral("transferName"));
    label->setMinimumWidth(1);
    auto* phase = new QLabel(stopped ? i.data(TransferModel::kErrorRole).toString()
                                     : i.data(TransferModel::kPhaseRole).toString(),
                             row);
    phase->setObjectName(QStringLiteral("transferPhase"));
    phase->setTextFormat(Qt::PlainText);
    auto* bar = new QProgressBar(row);
    const int percent = i.data(TransferModel::kPercentRole).toInt();
    bar->setRange(0, percent < 0 && !stopped ? 0 : 100);
    bar->setValue(std::max(percent, 0));
    bar->setFormat(tr("%p%"));
    bar->setAccessibleName(tr("Progress of %1").arg(name));
    h->addWidget(label, 1);
    h->addWidget(phase);
    h->addWidget(bar);
    if (stopped) {
      auto* retry = new QPushButton(tr("Retry"), row);
      retry->setObjectName(QStringLiteral("retryTransfer"));
      retry->setAccessibleName(tr("Retry %1").arg(name));
      connect(retry, &QPushButton::clicked, this, [this, id] { session_->retryTransfer(id); });
      auto* dismiss = new QPushButton(tr("Dismiss"), row);
      dismiss->setObjectName(QStringLiteral("dismissTransfer"));
      dismiss->setAccessibleName(tr("Dismiss %1").arg(name));
      connect(dismiss, &QPushButton::clicked, this, [this, id] { session_->dismissTransfer(id); });
      h->addWidget(retry);
      h->addWidget(dismiss);
    } else {
      auto* cancel = new QPushButton(tr("Cancel"), row);
      cancel->setObjectName(QStringLiteral("cancelTransfer"));
      cancel->setAccessibleName(tr("Cancel %1").arg(name));
      connect(cancel, &QPushButton::clicked, this, [this, id] { session_->cancelTransfer(id); });
      h->addWidget(cancel);
    }
    rows_->addWidget(row);
  }
  setVisible(model->rowCount() > 0);
}

}  // namespace secchats::desktop::ui
