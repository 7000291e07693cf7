#include "photo_opener.hpp"

#include <QWidget>

#include "widgets/image_viewer.hpp"

namespace secchats::desktop::ui {

void openPhotoViewer(QWidget* parent, const QImage& image, qint64 key) {
  const QString name = QStringLiteral("imageViewer_%1").arg(key);
  if (auto* open = parent->findChild<ImageViewer*>(name, Qt::FindDirectChildrenOnly)) {
    open->raise();
    open->activateWindow();
    return;
  }
  auto* viewer = new ImageViewer(parent);
  viewer->setObjectName(name);
  viewer->setAttribute(Qt::WA_DeleteOnClose);
  viewer->setImage(image, QStringLiteral("photo-%1.png").arg(key));
  viewer->show();  // non-modal: the chat stays usable
}

}  // namespace secchats::desktop::ui
