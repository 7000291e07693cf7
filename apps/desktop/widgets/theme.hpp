// Light/dark appearance. Qt 6.4 has no colour-scheme API, so "System" keeps the platform's own
// palette and style, and isDarkPalette() tells dark from light by the window colour's lightness.
#pragma once

#include <QPalette>
#include <QString>

class QApplication;

namespace secchats::desktop {

enum class ThemeChoice { kSystem, kLight, kDark };

// Stable names for settings files: "system", "light", "dark".
QString themeChoiceName(ThemeChoice choice);
ThemeChoice themeChoiceFromName(const QString& name);  // unknown names: kSystem

QPalette lightPalette();
QPalette darkPalette();
bool isDarkPalette(const QPalette& palette);

// System: restores the style and palette the platform gave the application at startup (call
// applyTheme once early, before any other palette change, so that the first call records them).
// Light/Dark: the Fusion style with lightPalette()/darkPalette().
void applyTheme(QApplication& app, ThemeChoice choice);

}  // namespace secchats::desktop
