// Comparing safety numbers with a friend: the 60 digits as 12 groups of 5 (monospace,
// selectable), the same as a QR code, the verified state, a banner when the friend's key changed.
// The user either scans the friend's code (embedded QrScanner expecting "SECCHATS-VERIFY:1:") or
// confirms the digits match (optionally typing the friend's digits). Both end in
// verifyRequested(friend_id, text); the caller checks it with the library and answers with
// showVerified() or showError().
#pragma once

#include <QDialog>
#include <QString>

class QLabel;
class QLineEdit;
class QPushButton;

namespace secchats::desktop {

class InlineMessage;
class QrCodeWidget;
class QrScanner;

class SafetyNumberDialog : public QDialog {
  Q_OBJECT
 public:
  static inline const QString kVerifyPrefix = QStringLiteral("SECCHATS-VERIFY:1:");

  explicit SafetyNumberDialog(QWidget* parent = nullptr);

  // `digits`: the 60 digits (spaces ignored); `qr_payload`: kVerifyPrefix + digits.
  // `identity_changed` shows the key-changed banner.
  void setSafetyNumber(const QString& friend_id, const QString& friend_name, const QString& digits,
                       const QString& qr_payload, bool verified, bool identity_changed);
  QString friendId() const { return friend_id_; }
  bool isVerified() const { return verified_; }
  // "12345 67890 …" in three lines of four groups, as displayed.
  QString formattedDigits() const;

  QrScanner* scanner() const { return scanner_; }

 signals:
  // `text`: the scanned QR payload, the digits the user typed, or our own digits when the user
  // confirmed that they match what the friend's screen shows.
  void verifyRequested(const QString& friend_id, const QString& text);

 public slots:
  void showVerified();
  void showError(const QString& text);
  void showScanner();
  void showConfirmation();

 private:
  void confirm_digits();
  void update_state();

  QString friend_id_;
  QString friend_name_;
  QString digits_;
  bool verified_ = false;
  bool identity_changed_ = false;
  InlineMessage* banner_ = nullptr;
  QLabel* title_ = nullptr;
  QLabel* digits_label_ = nullptr;
  QrCodeWidget* qr_ = nullptr;
  QLabel* state_ = nullptr;
  QPushButton* scan_ = nullptr;
  QPushButton* match_ = nullptr;
  QrScanner* scanner_ = nullptr;
  QWidget* confirm_panel_ = nullptr;
  QLineEdit* typed_ = nullptr;
  QPushButton* confirm_ = nullptr;
  QPushButton* cancel_confirm_ = nullptr;
  InlineMessage* error_ = nullptr;
};

}  // namespace secchats::desktop
