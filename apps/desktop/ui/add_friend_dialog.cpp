#include "add_friend_dialog.hpp"

#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QFormLayout>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

#include "core/session.hpp"
#include "ui_text.hpp"
#include "widgets/inline_message.hpp"
#include "widgets/qr_scanner.hpp"

namespace secchats::desktop::ui {

AddFriendDialog::AddFriendDialog(Session* session, QWidget* parent)
    : QDialog(parent), session_(session) {
  setObjectName(QStringLiteral("addFriendDialog"));
  setWindowTitle(tr("Add friend"));
  auto* layout = new QVBoxLayout(this);
  auto* form = new QFormLayout;
  id_ = new QLineEdit(this);
  id_->setObjectName(QStringLiteral("friendIdEdit"));
  id_->setAccessibleName(tr("Friend's ID"));
  id_->setPlaceholderText(tr("Paste the ID your friend shared"));
  id_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  id_->setMinimumWidth(id_->fontMetrics().horizontalAdvance(QLatin1Char('0')) * 34);
  form->addRow(tr("Friend's &ID:"), id_);
  layout->addLayout(form);
  message_ = new InlineMessage(this);
  message_->setObjectName(QStringLiteral("addFriendMessage"));
  layout->addWidget(message_);

  auto* buttons = new QDialogButtonBox(this);
  scan_ = buttons->addButton(tr("&Scan QR…"), QDialogButtonBox::ActionRole);
  scan_->setObjectName(QStringLiteral("scanFriendQrButton"));
  scan_->setAccessibleName(tr("Scan QR code"));
  add_ = buttons->addButton(tr("Send &request"), QDialogButtonBox::AcceptRole);
  add_->setObjectName(QStringLiteral("sendFriendRequestButton"));
  add_->setAccessibleName(tr("Send friend request"));
  add_->setDefault(true);
  QPushButton* close = buttons->addButton(QDialogButtonBox::Close);
  close->setAccessibleName(tr("Close"));
  layout->addWidget(buttons);

  // The AcceptRole would close the dialog; we stay open until the Session answers.
  disconnect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(add_, &QPushButton::clicked, this, &AddFriendDialog::submit);
  connect(scan_, &QPushButton::clicked, this, &AddFriendDialog::showScanner);
  connect(close, &QPushButton::clicked, this, &QDialog::reject);
  connect(session_, &Session::friendRequestSent, this, &AddFriendDialog::onSent);
}

void AddFriendDialog::submit() {
  const QString id = normalizeUserId(id_->text());
  if (id.isEmpty()) {
    message_->showError(
        tr("That is not an ID: an ID is 32 (or more) letters a–f and digits, as your friend's "
           "app shows it."));
    id_->setFocus();
    return;
  }
  if (id == session_->userId()) {
    message_->showError(tr("That is your own ID."));
    return;
  }
  id_->setText(id);
  pending_ = id;
  add_->setEnabled(false);
  message_->showInfo(tr("Sending the request…"));
  session_->addFriend(id);
}

void AddFriendDialog::onSent(const QString& user_id) {
  if (user_id != pending_) return;
  pending_.clear();
  add_->setEnabled(true);
  message_->showInfo(tr("Request sent. You can chat once your friend accepts it."));
}

bool AddFriendDialog::takeFailure(const QString& why) {
  if (pending_.isEmpty()) return false;
  pending_.clear();
  add_->setEnabled(true);
  message_->showError(tr("The request could not be sent: %1").arg(why));
  return true;
}

void AddFriendDialog::showScanner() {
  if (!scanner_) {
    scanner_ = new QrScanner(this);
    scanner_->setObjectName(QStringLiteral("friendQrScanner"));
    scanner_->setAccessibleName(tr("QR code scanner"));
    static_cast<QVBoxLayout*>(layout())->insertWidget(1, scanner_);
    connect(scanner_, &QrScanner::scanned, this, [this](const QString& text) {
      if (normalizeUserId(text).isEmpty()) {
        scanner_->showError(tr("This QR code holds no Secure Chats ID."));
        return;
      }
      setId(text);
    });
  }
  scanner_->reset();
  scanner_->show();
}

void AddFriendDialog::setId(const QString& id) {
  id_->setText(id.trimmed());
  submit();
}

}  // namespace secchats::desktop::ui
