// Opens a received or sent photo full size in the widgets' ImageViewer (which offers Save).
// One viewer per photo: asking again for the same photo raises the open one.
#pragma once

#include <QImage>

class QWidget;

namespace secchats::desktop::ui {

// `key`: the message's local id, so Enter and a click on the same photo open one window.
void openPhotoViewer(QWidget* parent, const QImage& image, qint64 key);

}  // namespace secchats::desktop::ui
