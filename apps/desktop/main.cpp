// secchats-desktop: only wiring. The window comes from ui/ (MainWindow); until that part is
// built this shows a placeholder so the executable and its Session can be started.
#include <QApplication>
#include <QLabel>

#include "core/session.hpp"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setOrganizationName(QStringLiteral("SecureChats"));
  QApplication::setApplicationName(QStringLiteral("secchats-desktop"));
  secchats::desktop::Session session(secchats::desktop::Session::defaultHome());
  QLabel placeholder(QObject::tr("Secure Chats: the main window is not built yet."));
  placeholder.setTextFormat(Qt::PlainText);
  placeholder.setAccessibleName(QObject::tr("Placeholder"));
  placeholder.show();
  return app.exec();
}
