// Draws a QR code for a text (secchats::qr::encode_matrix) crisp at any size: whole device pixels
// per module, a 4-module white quiet zone, dark modules black even in a dark theme (scanners
// expect dark on light). Square: heightForWidth(w) == w.
#pragma once

#include <QImage>
#include <QString>
#include <QWidget>

namespace secchats::desktop {

class QrCodeWidget : public QWidget {
  Q_OBJECT
 public:
  static constexpr int kQuietZoneModules = 4;

  explicit QrCodeWidget(QWidget* parent = nullptr);

  // Encodes `text` (UTF-8, error correction Q). Returns false and keeps no code when the text is
  // empty or too long for a QR code; errorString() then says why. The widget then paints nothing.
  bool setText(const QString& text);
  QString text() const { return text_; }
  bool hasCode() const { return modules_ > 0; }
  QString errorString() const { return error_; }
  // Modules per side without the quiet zone (0 without a code).
  int moduleCount() const { return modules_; }

  // Sets the accessible name "QR code of <what>" (e.g. tr("your user ID")).
  void setDescription(const QString& what);

  // The code as an image for saving: `module_px` pixels per module (>= 1), quiet zone included,
  // 8-bit grayscale, black on white. A null QImage without a code.
  QImage toImage(int module_px) const;

  bool hasHeightForWidth() const override { return true; }
  int heightForWidth(int w) const override { return w; }
  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  QString text_;
  QString error_;
  QImage unit_;  // one pixel per module, quiet zone included
  int modules_ = 0;
};

}  // namespace secchats::desktop
