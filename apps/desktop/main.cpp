// secchats-desktop: only wiring. Parses --home, applies the saved theme, shows the MainWindow.
#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <cstdio>
#include <cstdlib>

#include "core/app_settings.hpp"
#include "core/session.hpp"
#include "ui/main_window.hpp"
#include "widgets/theme.hpp"

namespace {

// The options are read before any window exists: --help and a bad option need no display.
QString parse_home(const QCoreApplication& app) {
  QCommandLineParser parser;
  parser.setApplicationDescription(
      QCoreApplication::translate("main", "Secure Chats: end-to-end encrypted messenger"));
  parser.addHelpOption();
  const QCommandLineOption home_option(
      QStringLiteral("home"),
      QCoreApplication::translate("main", "Account directory (default %1, as the CLI's).")
          .arg(QDir::toNativeSeparators(secchats::desktop::Session::defaultHome())),
      QCoreApplication::translate("main", "DIR"), secchats::desktop::Session::defaultHome());
  parser.addOption(home_option);
  parser.process(app);  // prints help or the error and exits for --help and bad options
  return parser.value(home_option);
}

bool have_display() {
  return std::getenv("DISPLAY") != nullptr || std::getenv("WAYLAND_DISPLAY") != nullptr ||
         std::getenv("QT_QPA_PLATFORM") != nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  QString home;
  {
    QCoreApplication options_only(argc, argv);
    home = parse_home(options_only);
  }
  // Without a display Qt aborts with a page about platform plugins; say it in one line instead
  // (exit 2, as for a usage error). QT_QPA_PLATFORM=offscreen still runs it headless.
  if (!have_display()) {
    std::fputs(
        "secchats-desktop: no display (DISPLAY and WAYLAND_DISPLAY are unset); start it "
        "from a desktop session, or use the secchats CLI\n",
        stderr);
    return 2;
  }
  // Voice messages: Qt 6.4's GStreamer media backend crashes building its pipeline where GStreamer
  // plugins are missing (a segfault, not an error), while its ffmpeg backend (shipped in the
  // same Debian package) plays and records Ogg/Opus with nothing else installed. A user's own
  // QT_MEDIA_BACKEND still wins.
  if (qEnvironmentVariableIsEmpty("QT_MEDIA_BACKEND")) qputenv("QT_MEDIA_BACKEND", "ffmpeg");
  QApplication app(argc, argv);
  QApplication::setApplicationName(QStringLiteral("Secure Chats"));
  QApplication::setOrganizationName(QStringLiteral("secchats"));

  secchats::desktop::AppSettings settings;
  // Before any palette change, so that "System" can later return to the platform's look.
  secchats::desktop::applyTheme(app, secchats::desktop::themeChoiceFromName(settings.theme()));

  secchats::desktop::Session session(home);
  secchats::desktop::ui::MainWindow window(&session, &settings);
  window.show();
  return app.exec();
}
