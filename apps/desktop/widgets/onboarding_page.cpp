#include "widgets/onboarding_page.hpp"

#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QToolButton>
#include <QVBoxLayout>

#include "widgets/inline_message.hpp"
#include "widgets/readable_column.hpp"
#include "widgets/validation.hpp"

namespace secchats::desktop {

OnboardingPage::OnboardingPage(QWidget* parent) : QWidget(parent) {
  auto* layout = readableColumn(this, 72);
  auto* title = new QLabel(tr("Create your Secure Chats account"), this);
  QFont title_font = title->font();
  title_font.setPointSizeF(title_font.pointSizeF() * 1.4);
  title->setFont(title_font);
  title->setWordWrap(true);
  layout->addWidget(title);

  auto* form = new QFormLayout;
  form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
  url_ = new QLineEdit(kDefaultServerUrl, this);
  url_->setAccessibleName(tr("Server address"));
  form->addRow(tr("&Server:"), url_);
  server_error_ = new InlineMessage(this);
  form->addRow(server_error_);

  advanced_toggle_ = new QToolButton(this);
  advanced_toggle_->setText(tr("&Advanced"));
  advanced_toggle_->setAccessibleName(tr("Advanced server settings"));
  advanced_toggle_->setCheckable(true);
  advanced_toggle_->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  advanced_toggle_->setArrowType(Qt::RightArrow);
  form->addRow(advanced_toggle_);

  advanced_ = new QWidget(this);
  auto* advanced_form = new QFormLayout(advanced_);
  advanced_form->setContentsMargins(0, 0, 0, 0);
  pin_ = new QLineEdit(advanced_);
  pin_->setAccessibleName(tr("Certificate pin, SHA-256"));
  pin_->setPlaceholderText(tr("optional, https only"));
  advanced_form->addRow(tr("Certificate &pin (SHA-256):"), pin_);
  auto* ca_row = new QHBoxLayout;
  ca_file_ = new QLineEdit(advanced_);
  ca_file_->setAccessibleName(tr("CA certificate file"));
  ca_file_->setPlaceholderText(tr("optional, https only"));
  browse_ = new QPushButton(tr("&Browse…"), advanced_);
  browse_->setAccessibleName(tr("Choose a CA certificate file"));
  ca_row->addWidget(ca_file_, 1);
  ca_row->addWidget(browse_);
  // A label made here: QFormLayout gives a label a buddy only for a widget field, and without a
  // buddy the "&" would show.
  auto* ca_label = new QLabel(tr("CA &file:"), advanced_);
  ca_label->setBuddy(ca_file_);
  advanced_form->addRow(ca_label, ca_row);
  advanced_->hide();
  form->addRow(advanced_);

  nickname_ = new QLineEdit(this);
  nickname_->setAccessibleName(tr("Nickname"));
  form->addRow(tr("&Nickname:"), nickname_);
  nickname_error_ = new InlineMessage(this);
  form->addRow(nickname_error_);

  password_ = new QLineEdit(this);
  password_->setEchoMode(QLineEdit::Password);
  password_->setAccessibleName(tr("Password"));
  form->addRow(tr("Pass&word:"), password_);
  confirm_ = new QLineEdit(this);
  confirm_->setEchoMode(QLineEdit::Password);
  confirm_->setAccessibleName(tr("Confirm password"));
  form->addRow(tr("&Confirm password:"), confirm_);
  password_error_ = new InlineMessage(this);
  form->addRow(password_error_);
  auto* password_note = new QLabel(
      tr("The password encrypts your messages on this computer. It cannot be recovered."), this);
  password_note->setWordWrap(true);
  form->addRow(password_note);
  layout->addLayout(form);

  error_ = new InlineMessage(this);
  layout->addWidget(error_);
  progress_ = new QProgressBar(this);
  progress_->setRange(0, 0);  // busy indicator: creating takes a round trip and Argon2id
  progress_->setAccessibleName(tr("Creating account"));
  progress_->setTextVisible(false);
  progress_->hide();
  layout->addWidget(progress_);

  auto* buttons = new QHBoxLayout;
  buttons->addStretch(1);
  create_ = new QPushButton(tr("Create &account"), this);
  create_->setAccessibleName(tr("Create account"));
  create_->setDefault(true);
  buttons->addWidget(create_);
  layout->addLayout(buttons);
  // Centred a little above the middle, like the unlock page.
  layout->insertStretch(0, 1);
  layout->addStretch(2);

  connect(advanced_toggle_, &QToolButton::toggled, this, [this](bool on) {
    advanced_->setVisible(on);
    advanced_toggle_->setArrowType(on ? Qt::DownArrow : Qt::RightArrow);
  });
  connect(browse_, &QPushButton::clicked, this, &OnboardingPage::browse_ca_file);
  connect(create_, &QPushButton::clicked, this, &OnboardingPage::submit);
  for (QLineEdit* edit : {url_, pin_, ca_file_, nickname_, password_, confirm_}) {
    connect(edit, &QLineEdit::returnPressed, this, &OnboardingPage::submit);
  }
  setTabOrder(url_, advanced_toggle_);
  setTabOrder(advanced_toggle_, pin_);
  setTabOrder(pin_, ca_file_);
  setTabOrder(ca_file_, browse_);
  setTabOrder(browse_, nickname_);
  setTabOrder(nickname_, password_);
  setTabOrder(password_, confirm_);
  setTabOrder(confirm_, create_);
}

void OnboardingPage::setServerUrl(const QString& url) {
  url_->setText(url);
}
QString OnboardingPage::serverUrl() const {
  return url_->text().trimmed();
}
QString OnboardingPage::pin() const {
  return pin_->text().trimmed();
}
QString OnboardingPage::caFile() const {
  return ca_file_->text().trimmed();
}
QString OnboardingPage::nickname() const {
  return nickname_->text();
}

void OnboardingPage::showError(const QString& text) {
  error_->showError(text);
}

void OnboardingPage::setBusy(bool busy) {
  busy_ = busy;
  for (QWidget* w : std::initializer_list<QWidget*>{url_, advanced_toggle_, pin_, ca_file_, browse_,
                                                    nickname_, password_, confirm_, create_}) {
    w->setEnabled(!busy);
  }
  progress_->setVisible(busy);
  create_->setText(busy ? tr("Creating account…") : tr("Create &account"));
  if (busy) error_->clearMessage();
}

void OnboardingPage::clearPasswords() {
  password_->clear();
  confirm_->clear();
}

void OnboardingPage::submit() {
  if (busy_) return;
  error_->clearMessage();
  const QString url = serverUrl();
  QString server_problem = validateServerUrl(url);
  if (server_problem.isEmpty()) server_problem = validatePin(pin(), url);
  if (server_problem.isEmpty()) server_problem = validateCaFile(caFile(), url);
  const QString nickname_problem = validateNickname(nickname());
  const QString password_problem = validateNewPassword(password_->text(), confirm_->text());

  server_problem.isEmpty() ? server_error_->clearMessage()
                           : server_error_->showError(server_problem);
  nickname_problem.isEmpty() ? nickname_error_->clearMessage()
                             : nickname_error_->showError(nickname_problem);
  password_problem.isEmpty() ? password_error_->clearMessage()
                             : password_error_->showError(password_problem);
  // The pin/CA problems live in the collapsed section: open it so the user sees the field.
  if (!server_problem.isEmpty() && validateServerUrl(url).isEmpty()) {
    advanced_toggle_->setChecked(true);
  }
  if (!server_problem.isEmpty()) {
    (validateServerUrl(url).isEmpty() ? (validatePin(pin(), url).isEmpty() ? ca_file_ : pin_)
                                      : url_)
        ->setFocus();
    return;
  }
  if (!nickname_problem.isEmpty()) {
    nickname_->setFocus();
    return;
  }
  if (!password_problem.isEmpty()) {
    password_->setFocus();
    return;
  }
  emit createRequested(url, pin(), caFile(), nickname(), password_->text());
}

void OnboardingPage::browse_ca_file() {
  const QString path =
      QFileDialog::getOpenFileName(this, tr("Choose the relay's CA certificate"), QString(),
                                   tr("PEM certificates (*.pem *.crt *.cer);;All files (*)"));
  if (!path.isEmpty()) ca_file_->setText(path);
}

}  // namespace secchats::desktop
