// The message box under a chat: Enter sends, Shift+Enter starts a new line, Tab moves focus on
// (keyboard users can leave the box). Pasting an image (Ctrl+V with image data on the
// clipboard) or image files hands them to the chat instead of inserting them as text.
#pragma once

#include <QByteArray>
#include <QPlainTextEdit>
#include <QStringList>

namespace secchats::desktop::ui {

class Composer : public QPlainTextEdit {
  Q_OBJECT
 public:
  explicit Composer(QWidget* parent = nullptr);

  // Local files among `urls` that Qt can read as images (by content, not only the name).
  static QStringList imageFiles(const QList<QUrl>& urls);

 signals:
  void sendRequested();  // Enter
  void imageFilesPasted(const QStringList& paths);
  void imageDataPasted(const QByteArray& png);  // clipboard image, encoded as PNG

 protected:
  void keyPressEvent(QKeyEvent* event) override;
  bool canInsertFromMimeData(const QMimeData* source) const override;
  void insertFromMimeData(const QMimeData* source) override;
};

}  // namespace secchats::desktop::ui
