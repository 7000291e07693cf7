#include "widgets/identity_card.hpp"

#include <QApplication>
#include <QClipboard>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>

#include "widgets/qr_code_widget.hpp"
#include "widgets/readable_column.hpp"

namespace secchats::desktop {

IdentityCard::IdentityCard(QWidget* parent) : QWidget(parent) {
  auto* layout = readableColumn(this, 72);
  auto* intro = new QLabel(tr("This is your user ID. Give it to friends so they can add you, or "
                              "let them scan the code."),
                           this);
  intro->setWordWrap(true);
  layout->addWidget(intro);

  auto* row = new QHBoxLayout;
  // A read-only line edit: selectable with mouse and keyboard, never elided like a label.
  id_field_ = new QLineEdit(this);
  id_field_->setReadOnly(true);
  id_field_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  id_field_->setAccessibleName(tr("Your user ID"));
  copy_ = new QPushButton(tr("&Copy"), this);
  copy_->setAccessibleName(tr("Copy your user ID"));
  row->addWidget(id_field_, 1);
  row->addWidget(copy_);
  layout->addLayout(row);
  copied_note_ = new QLabel(this);
  copied_note_->setTextFormat(Qt::PlainText);
  layout->addWidget(copied_note_);

  qr_ = new QrCodeWidget(this);
  qr_->setDescription(tr("your user ID"));
  layout->addWidget(qr_, 1, Qt::AlignHCenter);

  auto* buttons = new QHBoxLayout;
  buttons->addStretch(1);
  continue_ = new QPushButton(tr("C&ontinue"), this);
  continue_->setAccessibleName(tr("Continue"));
  continue_->setDefault(true);
  buttons->addWidget(continue_);
  layout->addLayout(buttons);

  connect(copy_, &QPushButton::clicked, this, &IdentityCard::copyToClipboard);
  connect(continue_, &QPushButton::clicked, this, &IdentityCard::continueRequested);
}

void IdentityCard::setUserId(const QString& user_id) {
  user_id_ = user_id;
  id_field_->setText(user_id);
  // Wide enough for the whole ID: it must never be cut off on screen.
  id_field_->setMinimumWidth(id_field_->fontMetrics().horizontalAdvance(user_id) +
                             id_field_->fontMetrics().averageCharWidth() * 2);
  // A long ID may need more than the readable column's usual width.
  if (auto* column = findChild<QWidget*>(QStringLiteral("readableColumn"))) {
    column->setMaximumWidth(std::max(column->maximumWidth(), column->minimumSizeHint().width()));
  }
  qr_->setText(user_id);
  copied_note_->clear();
}

void IdentityCard::setContinueVisible(bool visible) {
  continue_->setVisible(visible);
}

void IdentityCard::copyToClipboard() {
  if (user_id_.isEmpty()) return;
  QApplication::clipboard()->setText(user_id_);
  copied_note_->setText(tr("Copied"));
  copy_->setText(tr("Copied"));
  QTimer::singleShot(2000, this, [this] {
    copy_->setText(tr("&Copy"));
    copied_note_->clear();
  });
  emit copied();
}

}  // namespace secchats::desktop
