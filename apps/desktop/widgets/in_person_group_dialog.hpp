// In-person groups: no network here, the group key travels from one screen to another camera.
// Show mode: the user names the group -> createRequested(name); the caller creates it and calls
// showCode(name, payload), which shows the QR large with a warning that anyone who sees it joins
// (a Full screen button; Escape leaves full screen first, then closes).
// Join mode: an embedded QrScanner expecting "SECCHATS-GROUP:1:" -> joinRequested(payload).
#pragma once

#include <QDialog>
#include <QString>

class QLabel;
class QLineEdit;
class QPushButton;
class QProgressBar;

namespace secchats::desktop {

class InlineMessage;
class QrCodeWidget;
class QrScanner;

class InPersonGroupDialog : public QDialog {
  Q_OBJECT
 public:
  enum class Mode { kShow, kJoin };
  static inline const QString kGroupPrefix = QStringLiteral("SECCHATS-GROUP:1:");

  explicit InPersonGroupDialog(Mode mode, QWidget* parent = nullptr);

  Mode mode() const { return mode_; }
  bool isCodeShown() const;
  QrCodeWidget* qrCode() const { return qr_; }
  QrScanner* scanner() const { return scanner_; }

 signals:
  void createRequested(const QString& name);   // a valid group name
  void joinRequested(const QString& payload);  // a scanned "SECCHATS-GROUP:1:..." text

 public slots:
  // Show mode: the group exists; show its code. `payload` holds the group key: it is only
  // painted, never logged or copied anywhere.
  void showCode(const QString& group_name, const QString& payload);
  // Join mode: joined; says so and stops scanning.
  void showJoined(const QString& group_name);
  void showError(const QString& text);
  void setBusy(bool busy);
  void toggleFullScreen();

 protected:
  void keyPressEvent(QKeyEvent* event) override;

 private:
  void submit_name();

  Mode mode_;
  bool busy_ = false;
  QWidget* name_row_ = nullptr;
  QLineEdit* name_ = nullptr;
  QPushButton* create_ = nullptr;
  QLabel* title_ = nullptr;
  QrCodeWidget* qr_ = nullptr;
  QLabel* warning_ = nullptr;
  QPushButton* full_screen_ = nullptr;
  QrScanner* scanner_ = nullptr;
  QProgressBar* progress_ = nullptr;
  InlineMessage* error_ = nullptr;
};

}  // namespace secchats::desktop
