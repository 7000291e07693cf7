// Shows the user's own ID after account creation (and from the menu): the ID in monospace,
// selectable, a Copy button with "Copied" feedback, and the ID as a QR code for a friend's
// camera. "Continue" emits continueRequested().
#pragma once

#include <QString>
#include <QWidget>

class QLineEdit;
class QPushButton;
class QLabel;

namespace secchats::desktop {

class QrCodeWidget;

class IdentityCard : public QWidget {
  Q_OBJECT
 public:
  explicit IdentityCard(QWidget* parent = nullptr);

  void setUserId(const QString& user_id);
  QString userId() const { return user_id_; }
  // Hides the Continue button (when shown outside onboarding, e.g. in a dialog).
  void setContinueVisible(bool visible);

 signals:
  void continueRequested();
  void copied();  // the ID was put on the clipboard

 public slots:
  void copyToClipboard();

 private:
  QString user_id_;
  QLineEdit* id_field_ = nullptr;
  QPushButton* copy_ = nullptr;
  QLabel* copied_note_ = nullptr;
  QrCodeWidget* qr_ = nullptr;
  QPushButton* continue_ = nullptr;
};

}  // namespace secchats::desktop
