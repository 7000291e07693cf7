#include "widgets/safety_number_dialog.hpp"

#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QVBoxLayout>

#include "widgets/inline_message.hpp"
#include "widgets/qr_code_widget.hpp"
#include "widgets/qr_scanner.hpp"

namespace secchats::desktop {
namespace {

QString only_digits(const QString& text) {
  QString out;
  for (QChar c : text) {
    if (c.isDigit() && c.unicode() < 128) out += c;
  }
  return out;
}

}  // namespace

SafetyNumberDialog::SafetyNumberDialog(QWidget* parent) : QDialog(parent) {
  setWindowTitle(tr("Safety number"));
  auto* layout = new QVBoxLayout(this);

  banner_ = new InlineMessage(this);
  layout->addWidget(banner_);
  title_ = new QLabel(this);
  title_->setTextFormat(Qt::PlainText);  // the friend's name is theirs to choose
  title_->setWordWrap(true);
  layout->addWidget(title_);

  auto* body = new QHBoxLayout;
  digits_label_ = new QLabel(this);
  digits_label_->setTextFormat(Qt::PlainText);
  QFont mono = QFontDatabase::systemFont(QFontDatabase::FixedFont);
  mono.setPointSizeF(mono.pointSizeF() * 1.3);
  digits_label_->setFont(mono);
  digits_label_->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
  digits_label_->setAccessibleName(tr("Safety number digits"));
  body->addWidget(digits_label_, 0, Qt::AlignTop);
  qr_ = new QrCodeWidget(this);
  body->addWidget(qr_, 1);
  layout->addLayout(body, 1);

  auto* how = new QLabel(tr("Compare these digits with your friend's screen, in person or on a "
                            "call you trust, or scan the code on their screen."),
                         this);
  how->setWordWrap(true);
  layout->addWidget(how);
  state_ = new QLabel(this);
  state_->setTextFormat(Qt::PlainText);
  layout->addWidget(state_);

  auto* actions = new QHBoxLayout;
  scan_ = new QPushButton(tr("&Scan their code"), this);
  scan_->setAccessibleName(tr("Scan their code"));
  match_ = new QPushButton(tr("&Digits match — mark verified"), this);
  match_->setAccessibleName(tr("Digits match, mark verified"));
  for (QPushButton* b : {scan_, match_})
    b->setAutoDefault(false);
  actions->addWidget(scan_);
  actions->addWidget(match_);
  actions->addStretch(1);
  layout->addLayout(actions);

  scanner_ = new QrScanner(this);
  scanner_->setExpectedPrefix(kVerifyPrefix, tr("a safety number code"));
  scanner_->hide();
  layout->addWidget(scanner_);

  confirm_panel_ = new QWidget(this);
  auto* confirm_layout = new QVBoxLayout(confirm_panel_);
  confirm_layout->setContentsMargins(0, 0, 0, 0);
  auto* confirm_text = new QLabel(
      tr("Only confirm if every group matches their screen. You may type their digits to have "
         "them checked:"),
      confirm_panel_);
  confirm_text->setWordWrap(true);
  confirm_layout->addWidget(confirm_text);
  typed_ = new QLineEdit(confirm_panel_);
  typed_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  typed_->setAccessibleName(tr("Their safety number digits"));
  typed_->setPlaceholderText(tr("optional: their 60 digits"));
  confirm_layout->addWidget(typed_);
  auto* confirm_buttons = new QHBoxLayout;
  confirm_ = new QPushButton(tr("&Confirm verified"), confirm_panel_);
  confirm_->setAccessibleName(tr("Confirm verified"));
  cancel_confirm_ = new QPushButton(tr("Ca&ncel"), confirm_panel_);
  cancel_confirm_->setAccessibleName(tr("Cancel verification"));
  for (QPushButton* b : {confirm_, cancel_confirm_})
    b->setAutoDefault(false);
  confirm_buttons->addStretch(1);
  confirm_buttons->addWidget(cancel_confirm_);
  confirm_buttons->addWidget(confirm_);
  confirm_layout->addLayout(confirm_buttons);
  confirm_panel_->hide();
  layout->addWidget(confirm_panel_);

  error_ = new InlineMessage(this);
  layout->addWidget(error_);

  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
  buttons->button(QDialogButtonBox::Close)->setAccessibleName(tr("Close"));
  buttons->button(QDialogButtonBox::Close)->setAutoDefault(false);
  layout->addWidget(buttons);

  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(scan_, &QPushButton::clicked, this, &SafetyNumberDialog::showScanner);
  connect(match_, &QPushButton::clicked, this, &SafetyNumberDialog::showConfirmation);
  connect(confirm_, &QPushButton::clicked, this, &SafetyNumberDialog::confirm_digits);
  connect(typed_, &QLineEdit::returnPressed, this, &SafetyNumberDialog::confirm_digits);
  connect(cancel_confirm_, &QPushButton::clicked, this, [this] {
    confirm_panel_->hide();
    typed_->clear();
  });
  connect(scanner_, &QrScanner::scanned, this, [this](const QString& text) {
    error_->clearMessage();
    emit verifyRequested(friend_id_, text);
  });
  update_state();
}

void SafetyNumberDialog::setSafetyNumber(const QString& friend_id, const QString& friend_name,
                                         const QString& digits, const QString& qr_payload,
                                         bool verified, bool identity_changed) {
  friend_id_ = friend_id;
  friend_name_ = friend_name;
  digits_ = only_digits(digits);
  verified_ = verified;
  identity_changed_ = identity_changed;
  title_->setText(tr("Safety number with %1").arg(friend_name));
  digits_label_->setText(formattedDigits());
  qr_->setText(qr_payload);
  qr_->setDescription(tr("your safety number with %1").arg(friend_name));
  scanner_->reset();
  error_->clearMessage();
  update_state();
}

QString SafetyNumberDialog::formattedDigits() const {
  QString out;
  for (int i = 0; i < digits_.size(); i += 5) {
    if (i > 0) out += (i % 20 == 0) ? QLatin1Char('\n') : QLatin1Char(' ');
    out += digits_.mid(i, 5);
  }
  return out;
}

void SafetyNumberDialog::update_state() {
  if (identity_changed_ && !verified_) {
    banner_->showError(
        tr("%1's safety number has changed: they reinstalled, or someone may be intercepting. "
           "Compare the new number before you trust this chat again.")
            .arg(friend_name_));
  } else {
    banner_->clearMessage();
  }
  state_->setText(verified_ ? tr("✔ Verified") : tr("Not verified"));
  match_->setEnabled(!verified_ && digits_.size() == 60);
  scan_->setEnabled(!verified_ && !digits_.isEmpty());
}

void SafetyNumberDialog::showVerified() {
  verified_ = true;
  identity_changed_ = false;
  scanner_->hide();
  confirm_panel_->hide();
  typed_->clear();
  error_->showInfo(tr("%1 is now verified.").arg(friend_name_));
  update_state();
}

void SafetyNumberDialog::showError(const QString& text) {
  // Let the user scan the same code again after fixing the problem.
  scanner_->reset();
  error_->showError(text);
}

void SafetyNumberDialog::showScanner() {
  confirm_panel_->hide();
  scanner_->reset();
  scanner_->show();
}

void SafetyNumberDialog::showConfirmation() {
  scanner_->hide();
  confirm_panel_->show();
  typed_->setFocus();
}

void SafetyNumberDialog::confirm_digits() {
  const QString typed = typed_->text().trimmed();
  if (typed.isEmpty()) {
    // The user compared by eye and vouches that the numbers match.
    emit verifyRequested(friend_id_, digits_);
    return;
  }
  const QString digits = only_digits(typed);
  QString rest = typed;
  rest.remove(QRegularExpression(QStringLiteral("[0-9\\s]")));
  if (digits.size() != 60 || !rest.isEmpty()) {
    error_->showError(
        tr("Type all 60 digits (spaces are fine). Digits typed: %1.").arg(digits.size()));
    typed_->setFocus();
    return;
  }
  error_->clearMessage();
  emit verifyRequested(friend_id_, digits);
}

}  // namespace secchats::desktop
