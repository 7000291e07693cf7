#include "widgets/unlock_page.hpp"

#include <QEvent>
#include <QFontMetrics>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

#include <algorithm>

#include "widgets/inline_message.hpp"
#include "widgets/readable_column.hpp"

namespace secchats::desktop {

UnlockPage::UnlockPage(QWidget* parent) : QWidget(parent) {
  auto* layout = readableColumn(this, 72);
  layout->addStretch(1);
  auto* title = new QLabel(tr("Unlock Secure Chats"), this);
  QFont title_font = title->font();
  title_font.setPointSizeF(title_font.pointSizeF() * 1.4);
  title->setFont(title_font);
  layout->addWidget(title);
  account_ = new QLabel(this);
  account_->setObjectName(QStringLiteral("accountFolderLabel"));
  account_->setTextFormat(Qt::PlainText);
  // Elided to whatever width it gets (updateAccountText), so it asks for none.
  account_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  account_->hide();
  account_->installEventFilter(this);
  layout->addWidget(account_);

  auto* label = new QLabel(tr("&Password:"), this);
  layout->addWidget(label);
  auto* row = new QHBoxLayout;
  password_ = new QLineEdit(this);
  password_->setEchoMode(QLineEdit::Password);
  password_->setAccessibleName(tr("Password"));
  label->setBuddy(password_);
  unlock_ = new QPushButton(tr("&Unlock"), this);
  unlock_->setAccessibleName(tr("Unlock"));
  unlock_->setDefault(true);
  row->addWidget(password_, 1);
  row->addWidget(unlock_);
  layout->addLayout(row);

  error_ = new InlineMessage(this);
  layout->addWidget(error_);
  progress_ = new QProgressBar(this);
  progress_->setRange(0, 0);
  progress_->setTextVisible(false);
  progress_->setAccessibleName(tr("Unlocking"));
  progress_->hide();
  layout->addWidget(progress_);

  other_folder_ = new QPushButton(tr("Use another account &folder…"), this);
  other_folder_->setFlat(true);
  other_folder_->setAccessibleName(tr("Use another account folder"));
  other_folder_->hide();
  layout->addWidget(other_folder_, 0, Qt::AlignLeft);
  layout->addStretch(2);

  connect(password_, &QLineEdit::returnPressed, this, &UnlockPage::submit);
  connect(unlock_, &QPushButton::clicked, this, &UnlockPage::submit);
  connect(other_folder_, &QPushButton::clicked, this, &UnlockPage::otherFolderRequested);
  setFocusProxy(password_);
}

void UnlockPage::setAccountFolder(const QString& path) {
  folder_ = path;
  account_->setToolTip(path);
  account_->setAccessibleDescription(path);
  account_->setVisible(!path.isEmpty());
  updateAccountText();
}

void UnlockPage::updateAccountText() {
  if (folder_.isEmpty()) return;
  const QString format = tr("Account in %1");
  const QFontMetrics fm(account_->font());
  // The label's own width once laid out; before that, the page's contents width.
  const int width = account_->width() > 0 ? account_->width() : contentsRect().width();
  const int room = width - fm.horizontalAdvance(format.arg(QString()));
  account_->setText(format.arg(fm.elidedText(folder_, Qt::ElideMiddle, std::max(room, 0))));
}

bool UnlockPage::eventFilter(QObject* watched, QEvent* event) {
  // The label's own resize (after the layout placed it), so the text fits the final width.
  if (watched == account_ &&
      (event->type() == QEvent::Resize || event->type() == QEvent::FontChange)) {
    updateAccountText();
  }
  return QWidget::eventFilter(watched, event);
}

void UnlockPage::setOtherFolderVisible(bool visible) {
  other_folder_->setVisible(visible);
}

void UnlockPage::showError(const QString& text) {
  error_->showError(text);
  password_->clear();
  password_->setFocus();
}

void UnlockPage::showWrongPassword() {
  showError(tr("Wrong password. Try again."));
}

void UnlockPage::setBusy(bool busy) {
  busy_ = busy;
  password_->setEnabled(!busy);
  unlock_->setEnabled(!busy);
  other_folder_->setEnabled(!busy);
  progress_->setVisible(busy);
  unlock_->setText(busy ? tr("Unlocking…") : tr("&Unlock"));
  if (busy) error_->clearMessage();
  if (!busy) password_->setFocus();
}

void UnlockPage::submit() {
  if (busy_) return;
  if (password_->text().isEmpty()) {
    error_->showError(tr("Enter your password."));
    password_->setFocus();
    return;
  }
  error_->clearMessage();
  emit unlockRequested(password_->text());
}

}  // namespace secchats::desktop
