// Reads a QR code from one of three sources: a camera (Qt Multimedia, frames decoded off the GUI
// thread about five times a second), an image file ("Open image…", any format QImage reads) or
// the clipboard ("Paste"). Emits scanned(text) once per distinct code. With an expected prefix
// set, a code of another kind gives an inline error instead of scanned().
//
// The camera runs only while the scanner is visible and stops when it is hidden or destroyed.
#pragma once

#include <QImage>
#include <QPointer>
#include <QString>
#include <QWidget>
#include <memory>
#include <optional>

class QComboBox;
class QPushButton;
class QCamera;
class QMediaCaptureSession;
class QVideoWidget;
class QVideoFrame;

namespace secchats::desktop {

class InlineMessage;

// What decodeQrImage found: the text, or a user-facing reason (translated) why there is none.
struct QrDecodeResult {
  std::optional<QString> text;
  QString error;
  explicit operator bool() const { return text.has_value(); }
};

// Decodes the first QR code in `image` (any QImage format; converted to 8-bit grayscale, large
// images scaled down first). Rotated, inverted and photographed codes are read. Safe to call
// from any thread.
QrDecodeResult decodeQrImage(const QImage& image);

class QrScanner : public QWidget {
  Q_OBJECT
 public:
  explicit QrScanner(QWidget* parent = nullptr);
  ~QrScanner() override;

  // Only codes starting with `prefix` are emitted (e.g. "SECCHATS-GROUP:1:"); `what` names the
  // expected kind for the error ("a group code"). An empty prefix accepts any code.
  void setExpectedPrefix(const QString& prefix, const QString& what = {});
  QString expectedPrefix() const { return prefix_; }

  bool cameraAvailable() const;
  bool cameraActive() const;

 signals:
  // A new code was read (once per distinct text; reset() allows the same one again).
  void scanned(const QString& text);

 public slots:
  void showError(const QString& text);
  // Forgets the codes seen so far and clears messages.
  void reset();
  // Decodes an image the user chose (file, clipboard, drop) on a worker thread.
  void scanImage(const QImage& image);
  // The camera path: a frame is decoded only if no decode is running and ~200 ms have passed
  // since the last one; other frames are dropped. Public so tests can feed frames.
  void submitFrame(const QImage& frame);
  void openImageFile();
  void pasteImage();

 protected:
  void showEvent(QShowEvent* event) override;
  void hideEvent(QHideEvent* event) override;

 private:
  void refresh_cameras();
  void start_camera();
  void stop_camera();
  void on_frame(const QVideoFrame& frame);
  // `from_user`: a file or paste (report "no code found"); camera frames stay quiet on misses.
  void decode_async(const QImage& image, bool from_user);
  void handle_result(const QrDecodeResult& result, bool from_user);

  QString prefix_;
  QString prefix_what_;
  QString last_text_;     // the last code acted on (emitted or refused), to act once per code
  QString last_refusal_;  // why last_text_ was refused ("" if it was emitted)
  QComboBox* cameras_ = nullptr;
  QVideoWidget* preview_ = nullptr;
  QPushButton* open_button_ = nullptr;
  QPushButton* paste_button_ = nullptr;
  InlineMessage* camera_status_ = nullptr;
  InlineMessage* error_ = nullptr;
  std::unique_ptr<QMediaCaptureSession> capture_;
  std::unique_ptr<QCamera> camera_;
  bool decoding_ = false;
  qint64 last_frame_ms_ = -1;
};

}  // namespace secchats::desktop
