#include "app_settings.hpp"

#include <QDir>
#include <QStandardPaths>

namespace secchats::desktop {
namespace {
constexpr auto kTheme = "ui/theme";
constexpr auto kNotifications = "notifications/enabled";
constexpr auto kNotificationContent = "notifications/showContent";
constexpr auto kGeometry = "window/geometry";
constexpr auto kState = "window/state";
constexpr auto kHome = "account/home";
constexpr auto kDownloads = "attachments/downloadDirectory";
}  // namespace

AppSettings::AppSettings()
    : settings_(std::make_unique<QSettings>(QSettings::UserScope, QStringLiteral("SecureChats"),
                                            QStringLiteral("secchats-desktop"))) {}

AppSettings::AppSettings(const QString& ini_path)
    : settings_(std::make_unique<QSettings>(ini_path, QSettings::IniFormat)) {}

AppSettings::~AppSettings() = default;

QString AppSettings::theme() const {
  const QString t = settings_->value(kTheme).toString();
  return t == QLatin1String("light") || t == QLatin1String("dark") ? t : QStringLiteral("system");
}

void AppSettings::setTheme(const QString& theme) {
  const bool known = theme == QLatin1String("light") || theme == QLatin1String("dark");
  settings_->setValue(kTheme, known ? theme : QStringLiteral("system"));
}

bool AppSettings::notificationsEnabled() const {
  return settings_->value(kNotifications, true).toBool();
}
void AppSettings::setNotificationsEnabled(bool on) {
  settings_->setValue(kNotifications, on);
}

bool AppSettings::notificationContentShown() const {
  return settings_->value(kNotificationContent, false).toBool();
}
void AppSettings::setNotificationContentShown(bool shown) {
  settings_->setValue(kNotificationContent, shown);
}

QByteArray AppSettings::windowGeometry() const {
  return settings_->value(kGeometry).toByteArray();
}
void AppSettings::setWindowGeometry(const QByteArray& geometry) {
  settings_->setValue(kGeometry, geometry);
}

QByteArray AppSettings::windowState() const {
  return settings_->value(kState).toByteArray();
}
void AppSettings::setWindowState(const QByteArray& state) {
  settings_->setValue(kState, state);
}

QString AppSettings::home() const {
  return settings_->value(kHome).toString();
}
void AppSettings::setHome(const QString& home) {
  settings_->setValue(kHome, home);
}

void AppSettings::sync() {
  settings_->sync();
}

QString AppSettings::downloadDirectory() const {
  const QString chosen = settings_->value(kDownloads).toString();
  if (!chosen.isEmpty()) return chosen;
  const QString downloads = QStandardPaths::writableLocation(QStandardPaths::DownloadLocation);
  return downloads.isEmpty() ? QDir::homePath() : downloads;
}

void AppSettings::setDownloadDirectory(const QString& dir) {
  settings_->setValue(kDownloads, dir);
}

}  // namespace secchats::desktop
