// Shows one image fit to the window; Ctrl+wheel and +/- (Ctrl++ / Ctrl+-) zoom, Ctrl+0 fits
// again. Save… writes PNG or JPEG (by the file name's suffix; PNG without one) and says "Saved"
// only when the file was written.
#pragma once

#include <QDialog>
#include <QImage>
#include <QString>

class QLabel;
class QPushButton;
class QScrollArea;

namespace secchats::desktop {

class InlineMessage;

class ImageViewer : public QDialog {
  Q_OBJECT
 public:
  explicit ImageViewer(QWidget* parent = nullptr);

  // `suggested_name`: the default file name offered by Save… (plain, no directory).
  void setImage(const QImage& image, const QString& suggested_name = {});
  QImage image() const { return image_; }
  // Display scale: 1.0 = one image pixel per logical pixel.
  double zoom() const { return zoom_; }
  bool isFitToWindow() const { return fit_; }

  // Writes the image to `path`; false (and an inline error) if that failed.
  bool saveTo(const QString& path);

 signals:
  void saved(const QString& path);

 public slots:
  void zoomIn();
  void zoomOut();
  void fitToWindow();
  void saveAs();  // asks for a file name, then saveTo()
  void showError(const QString& text);

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;

 private:
  void set_zoom(double zoom);
  void render();
  double fit_zoom() const;

  QImage image_;
  QString suggested_name_;
  double zoom_ = 1.0;
  bool fit_ = true;
  QScrollArea* scroll_ = nullptr;
  QLabel* view_ = nullptr;
  QPushButton* zoom_in_ = nullptr;
  QPushButton* zoom_out_ = nullptr;
  QPushButton* fit_button_ = nullptr;
  QPushButton* save_ = nullptr;
  InlineMessage* message_ = nullptr;
};

}  // namespace secchats::desktop
