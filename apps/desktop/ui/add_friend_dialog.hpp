// Adding a friend: paste their ID (32+ hex digits, as `secchats id` and the identity card show
// it) or scan their QR code. Says "Request sent" only when the Session reports
// friendRequestSent for that id; errors inline.
#pragma once

#include <QDialog>

class QLineEdit;
class QPushButton;

namespace secchats::desktop {
class Session;
class InlineMessage;
class QrScanner;
namespace ui {

class AddFriendDialog : public QDialog {
  Q_OBJECT
 public:
  explicit AddFriendDialog(Session* session, QWidget* parent = nullptr);

  QString pendingId() const { return pending_; }  // "" when nothing is in flight
  // Shows an operation failure if this dialog is waiting for an answer; true if it took it.
  bool takeFailure(const QString& why);

 public slots:
  void submit();
  void showScanner();
  void setId(const QString& id);  // fills the field (from a scan) and submits

 private:
  void onSent(const QString& user_id);

  Session* session_;
  QLineEdit* id_ = nullptr;
  QPushButton* add_ = nullptr;
  QPushButton* scan_ = nullptr;
  QrScanner* scanner_ = nullptr;
  InlineMessage* message_ = nullptr;
  QString pending_;
};

}  // namespace ui
}  // namespace secchats::desktop
