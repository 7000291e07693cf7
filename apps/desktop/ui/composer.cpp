#include "composer.hpp"

#include <QBuffer>
#include <QFileInfo>
#include <QImage>
#include <QImageReader>
#include <QKeyEvent>
#include <QMimeData>
#include <QTextBlock>
#include <QTextLayout>
#include <QUrl>

#include <algorithm>
#include <cmath>

namespace secchats::desktop::ui {

Composer::Composer(QWidget* parent) : QPlainTextEdit(parent) {
  setTabChangesFocus(true);
  setObjectName(QStringLiteral("composer"));
  setAccessibleName(tr("Message"));
  setPlaceholderText(tr("Write a message — Enter sends, Shift+Enter adds a line"));
  // The layout takes the height from sizeHint(): fixed vertically, re-measured on every edit.
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
  setVerticalScrollBarPolicy(Qt::ScrollBarAsNeeded);
  connect(this, &QPlainTextEdit::textChanged, this, &Composer::updateHeight);
  updateHeight();
}

int Composer::visualLineCount() const {
  // QPlainTextDocumentLayout lays blocks out lazily (only the visible ones), so its line count
  // lags behind; lay each block out here at the viewport's text width instead. Messages are
  // short, so this is cheap.
  const qreal margin = document()->documentMargin();
  const qreal width = std::max<qreal>(viewport()->width() - 2 * margin, 1);
  const QTextOption option = document()->defaultTextOption();
  int lines = 0;
  for (QTextBlock block = document()->begin(); block.isValid(); block = block.next()) {
    QTextLayout layout(block.text(), font());
    layout.setTextOption(option);
    layout.beginLayout();
    int in_block = 0;
    for (QTextLine line = layout.createLine(); line.isValid(); line = layout.createLine()) {
      line.setLineWidth(width);
      ++in_block;
    }
    layout.endLayout();
    lines += std::max(in_block, 1);
    if (lines > kMaxLines) break;  // enough to know it scrolls
  }
  return std::max(lines, 1);
}

int Composer::heightForLines(int lines) const {
  const QMargins m = viewportMargins();
  return lines * fontMetrics().lineSpacing() + int(std::ceil(2 * document()->documentMargin())) +
         2 * frameWidth() + m.top() + m.bottom();
}

QSize Composer::sizeHint() const {
  const int lines = std::clamp(lines_, kMinLines, kMaxLines);
  return {QPlainTextEdit::sizeHint().width(), heightForLines(lines)};
}

QSize Composer::minimumSizeHint() const {
  return {QPlainTextEdit::minimumSizeHint().width(), heightForLines(kMinLines)};
}

void Composer::updateHeight() {
  const int lines = visualLineCount();
  if (lines == lines_) return;
  lines_ = lines;
  updateGeometry();
}

void Composer::resizeEvent(QResizeEvent* event) {
  QPlainTextEdit::resizeEvent(event);
  updateHeight();  // a new width can wrap the text differently
}

void Composer::changeEvent(QEvent* event) {
  QPlainTextEdit::changeEvent(event);
  if (event->type() == QEvent::FontChange || event->type() == QEvent::StyleChange) {
    lines_ = -1;  // force a new measure: the line height changed
    updateHeight();
  }
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
