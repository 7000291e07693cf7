#include "testing/qt_test_main.hpp"
class T : public QObject {
  Q_OBJECT
};
SECCHATS_DESKTOP_QTEST_MAIN(T)
#include "a11y_widgets_test.moc"
