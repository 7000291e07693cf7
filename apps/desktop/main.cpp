// secchats-desktop: only wiring. Parses --home, applies the saved theme, shows the MainWindow.
#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/app_settings.hpp"
#include "core/session.hpp"
#include "ui/main_window.hpp"
#include "widgets/theme.hpp"

int main(int argc, char** argv) {
  // Without a display Qt aborts with a page about platform plugins; say it in one line instead
  // (exit 2, as for a usage error). QT_QPA_PLATFORM=offscreen still runs it headless.
  const bool help =
      argc > 1 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0);
  if (!help && std::getenv("DISPLAY") == nullptr && std::getenv("WAYLAND_DISPLAY") == nullptr &&
      std::getenv("QT_QPA_PLATFORM") == nullptr) {
    std::fputs(
        "secchats-desktop: no display (DISPLAY and WAYLAND_DISPLAY are unset); start it "
        "from a desktop session, or use the secchats CLI\n",
        stderr);
    return 2;
  }
  QApplication app(argc, argv);
  QApplication::setApplicationName(QStringLiteral("Secure Chats"));
  QApplication::setOrganizationName(QStringLiteral("secchats"));

  QCommandLineParser parser;
  parser.setApplicationDescription(
      QApplication::translate("main", "Secure Chats: end-to-end encrypted messenger"));
  parser.addHelpOption();
  const QCommandLineOption home_option(
      QStringLiteral("home"),
      QApplication::translate("main", "Account directory (default %1, as the CLI's).")
          .arg(QDir::toNativeSeparators(secchats::desktop::Session::defaultHome())),
      QApplication::translate("main", "DIR"), secchats::desktop::Session::defaultHome());
  parser.addOption(home_option);
  parser.process(app);

  secchats::desktop::AppSettings settings;
  // Before any palette change, so that "System" can later return to the platform's look.
  secchats::desktop::applyTheme(app, secchats::desktop::themeChoiceFromName(settings.theme()));

  secchats::desktop::Session session(parser.value(home_option));
  secchats::desktop::ui::MainWindow window(&session, &settings);
  window.show();
  return app.exec();
}
