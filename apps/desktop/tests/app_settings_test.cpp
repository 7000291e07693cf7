#include <gtest/gtest.h>

#include <QTemporaryDir>

#include "core/app_settings.hpp"

namespace secchats::desktop {
namespace {

TEST(AppSettings, DefaultsAndPersistence) {
  QTemporaryDir dir;
  ASSERT_TRUE(dir.isValid());
  const QString ini = dir.filePath("settings.ini");
  {
    AppSettings s(ini);
    EXPECT_EQ(s.theme(), "system");
    EXPECT_TRUE(s.notificationsEnabled());
    EXPECT_FALSE(s.notificationContentShown());  // private by default
    EXPECT_TRUE(s.windowGeometry().isEmpty());
    s.setTheme("dark");
    s.setNotificationsEnabled(false);
    s.setNotificationContentShown(true);
    s.setWindowGeometry(QByteArray("\x01\x02\x03", 3));
    s.setHome("/tmp/somewhere");
  }
  AppSettings again(ini);
  EXPECT_EQ(again.theme(), "dark");
  EXPECT_FALSE(again.notificationsEnabled());
  EXPECT_TRUE(again.notificationContentShown());
  EXPECT_EQ(again.windowGeometry(), QByteArray("\x01\x02\x03", 3));
  EXPECT_EQ(again.home(), "/tmp/somewhere");
  again.setTheme("purple");  // unknown: falls back to following the system
  EXPECT_EQ(again.theme(), "system");
}

}  // namespace
}  // namespace secchats::desktop
