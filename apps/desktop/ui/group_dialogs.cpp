#include "group_dialogs.hpp"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QVBoxLayout>

#include "core/friends_model.hpp"
#include "core/session.hpp"
#include "ui_text.hpp"
#include "widgets/inline_message.hpp"

namespace secchats::desktop::ui {

NewGroupDialog::NewGroupDialog(Session* session, QWidget* parent)
    : QDialog(parent), session_(session) {
  setObjectName(QStringLiteral("newGroupDialog"));
  setWindowTitle(tr("New group"));
  auto* layout = new QVBoxLayout(this);
  auto* form = new QFormLayout;
  name_ = new QLineEdit(this);
  name_->setObjectName(QStringLiteral("groupNameEdit"));
  name_->setAccessibleName(tr("Group name"));
  name_->setMaxLength(100);
  form->addRow(tr("Group &name:"), name_);
  layout->addLayout(form);
  message_ = new InlineMessage(this);
  message_->setObjectName(QStringLiteral("newGroupMessage"));
  layout->addWidget(message_);
  auto* buttons = new QDialogButtonBox(this);
  create_ = buttons->addButton(tr("&Create"), QDialogButtonBox::ActionRole);
  create_->setObjectName(QStringLiteral("createGroupButton"));
  create_->setAccessibleName(tr("Create group"));
  create_->setDefault(true);
  QPushButton* cancel = buttons->addButton(QDialogButtonBox::Cancel);
  cancel->setAccessibleName(tr("Cancel"));
  layout->addWidget(buttons);
  connect(create_, &QPushButton::clicked, this, &NewGroupDialog::submit);
  connect(cancel, &QPushButton::clicked, this, &QDialog::reject);
  connect(session_, &Session::chatCreated, this, [this](const QString& chat_id) {
    if (!waiting_) return;
    waiting_ = false;
    emit groupCreated(chat_id);
    accept();
  });
}

void NewGroupDialog::submit() {
  const QString name = name_->text().trimmed();
  if (name.isEmpty()) {
    message_->showError(tr("Give the group a name."));
    return;
  }
  if (name.toUtf8().size() > 100) {
    message_->showError(tr("The name is too long (100 bytes at most)."));
    return;
  }
  waiting_ = true;
  create_->setEnabled(false);
  message_->showInfo(tr("Creating the group…"));
  session_->createGroup(name);
}

bool NewGroupDialog::takeFailure(const QString& why) {
  if (!waiting_) return false;
  waiting_ = false;
  create_->setEnabled(true);
  message_->showError(tr("The group could not be created: %1").arg(why));
  return true;
}

InviteDialog::InviteDialog(Session* session, const QString& group_id, QWidget* parent)
    : QDialog(parent), session_(session), group_id_(group_id) {
  setObjectName(QStringLiteral("inviteDialog"));
  setWindowTitle(tr("Invite friends"));
  auto* layout = new QVBoxLayout(this);
  auto* label = new QLabel(tr("Choose the &friends to invite:"), this);
  layout->addWidget(label);
  list_ = new QListWidget(this);
  list_->setObjectName(QStringLiteral("inviteFriendList"));
  list_->setAccessibleName(tr("Friends"));
  label->setBuddy(list_);
  const FriendsModel* friends = session_->friends();
  for (int row = 0; row < friends->rowCount(); ++row) {
    const QModelIndex i = friends->index(row, 0);
    const QString id = i.data(FriendsModel::kUserIdRole).toString();
    const QString nick = i.data(FriendsModel::kNicknameRole).toString();
    auto* item = new QListWidgetItem(
        nick.isEmpty() ? id : QStringLiteral("%1 (%2)").arg(displaySafe(nick), id.left(8)), list_);
    item->setData(Qt::UserRole, id);
    item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsUserCheckable);
    item->setCheckState(Qt::Unchecked);
  }
  if (list_->count() > 0) list_->setCurrentRow(0);
  layout->addWidget(list_);
  message_ = new InlineMessage(this);
  message_->setObjectName(QStringLiteral("inviteMessage"));
  layout->addWidget(message_);
  if (list_->count() == 0)
    message_->showInfo(tr("Add a friend first: only friends can be invited."));
  auto* buttons = new QDialogButtonBox(this);
  invite_ = buttons->addButton(tr("&Invite"), QDialogButtonBox::ActionRole);
  invite_->setObjectName(QStringLiteral("sendInvitesButton"));
  invite_->setAccessibleName(tr("Invite the chosen friends"));
  invite_->setDefault(true);
  QPushButton* cancel = buttons->addButton(QDialogButtonBox::Cancel);
  cancel->setAccessibleName(tr("Cancel"));
  layout->addWidget(buttons);
  connect(invite_, &QPushButton::clicked, this, &InviteDialog::submit);
  connect(cancel, &QPushButton::clicked, this, &QDialog::reject);
}

void InviteDialog::submit() {
  QStringList chosen;
  for (int i = 0; i < list_->count(); ++i) {
    if (list_->item(i)->checkState() == Qt::Checked) {
      chosen << list_->item(i)->data(Qt::UserRole).toString();
    }
  }
  if (chosen.isEmpty()) {
    message_->showError(tr("Tick at least one friend (Space ticks the selected one)."));
    return;
  }
  for (const QString& id : chosen)
    session_->inviteToGroup(group_id_, id);
  accept();
}

}  // namespace secchats::desktop::ui
