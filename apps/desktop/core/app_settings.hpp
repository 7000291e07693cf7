// The app's own preferences (not the account: that lives in the encrypted store), kept with
// QSettings under the organization "SecureChats", application "secchats-desktop".
#pragma once

#include <QByteArray>
#include <QSettings>
#include <QString>
#include <memory>

namespace secchats::desktop {

class AppSettings {
 public:
  // Default: the platform's user settings. A file path (tests): an INI file there.
  AppSettings();
  explicit AppSettings(const QString& ini_path);
  ~AppSettings();

  // "system" (follow the desktop), "light" or "dark". Anything else reads as "system".
  QString theme() const;
  void setTheme(const QString& theme);

  // Desktop notifications for new messages and requests (default on).
  bool notificationsEnabled() const;
  void setNotificationsEnabled(bool on);
  // Whether a notification shows the sender and text (default off: "New message" only, so
  // a screen share or a locked screen does not show the content).
  bool notificationContentShown() const;
  void setNotificationContentShown(bool shown);

  // QWidget::saveGeometry()/restoreGeometry() blobs; empty until saved.
  QByteArray windowGeometry() const;
  void setWindowGeometry(const QByteArray& geometry);
  QByteArray windowState() const;  // e.g. a splitter's saveState()
  void setWindowState(const QByteArray& state);

  // The account directory last used ("" = the default ~/.local/share/secchats).
  QString home() const;
  void setHome(const QString& home);

  // Where "Open" on an attachment downloads it (default: the desktop's download folder, else
  // the home directory). "Save as…" asks each time instead.
  QString downloadDirectory() const;
  void setDownloadDirectory(const QString& dir);

  void sync();  // writes pending changes now (QSettings also does it on destruction)

 private:
  std::unique_ptr<QSettings> settings_;
};

}  // namespace secchats::desktop
