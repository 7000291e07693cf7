// The message box under a chat: Enter sends, Shift+Enter starts a new line, Tab moves focus on
// (keyboard users can leave the box). Its height follows its content: kMinLines lines of the
// current font when short, growing line by line (wrapped lines count) up to kMaxLines, then it
// scrolls. Pasting an image (Ctrl+V with image data on the
// clipboard) or image files hands them to the chat instead of inserting them as text.
#pragma once

#include <QByteArray>
#include <QPlainTextEdit>
#include <QStringList>

namespace secchats::desktop::ui {

class Composer : public QPlainTextEdit {
  Q_OBJECT
 public:
  static constexpr int kMinLines = 2;
  static constexpr int kMaxLines = 8;

  explicit Composer(QWidget* parent = nullptr);

  // Visual lines the text takes at the current width (wrapped lines included), at least 1.
  int visualLineCount() const;
  // Height in pixels for `lines` lines of text, frame and document margins included.
  int heightForLines(int lines) const;

  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;

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
  void resizeEvent(QResizeEvent* event) override;
  void changeEvent(QEvent* event) override;

 private:
  void updateHeight();

  int lines_ = 1;
};

}  // namespace secchats::desktop::ui
