// Settings: change the password (old, new, confirm), the relay (address read-only: the
// library cannot move an account to another relay; its TLS pin and CA file editable, for a
// renewed certificate), notifications and theme. Values go in through
// setters and come out through getters and signals; the notification and theme signals fire as
// soon as the user changes them.
#pragma once

#include <QDialog>
#include <QString>

#include "widgets/theme.hpp"

class QCheckBox;
class QComboBox;
class QLineEdit;
class QPushButton;
class QProgressBar;

namespace secchats::desktop {

class InlineMessage;

class SettingsDialog : public QDialog {
  Q_OBJECT
 public:
  explicit SettingsDialog(QWidget* parent = nullptr);

  // The TLS fields are enabled for https:// only.
  void setServer(const QString& url, const QString& pin, const QString& ca_file = {});
  void setNotificationsEnabled(bool enabled);
  bool notificationsEnabled() const;
  void setShowMessageContent(bool show);
  bool showMessageContent() const;
  void setTheme(ThemeChoice choice);
  ThemeChoice theme() const;

 signals:
  // Both fields validated (new >= 8 characters, confirmation matches, differs from the old).
  void passwordChangeRequested(const QString& old_password, const QString& new_password);
  void notificationsChanged(bool enabled, bool show_content);
  void themeChanged(secchats::desktop::ThemeChoice choice);
  // Pin and CA file validated for the shown https:// URL; the caller tries them on the relay
  // and answers with showConnectionSaved or showConnectionError.
  void connectionChangeRequested(const QString& pin_sha256, const QString& ca_file);

 public slots:
  // The password change failed (wrong old password...): inline under the password fields.
  void showError(const QString& text);
  void showPasswordChanged();  // clears the fields, says "Password changed."
  void setBusy(bool busy);     // password change running (Argon2id twice)
  void submitPasswordChange();
  void submitConnection();
  void showConnectionSaved();
  void showConnectionError(const QString& text);

 private:
  void emit_notifications();

  QLineEdit* old_password_ = nullptr;
  QLineEdit* new_password_ = nullptr;
  QLineEdit* confirm_ = nullptr;
  QPushButton* change_ = nullptr;
  QProgressBar* progress_ = nullptr;
  InlineMessage* password_message_ = nullptr;
  QLineEdit* server_url_ = nullptr;
  QLineEdit* server_pin_ = nullptr;
  QLineEdit* server_ca_ = nullptr;
  QPushButton* save_connection_ = nullptr;
  InlineMessage* connection_message_ = nullptr;
  QCheckBox* notifications_ = nullptr;
  QCheckBox* show_content_ = nullptr;
  QComboBox* theme_ = nullptr;
  bool busy_ = false;
};

}  // namespace secchats::desktop

Q_DECLARE_METATYPE(secchats::desktop::ThemeChoice)
