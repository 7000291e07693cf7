// Groups: naming a new one (NewGroupDialog -> Session::createGroup, closes on chatCreated) and
// inviting friends to one (InviteDialog: a checklist of friends -> inviteToGroup per friend).
#pragma once

#include <QDialog>

class QLineEdit;
class QListWidget;
class QPushButton;

namespace secchats::desktop {
class Session;
class InlineMessage;
namespace ui {

class NewGroupDialog : public QDialog {
  Q_OBJECT
 public:
  explicit NewGroupDialog(Session* session, QWidget* parent = nullptr);
  bool isWaiting() const { return waiting_; }
  bool takeFailure(const QString& why);  // true if this dialog was waiting and shows it

 public slots:
  void submit();

 signals:
  void groupCreated(const QString& group_id);

 private:
  Session* session_;
  QLineEdit* name_ = nullptr;
  QPushButton* create_ = nullptr;
  InlineMessage* message_ = nullptr;
  bool waiting_ = false;
};

class InviteDialog : public QDialog {
  Q_OBJECT
 public:
  InviteDialog(Session* session, const QString& group_id, QWidget* parent = nullptr);
  QListWidget* friendList() const { return list_; }

 public slots:
  void submit();  // invites every checked friend, then closes

 private:
  Session* session_;
  QString group_id_;
  QListWidget* list_ = nullptr;
  QPushButton* invite_ = nullptr;
  InlineMessage* message_ = nullptr;
};

}  // namespace ui
}  // namespace secchats::desktop
