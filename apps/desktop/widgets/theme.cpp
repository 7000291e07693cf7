#include "widgets/theme.hpp"

#include <QApplication>
#include <QStyle>
#include <QStyleFactory>

namespace secchats::desktop {
namespace {

struct PlatformLook {
  QString style_name;
  QPalette palette;
};

// The first applyTheme call remembers what the platform chose, so "System" can go back to it.
const PlatformLook& platform_look(QApplication& app) {
  static const PlatformLook look{app.style() ? app.style()->name() : QString(), app.palette()};
  return look;
}

}  // namespace

QString themeChoiceName(ThemeChoice choice) {
  switch (choice) {
    case ThemeChoice::kLight:
      return QStringLiteral("light");
    case ThemeChoice::kDark:
      return QStringLiteral("dark");
    case ThemeChoice::kSystem:
      break;
  }
  return QStringLiteral("system");
}

ThemeChoice themeChoiceFromName(const QString& name) {
  if (name == QLatin1String("light")) return ThemeChoice::kLight;
  if (name == QLatin1String("dark")) return ThemeChoice::kDark;
  return ThemeChoice::kSystem;
}

QPalette lightPalette() {
  QPalette p;
  p.setColor(QPalette::Window, QColor(0xef, 0xef, 0xef));
  p.setColor(QPalette::WindowText, Qt::black);
  p.setColor(QPalette::Base, Qt::white);
  p.setColor(QPalette::AlternateBase, QColor(0xf5, 0xf5, 0xf5));
  p.setColor(QPalette::ToolTipBase, QColor(0xff, 0xff, 0xdc));
  p.setColor(QPalette::ToolTipText, Qt::black);
  p.setColor(QPalette::PlaceholderText, QColor(0x70, 0x70, 0x70));
  p.setColor(QPalette::Text, Qt::black);
  p.setColor(QPalette::Button, QColor(0xef, 0xef, 0xef));
  p.setColor(QPalette::ButtonText, Qt::black);
  p.setColor(QPalette::BrightText, Qt::red);
  p.setColor(QPalette::Link, QColor(0x00, 0x55, 0xb0));
  p.setColor(QPalette::Highlight, QColor(0x30, 0x8c, 0xc6));
  p.setColor(QPalette::HighlightedText, Qt::white);
  p.setColor(QPalette::Disabled, QPalette::Text, QColor(0x90, 0x90, 0x90));
  p.setColor(QPalette::Disabled, QPalette::WindowText, QColor(0x90, 0x90, 0x90));
  p.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(0x90, 0x90, 0x90));
  return p;
}

QPalette darkPalette() {
  QPalette p;
  const QColor window(0x2b, 0x2b, 0x2b);
  const QColor text(0xe8, 0xe8, 0xe8);
  p.setColor(QPalette::Window, window);
  p.setColor(QPalette::WindowText, text);
  p.setColor(QPalette::Base, QColor(0x1e, 0x1e, 0x1e));
  p.setColor(QPalette::AlternateBase, QColor(0x26, 0x26, 0x26));
  p.setColor(QPalette::ToolTipBase, QColor(0x3a, 0x3a, 0x3a));
  p.setColor(QPalette::ToolTipText, text);
  p.setColor(QPalette::PlaceholderText, QColor(0x9a, 0x9a, 0x9a));
  p.setColor(QPalette::Text, text);
  p.setColor(QPalette::Button, QColor(0x35, 0x35, 0x35));
  p.setColor(QPalette::ButtonText, text);
  p.setColor(QPalette::BrightText, QColor(0xff, 0x6b, 0x6b));
  p.setColor(QPalette::Link, QColor(0x6c, 0xb4, 0xff));
  p.setColor(QPalette::Highlight, QColor(0x2f, 0x6f, 0xb0));
  p.setColor(QPalette::HighlightedText, Qt::white);
  p.setColor(QPalette::Disabled, QPalette::Text, QColor(0x80, 0x80, 0x80));
  p.setColor(QPalette::Disabled, QPalette::WindowText, QColor(0x80, 0x80, 0x80));
  p.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(0x80, 0x80, 0x80));
  return p;
}

bool isDarkPalette(const QPalette& palette) {
  return palette.color(QPalette::Window).lightness() < 128;
}

void applyTheme(QApplication& app, ThemeChoice choice) {
  const PlatformLook& look = platform_look(app);
  if (choice == ThemeChoice::kSystem) {
    if (QStyle* style = QStyleFactory::create(look.style_name)) app.setStyle(style);
    app.setPalette(look.palette);
    return;
  }
  // Fusion draws every control from the palette, so both palettes look right on every platform.
  if (QStyle* fusion = QStyleFactory::create(QStringLiteral("Fusion"))) app.setStyle(fusion);
  app.setPalette(choice == ThemeChoice::kDark ? darkPalette() : lightPalette());
}

}  // namespace secchats::desktop
