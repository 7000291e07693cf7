// main() for a Qt Test executable of the desktop app: headless (offscreen platform, forced so a
// developer's display never gets windows), one QApplication, then the test class.
#pragma once

#include <QApplication>
#include <QtTest/QtTest>

#define SECCHATS_DESKTOP_QTEST_MAIN(TestClass) \
  int main(int argc, char** argv) {            \
    qputenv("QT_QPA_PLATFORM", "offscreen");   \
    qputenv("QT_ACCESSIBILITY", "1");          \
    QApplication app(argc, argv);              \
    app.setAttribute(Qt::AA_Use96Dpi, true);   \
    TestClass tc;                              \
    return QTest::qExec(&tc, argc, argv);      \
  }
