#include "widgets/settings_dialog.hpp"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QTabWidget>
#include <QVBoxLayout>

#include "widgets/inline_message.hpp"
#include "widgets/validation.hpp"

namespace secchats::desktop {

SettingsDialog::SettingsDialog(QWidget* parent) : QDialog(parent) {
  setWindowTitle(tr("Settings"));
  auto* layout = new QVBoxLayout(this);
  // Three tabs, not one long column: with the TLS fields the column outgrew a small screen
  // and squeezed its wrapped notes.
  auto* tabs = new QTabWidget(this);
  tabs->setObjectName(QStringLiteral("settingsTabs"));
  tabs->setAccessibleName(tr("Settings sections"));
  auto* account_page = new QWidget(tabs);
  auto* account_layout = new QVBoxLayout(account_page);
  auto* relay_page = new QWidget(tabs);
  auto* relay_layout = new QVBoxLayout(relay_page);
  auto* general_page = new QWidget(tabs);
  auto* general_layout = new QVBoxLayout(general_page);
  tabs->addTab(account_page, tr("&Account"));
  tabs->addTab(relay_page, tr("&Relay"));
  tabs->addTab(general_page, tr("&General"));
  layout->addWidget(tabs);

  auto* password_box = new QGroupBox(tr("Password"), account_page);
  auto* password_form = new QFormLayout(password_box);
  old_password_ = new QLineEdit(password_box);
  old_password_->setEchoMode(QLineEdit::Password);
  old_password_->setAccessibleName(tr("Current password"));
  password_form->addRow(tr("C&urrent password:"), old_password_);
  new_password_ = new QLineEdit(password_box);
  new_password_->setEchoMode(QLineEdit::Password);
  new_password_->setAccessibleName(tr("New password"));
  password_form->addRow(tr("&New password:"), new_password_);
  confirm_ = new QLineEdit(password_box);
  confirm_->setEchoMode(QLineEdit::Password);
  confirm_->setAccessibleName(tr("Confirm new password"));
  password_form->addRow(tr("Con&firm new password:"), confirm_);
  password_message_ = new InlineMessage(password_box);
  password_form->addRow(password_message_);
  progress_ = new QProgressBar(password_box);
  progress_->setRange(0, 0);
  progress_->setTextVisible(false);
  progress_->setAccessibleName(tr("Changing password"));
  progress_->hide();
  password_form->addRow(progress_);
  change_ = new QPushButton(tr("&Change password"), password_box);
  change_->setAccessibleName(tr("Change password"));
  password_form->addRow(change_);
  account_layout->addWidget(password_box);
  account_layout->addStretch(1);

  auto* server_box = new QGroupBox(tr("Server"), relay_page);
  // The wrapped note sits in a box layout under the form: a form row did not give it the
  // height its text needs.
  auto* server_column = new QVBoxLayout(server_box);
  auto* server_form = new QFormLayout;
  server_column->addLayout(server_form);
  server_url_ = new QLineEdit(server_box);
  server_url_->setReadOnly(true);
  server_url_->setAccessibleName(tr("Server address"));
  server_form->addRow(tr("Address:"), server_url_);
  server_pin_ = new QLineEdit(server_box);
  server_pin_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  server_pin_->setAccessibleName(tr("Certificate pin (SHA-256)"));
  server_pin_->setPlaceholderText(tr("none"));
  server_form->addRow(tr("Certificate &pin:"), server_pin_);
  server_ca_ = new QLineEdit(server_box);
  server_ca_->setAccessibleName(tr("Trusted certificates file (PEM)"));
  server_ca_->setPlaceholderText(tr("the system's certificate authorities"));
  server_form->addRow(tr("CA &file:"), server_ca_);
  connection_message_ = new InlineMessage(server_box);
  server_form->addRow(connection_message_);
  save_connection_ = new QPushButton(tr("&Save TLS settings"), server_box);
  save_connection_->setAccessibleName(tr("Save TLS settings"));
  save_connection_->setAutoDefault(false);
  server_form->addRow(save_connection_);
  auto* server_note = new QLabel(
      tr("Your account lives on this relay; moving it to another server is not supported. When "
         "the relay's certificate is renewed, enter its new pin here: it is tried on the relay "
         "before it is saved."),
      server_box);
  server_note->setWordWrap(true);
  server_column->addWidget(server_note);
  relay_layout->addWidget(server_box);
  relay_layout->addStretch(1);

  auto* notify_box = new QGroupBox(tr("Notifications"), general_page);
  auto* notify_layout = new QVBoxLayout(notify_box);
  notifications_ = new QCheckBox(tr("Show &notifications for new messages"), notify_box);
  notifications_->setAccessibleName(tr("Show notifications for new messages"));
  notifications_->setChecked(true);
  show_content_ = new QCheckBox(tr("Show message &text in notifications"), notify_box);
  show_content_->setAccessibleName(tr("Show message text in notifications"));
  notify_layout->addWidget(notifications_);
  notify_layout->addWidget(show_content_);
  general_layout->addWidget(notify_box);

  auto* look_box = new QGroupBox(tr("Appearance"), general_page);
  auto* look_form = new QFormLayout(look_box);
  theme_ = new QComboBox(look_box);
  theme_->addItem(tr("Follow the system"), int(ThemeChoice::kSystem));
  theme_->addItem(tr("Light"), int(ThemeChoice::kLight));
  theme_->addItem(tr("Dark"), int(ThemeChoice::kDark));
  theme_->setAccessibleName(tr("Theme"));
  look_form->addRow(tr("&Theme:"), theme_);
  general_layout->addWidget(look_box);
  general_layout->addStretch(1);

  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
  buttons->button(QDialogButtonBox::Close)->setAccessibleName(tr("Close settings"));
  // Enter in a password field changes the password; it must not also close the dialog.
  buttons->button(QDialogButtonBox::Close)->setAutoDefault(false);
  change_->setAutoDefault(false);
  layout->addWidget(buttons);

  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(change_, &QPushButton::clicked, this, &SettingsDialog::submitPasswordChange);
  connect(save_connection_, &QPushButton::clicked, this, &SettingsDialog::submitConnection);
  for (QLineEdit* edit : {old_password_, new_password_, confirm_}) {
    connect(edit, &QLineEdit::returnPressed, this, &SettingsDialog::submitPasswordChange);
  }
  connect(notifications_, &QCheckBox::toggled, this, [this](bool on) {
    show_content_->setEnabled(on);
    emit_notifications();
  });
  connect(show_content_, &QCheckBox::toggled, this, &SettingsDialog::emit_notifications);
  connect(theme_, &QComboBox::currentIndexChanged, this, [this] { emit themeChanged(theme()); });
}

void SettingsDialog::setServer(const QString& url, const QString& pin, const QString& ca_file) {
  server_url_->setText(url);
  server_pin_->setText(pin);
  server_ca_->setText(ca_file);
  server_url_->setCursorPosition(0);
  server_pin_->setCursorPosition(0);
  server_ca_->setCursorPosition(0);
  // TLS settings mean nothing for plain http:// (loopback); the library would refuse them.
  const bool https = url.startsWith(QLatin1String("https://"), Qt::CaseInsensitive);
  for (QWidget* w : std::initializer_list<QWidget*>{server_pin_, server_ca_, save_connection_})
    w->setEnabled(https);
}

void SettingsDialog::submitConnection() {
  const QString url = server_url_->text();
  QString problem = validatePin(server_pin_->text().trimmed(), url);
  if (problem.isEmpty()) problem = validateCaFile(server_ca_->text().trimmed(), url);
  if (!problem.isEmpty()) {
    connection_message_->showError(problem);
    return;
  }
  connection_message_->showInfo(tr("Trying the new settings on the relay…"));
  save_connection_->setEnabled(false);
  emit connectionChangeRequested(server_pin_->text().trimmed(), server_ca_->text().trimmed());
}

void SettingsDialog::showConnectionSaved() {
  save_connection_->setEnabled(true);
  connection_message_->showInfo(tr("TLS settings saved: the relay accepted them."));
}

void SettingsDialog::showConnectionError(const QString& text) {
  save_connection_->setEnabled(true);
  connection_message_->showError(text);
}

void SettingsDialog::setNotificationsEnabled(bool enabled) {
  const QSignalBlocker block(notifications_);
  notifications_->setChecked(enabled);
  show_content_->setEnabled(enabled);
}
bool SettingsDialog::notificationsEnabled() const {
  return notifications_->isChecked();
}

void SettingsDialog::setShowMessageContent(bool show) {
  const QSignalBlocker block(show_content_);
  show_content_->setChecked(show);
}
bool SettingsDialog::showMessageContent() const {
  return show_content_->isChecked();
}

void SettingsDialog::setTheme(ThemeChoice choice) {
  const QSignalBlocker block(theme_);
  theme_->setCurrentIndex(theme_->findData(int(choice)));
}
ThemeChoice SettingsDialog::theme() const {
  return static_cast<ThemeChoice>(theme_->currentData().toInt());
}

void SettingsDialog::emit_notifications() {
  emit notificationsChanged(notifications_->isChecked(), show_content_->isChecked());
}

void SettingsDialog::showError(const QString& text) {
  password_message_->showError(text);
}

void SettingsDialog::showPasswordChanged() {
  old_password_->clear();
  new_password_->clear();
  confirm_->clear();
  password_message_->showInfo(tr("Password changed."));
}

void SettingsDialog::setBusy(bool busy) {
  busy_ = busy;
  for (QWidget* w :
       std::initializer_list<QWidget*>{old_password_, new_password_, confirm_, change_}) {
    w->setEnabled(!busy);
  }
  progress_->setVisible(busy);
  change_->setText(busy ? tr("Changing password…") : tr("&Change password"));
  if (busy) password_message_->clearMessage();
}

void SettingsDialog::submitPasswordChange() {
  if (busy_) return;
  if (old_password_->text().isEmpty()) {
    password_message_->showError(tr("Enter your current password."));
    old_password_->setFocus();
    return;
  }
  QString problem = validateNewPassword(new_password_->text(), confirm_->text());
  if (problem.isEmpty() && new_password_->text() == old_password_->text()) {
    problem = tr("The new password is the same as the current one.");
  }
  if (!problem.isEmpty()) {
    password_message_->showError(problem);
    new_password_->setFocus();
    return;
  }
  password_message_->clearMessage();
  emit passwordChangeRequested(old_password_->text(), new_password_->text());
}

}  // namespace secchats::desktop
