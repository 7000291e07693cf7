// The tray icon and new-message notifications. A notification is shown for Session::incoming
// unless notifications are off or the window is active on that very chat; with "show content"
// off (the default) it says only "New message". Clicking it opens the chat.
// Without a system tray (some desktops, the offscreen platform) nothing is shown, but the
// decision is still made and recorded (lastTitle/lastBody), so it is testable.
#pragma once

#include <QObject>
#include <QString>

class QSystemTrayIcon;
class QMenu;

namespace secchats::desktop {
class AppSettings;
namespace ui {

class Notifier : public QObject {
  Q_OBJECT
 public:
  Notifier(AppSettings* settings, QObject* parent = nullptr);

  bool trayAvailable() const { return tray_ != nullptr; }
  QSystemTrayIcon* tray() const { return tray_; }
  void setUnreadCount(int unread);

  // What the last notification said and which chat it opens ("" before the first).
  QString lastTitle() const { return last_title_; }
  QString lastBody() const { return last_body_; }
  QString lastChatId() const { return last_chat_; }
  int shownCount() const { return shown_; }

 public slots:
  // `window_active_on_chat`: the user is looking at this chat right now.
  void notify(const QString& chat_id, const QString& title, const QString& preview,
              bool window_active_on_chat);
  // A friend request or group invite (`kind` "friend" / "group"); a click opens the requests.
  void notifyRequest(const QString& kind, const QString& title);
  void activateLast();  // as if the notification was clicked

 signals:
  void chatRequested(const QString& chat_id);
  void requestsRequested();
  void showWindowRequested();
  void quitRequested();

 private:
  AppSettings* settings_;
  QSystemTrayIcon* tray_ = nullptr;
  QMenu* menu_ = nullptr;
  QString last_title_, last_body_, last_chat_;
  bool last_is_request_ = false;
  int shown_ = 0;
};

}  // namespace ui
}  // namespace secchats::desktop
