#include "notifier.hpp"

#include <QApplication>
#include <QMenu>
#include <QStyle>
#include <QSystemTrayIcon>

#include "core/app_settings.hpp"
#include "ui_text.hpp"

namespace secchats::desktop::ui {

Notifier::Notifier(AppSettings* settings, QObject* parent) : QObject(parent), settings_(settings) {
  if (!QSystemTrayIcon::isSystemTrayAvailable()) return;
  tray_ = new QSystemTrayIcon(
      QApplication::windowIcon().isNull()
          ? QApplication::style()->standardIcon(QStyle::SP_MessageBoxInformation)
          : QApplication::windowIcon(),
      this);
  tray_->setToolTip(tr("Secure Chats"));
  menu_ = new QMenu;
  menu_->addAction(tr("Show Secure Chats"), this, &Notifier::showWindowRequested);
  menu_->addSeparator();
  menu_->addAction(tr("Quit"), this, &Notifier::quitRequested);
  tray_->setContextMenu(menu_);
  connect(this, &QObject::destroyed, menu_, &QObject::deleteLater);
  connect(tray_, &QSystemTrayIcon::activated, this, [this](QSystemTrayIcon::ActivationReason r) {
    if (r == QSystemTrayIcon::Trigger || r == QSystemTrayIcon::DoubleClick) {
      emit showWindowRequested();
    }
  });
  connect(tray_, &QSystemTrayIcon::messageClicked, this, &Notifier::activateLast);
  tray_->show();
}

void Notifier::setUnreadCount(int unread) {
  if (!tray_) return;
  tray_->setToolTip(unread > 0 ? tr("Secure Chats: %n unread", nullptr, unread)
                               : tr("Secure Chats"));
}

void Notifier::notify(const QString& chat_id, const QString& title, const QString& preview,
                      bool window_active_on_chat) {
  if (window_active_on_chat) return;
  if (settings_ && !settings_->notificationsEnabled()) return;
  const bool content = settings_ && settings_->notificationContentShown();
  last_chat_ = chat_id;
  last_is_request_ = false;
  if (content) {
    last_title_ = displaySafe(title);
    last_body_ = displaySafe(preview.isEmpty() ? tr("New message") : preview);
  } else {
    last_title_ = tr("Secure Chats");
    last_body_ = tr("New message");
  }
  ++shown_;
  if (tray_) tray_->showMessage(last_title_, last_body_, QSystemTrayIcon::Information);
}

void Notifier::notifyRequest(const QString& kind, const QString& title) {
  if (settings_ && !settings_->notificationsEnabled()) return;
  const bool content = settings_ && settings_->notificationContentShown();
  const bool group = kind == QLatin1String("group");
  last_chat_.clear();
  last_is_request_ = true;
  last_title_ = group ? tr("Group invite") : tr("Friend request");
  last_body_ = content ? displaySafe(title) : tr("Open Secure Chats to answer it");
  ++shown_;
  if (tray_) tray_->showMessage(last_title_, last_body_, QSystemTrayIcon::Information);
}

void Notifier::activateLast() {
  if (last_is_request_) {
    emit showWindowRequested();
    emit requestsRequested();
    return;
  }
  if (last_chat_.isEmpty()) return;
  emit showWindowRequested();
  emit chatRequested(last_chat_);
}

}  // namespace secchats::desktop::ui
