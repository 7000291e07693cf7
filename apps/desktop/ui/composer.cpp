#include "composer.hpp"

#include <QBuffer>
#include <QFileInfo>
#include <QImage>
#include <QImageReader>
#include <QKeyEvent>
#include <QMimeData>
#include <QUrl>

namespace secchats::desktop::ui {

Composer::Composer(QWidget* parent) : QPlainTextEdit(parent) {
  setTabChangesFocus(true);
  setObjectName(QStringLiteral("composer"));
  setAccessibleName(tr("Message"));
  setPlaceholderText(tr("Write a message — Enter sends, Shift+Enter adds a line"));
  // About three lines high; it scrolls beyond that.
  const int line = fontMetrics().lineSpacing();
  setMinimumHeight(line * 2 + 2 * frameWidth() + 8);
  setMaximumHeight(line * 5 + 2 * frameWidth() + 8);
}

QStringList Composer::imageFiles(const QList<QUrl>& urls) {
  QStringList out;
  for (const QUrl& url : urls) {
    if (!url.isLocalFile()) continue;
    const QString path = url.toLocalFile();
    if (!QFileInfo(path).isFile()) continue;
    QImageReader reader(path);
    if (reader.canRead()) out << path;
  }
  return out;
}

void Composer::keyPressEvent(QKeyEvent* event) {
  const bool enter = event->key() == Qt::Key_Return || event->key() == Qt::Key_Enter;
  if (enter && !(event->modifiers() & Qt::ShiftModifier)) {
    emit sendRequested();
    event->accept();
    return;
  }
  if (enter) {
    insertPlainText(QStringLiteral("\n"));
    event->accept();
    return;
  }
  QPlainTextEdit::keyPressEvent(event);
}

bool Composer::canInsertFromMimeData(const QMimeData* source) const {
  return source->hasImage() || source->hasUrls() || QPlainTextEdit::canInsertFromMimeData(source);
}

void Composer::insertFromMimeData(const QMimeData* source) {
  if (source->hasUrls()) {
    const QStringList files = imageFiles(source->urls());
    if (!files.isEmpty()) {
      emit imageFilesPasted(files);
      return;
    }
  }
  if (source->hasImage()) {
    const QImage image = qvariant_cast<QImage>(source->imageData());
    if (!image.isNull()) {
      QByteArray png;
      QBuffer buffer(&png);
      buffer.open(QIODevice::WriteOnly);
      image.save(&buffer, "PNG");
      emit imageDataPasted(png);
      return;
    }
  }
  // Text only: never rich text (the box is plain text anyway).
  if (source->hasText()) insertPlainText(source->text());
}

}  // namespace secchats::desktop::ui
