#include "requests_panel.hpp"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QResizeEvent>
#include <QScrollArea>
#include <QVBoxLayout>

#include <algorithm>

#include "core/requests_model.hpp"
#include "core/session.hpp"
#include "ui_text.hpp"

namespace secchats::desktop::ui {

RequestsPanel::RequestsPanel(Session* session, QWidget* parent)
    : QWidget(parent), session_(session) {
  setObjectName(QStringLiteral("requestsPanel"));
  auto* outer = new QVBoxLayout(this);
  outer->setContentsMargins(0, 0, 0, 0);
  auto* scroll = new QScrollArea(this);
  scroll_ = scroll;
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  // Rows wrap to the column's width (a sideways scroll bar hid the buttons).
  scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  rows_ = new QWidget(scroll);
  rows_layout_ = new QVBoxLayout(rows_);
  empty_ = new QLabel(tr("No requests."), rows_);
  empty_->setObjectName(QStringLiteral("noRequestsLabel"));
  rows_layout_->addWidget(empty_);
  rows_layout_->addStretch(1);
  scroll->setWidget(rows_);
  outer->addWidget(scroll);

  RequestsModel* model = session_->requests();
  for (auto sig : {&QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved}) {
    connect(model, sig, this, &RequestsPanel::rebuild);
  }
  connect(model, &QAbstractItemModel::modelReset, this, &RequestsPanel::rebuild);
  connect(model, &QAbstractItemModel::dataChanged, this, &RequestsPanel::rebuild);
  rebuild();
}

int RequestsPanel::count() const {
  return session_->requests()->rowCount();
}

void RequestsPanel::rebuild() {
  // Rows are few (pending requests), so rebuilding them all keeps this simple and correct.
  while (rows_layout_->count() > 2) {
    QLayoutItem* item = rows_layout_->takeAt(0);
    if (item->widget() && item->widget() != empty_) item->widget()->deleteLater();
    delete item;
  }
  RequestsModel* model = session_->requests();
  for (int row = 0; row < model->rowCount(); ++row) {
    const QModelIndex i = model->index(row, 0);
    const QString kind = i.data(RequestsModel::kKindRole).toString();
    const QString id = i.data(RequestsModel::kIdRole).toString();
    QString title = displaySafe(i.data(RequestsModel::kTitleRole).toString());
    if (title == id) {
      // No nickname yet: the ID in groups of four, so that it wraps in the narrow column
      // instead of running off it (and is easier to compare, and to hear, group by group).
      for (qsizetype at = title.size() - 4; at > 0; at -= 4)
        title.insert(at, QLatin1Char(' '));
    }
    const QString detail = displaySafe(i.data(RequestsModel::kDetailRole).toString());
    const bool group = kind == QLatin1String("group");

    auto* w = new QFrame(rows_);
    w->setObjectName(QStringLiteral("request_%1_%2").arg(kind, id));
    w->setFrameShape(QFrame::StyledPanel);
    // The text above its buttons: side by side, the narrow column left the text a few letters
    // wide.
    auto* v = new QVBoxLayout(w);
    auto* h = new QHBoxLayout;
    h->addStretch(1);
    auto* text = new QLabel(group ? tr("Group invite: %1\n%2").arg(title, detail)
                                  : tr("Friend request from %1").arg(title),
                            w);
    text->setTextFormat(Qt::PlainText);
    text->setWordWrap(true);
    v->addWidget(text);
    v->addLayout(h);
    auto* accept = new QPushButton(group ? tr("Join") : tr("Accept"), w);
    accept->setObjectName(QStringLiteral("acceptRequest_%1").arg(id));
    accept->setAccessibleName(group ? tr("Join group %1").arg(title)
                                    : tr("Accept friend request from %1").arg(title));
    h->addWidget(accept);
    connect(accept, &QPushButton::clicked, this, [this, kind, id, group] {
      if (group) {
        session_->joinGroup(id);
      } else {
        session_->acceptFriend(id);
      }
      session_->requests()->remove(kind, id);
    });
    auto* decline = new QPushButton(tr("Decline"), w);
    decline->setObjectName(QStringLiteral("declineRequest_%1").arg(id));
    decline->setAccessibleName(group ? tr("Decline invite to group %1").arg(title)
                                     : tr("Decline friend request from %1").arg(title));
    h->addWidget(decline);
    connect(decline, &QPushButton::clicked, this, [this, kind, id, group] {
      if (group) {
        session_->declineGroupInvite(id);
      } else {
        session_->declineFriend(id);
      }
      session_->requests()->remove(kind, id);
    });
    rows_layout_->insertWidget(rows_layout_->count() - 2, w);
  }
  empty_->setVisible(model->rowCount() == 0);
  updateGeometry();
  emit countChanged(model->rowCount());
}

QSize RequestsPanel::sizeHint() const {
  const int width =
      scroll_->viewport()->width() > 0 ? scroll_->viewport()->width() : rows_->sizeHint().width();
  // Word-wrapped texts: the height depends on the width.
  int rows_height = rows_->hasHeightForWidth() ? rows_->heightForWidth(width) : -1;
  if (rows_height < 0) rows_height = rows_->sizeHint().height();
  const int cap = fontMetrics().height() * 18;
  return {QWidget::sizeHint().width(), std::min(rows_height, cap) + 2 * scroll_->frameWidth()};
}

void RequestsPanel::resizeEvent(QResizeEvent* event) {
  QWidget::resizeEvent(event);
  // Narrower or wider: the texts wrap differently, so the height it wants changes.
  if (event->size().width() != event->oldSize().width()) updateGeometry();
}

}  // namespace secchats::desktop::ui
