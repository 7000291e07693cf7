// Unlocking an existing account: a password field, Unlock (Enter works), an inline error for a
// wrong password, a busy state while Argon2id runs (0.2–1 s, on the caller's worker thread) and
// an optional "Use another account folder…" link.
#pragma once

#include <QString>
#include <QWidget>

class QLineEdit;
class QPushButton;
class QProgressBar;
class QLabel;

namespace secchats::desktop {

class InlineMessage;

class UnlockPage : public QWidget {
  Q_OBJECT
 public:
  explicit UnlockPage(QWidget* parent = nullptr);

  // Shown under the title as "Account in <folder>", the folder elided in the middle to the
  // width the page has (a long path never widens the window); the full path is the label's
  // tooltip and accessible description. Empty: nothing shown.
  void setAccountFolder(const QString& path);
  QString accountFolder() const { return folder_; }
  // Shows or hides the "Use another account folder…" button (hidden by default).
  void setOtherFolderVisible(bool visible);
  bool isBusy() const { return busy_; }

 signals:
  void unlockRequested(const QString& password);  // never with an empty password
  void otherFolderRequested();

 public slots:
  // Shows `text` inline, clears the password and gives the field focus again.
  void showError(const QString& text);
  void showWrongPassword();  // showError(tr("Wrong password. Try again."))
  void setBusy(bool busy);
  void submit();

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  void updateAccountText();

  QString folder_;
  QLabel* account_ = nullptr;
  QLineEdit* password_ = nullptr;
  QPushButton* unlock_ = nullptr;
  QPushButton* other_folder_ = nullptr;
  QProgressBar* progress_ = nullptr;
  InlineMessage* error_ = nullptr;
  bool busy_ = false;
};

}  // namespace secchats::desktop
