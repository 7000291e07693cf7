// First run: where the relay is and who the user will be. Validates inline (URL, pin, CA file,
// nickname 1..64 UTF-8 bytes without control characters, password >= 8 characters, confirmation)
// and only then emits createRequested. The caller creates the account in the background and
// answers with showError() or moves on (then shows an IdentityCard).
#pragma once

#include <QString>
#include <QWidget>

class QLineEdit;
class QPushButton;
class QProgressBar;
class QToolButton;

namespace secchats::desktop {

class InlineMessage;

class OnboardingPage : public QWidget {
  Q_OBJECT
 public:
  static inline const QString kDefaultServerUrl = QStringLiteral("http://127.0.0.1:8080");

  explicit OnboardingPage(QWidget* parent = nullptr);

  void setServerUrl(const QString& url);
  QString serverUrl() const;
  QString pin() const;
  QString caFile() const;
  QString nickname() const;
  bool isBusy() const { return busy_; }

 signals:
  // All fields valid. `pin` and `ca_file` may be empty; `url` is trimmed.
  void createRequested(const QString& url, const QString& pin, const QString& ca_file,
                       const QString& nickname, const QString& password);

 public slots:
  // The account could not be created (relay unreachable, refused...).
  void showError(const QString& text);
  // While the account is being created: inputs disabled, a busy bar shown.
  void setBusy(bool busy);
  void clearPasswords();
  // Validates and emits createRequested (the Create button and Enter in any field).
  void submit();

 private:
  void browse_ca_file();

  QLineEdit* url_ = nullptr;
  QToolButton* advanced_toggle_ = nullptr;
  QWidget* advanced_ = nullptr;
  QLineEdit* pin_ = nullptr;
  QLineEdit* ca_file_ = nullptr;
  QPushButton* browse_ = nullptr;
  QLineEdit* nickname_ = nullptr;
  QLineEdit* password_ = nullptr;
  QLineEdit* confirm_ = nullptr;
  InlineMessage* server_error_ = nullptr;
  InlineMessage* nickname_error_ = nullptr;
  InlineMessage* password_error_ = nullptr;
  InlineMessage* error_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QPushButton* create_ = nullptr;
  bool busy_ = false;
};

}  // namespace secchats::desktop
