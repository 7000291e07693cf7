#include "widgets/image_viewer.hpp"

#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QImageWriter>
#include <QLabel>
#include <QPainter>
#include <QPushButton>
#include <QScrollArea>
#include <QShortcut>
#include <QVBoxLayout>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>

#include "widgets/inline_message.hpp"

namespace secchats::desktop {
namespace {

constexpr double kMinZoom = 0.05;
constexpr double kMaxZoom = 16.0;
constexpr double kZoomStep = 1.25;

}  // namespace

ImageViewer::ImageViewer(QWidget* parent) : QDialog(parent) {
  setWindowTitle(tr("Image"));
  auto* layout = new QVBoxLayout(this);

  scroll_ = new QScrollArea(this);
  scroll_->setAlignment(Qt::AlignCenter);
  scroll_->setAccessibleName(tr("Image view"));
  scroll_->setWidgetResizable(false);
  view_ = new QLabel(scroll_);
  view_->setAlignment(Qt::AlignCenter);
  view_->setAccessibleName(tr("Image"));
  scroll_->setWidget(view_);
  scroll_->viewport()->installEventFilter(this);
  layout->addWidget(scroll_, 1);

  message_ = new InlineMessage(this);
  layout->addWidget(message_);

  auto* row = new QHBoxLayout;
  zoom_out_ = new QPushButton(tr("Zoom &out"), this);
  zoom_out_->setAccessibleName(tr("Zoom out"));
  zoom_in_ = new QPushButton(tr("Zoom &in"), this);
  zoom_in_->setAccessibleName(tr("Zoom in"));
  fit_button_ = new QPushButton(tr("&Fit to window"), this);
  fit_button_->setAccessibleName(tr("Fit to window"));
  save_ = new QPushButton(tr("&Save…"), this);
  save_->setAccessibleName(tr("Save image"));
  auto* close = new QPushButton(tr("Close"), this);
  close->setAccessibleName(tr("Close"));
  for (QPushButton* b : {zoom_out_, zoom_in_, fit_button_, save_, close}) {
    b->setAutoDefault(false);
  }
  row->addWidget(zoom_out_);
  row->addWidget(zoom_in_);
  row->addWidget(fit_button_);
  row->addStretch(1);
  row->addWidget(save_);
  row->addWidget(close);
  layout->addLayout(row);

  connect(zoom_in_, &QPushButton::clicked, this, &ImageViewer::zoomIn);
  connect(zoom_out_, &QPushButton::clicked, this, &ImageViewer::zoomOut);
  connect(fit_button_, &QPushButton::clicked, this, &ImageViewer::fitToWindow);
  connect(save_, &QPushButton::clicked, this, &ImageViewer::saveAs);
  connect(close, &QPushButton::clicked, this, &QDialog::reject);

  // "+"/"-" alone and the platform's zoom keys (Ctrl++ / Ctrl+-).
  const auto shortcut = [this](const QKeySequence& keys, void (ImageViewer::*slot)()) {
    auto* s = new QShortcut(keys, this);
    connect(s, &QShortcut::activated, this, slot);
  };
  shortcut(QKeySequence::ZoomIn, &ImageViewer::zoomIn);
  shortcut(QKeySequence(Qt::Key_Plus), &ImageViewer::zoomIn);
  shortcut(QKeySequence(Qt::Key_Equal), &ImageViewer::zoomIn);
  shortcut(QKeySequence::ZoomOut, &ImageViewer::zoomOut);
  shortcut(QKeySequence(Qt::Key_Minus), &ImageViewer::zoomOut);
  shortcut(QKeySequence(Qt::CTRL | Qt::Key_0), &ImageViewer::fitToWindow);
  shortcut(QKeySequence::Save, &ImageViewer::saveAs);

  const int em = fontMetrics().height();
  setMinimumSize(em * 20, em * 15);
  resize(em * 48, em * 36);
}

void ImageViewer::setImage(const QImage& image, const QString& suggested_name) {
  image_ = image;
  suggested_name_ = suggested_name;
  message_->clearMessage();
  save_->setEnabled(!image.isNull());
  fit_ = true;
  render();
}

double ImageViewer::fit_zoom() const {
  if (image_.isNull()) return 1.0;
  const QSize room = scroll_->viewport()->size() - QSize(2, 2);
  const double fit =
      std::min(double(room.width()) / image_.width(), double(room.height()) / image_.height());
  // Fitting never enlarges: a small image is shown at its own size, crisp.
  return std::clamp(std::min(fit, 1.0), kMinZoom, kMaxZoom);
}

void ImageViewer::set_zoom(double zoom) {
  fit_ = false;
  zoom_ = std::clamp(zoom, kMinZoom, kMaxZoom);
  render();
}

void ImageViewer::zoomIn() {
  set_zoom(zoom_ * kZoomStep);
}
void ImageViewer::zoomOut() {
  set_zoom(zoom_ / kZoomStep);
}

void ImageViewer::fitToWindow() {
  fit_ = true;
  render();
}

void ImageViewer::render() {
  if (image_.isNull()) {
    view_->clear();
    view_->resize(0, 0);
    return;
  }
  if (fit_) zoom_ = fit_zoom();
  const QSize logical(std::max(1, int(std::lround(image_.width() * zoom_))),
                      std::max(1, int(std::lround(image_.height() * zoom_))));
  const qreal dpr = devicePixelRatioF();
  QImage scaled = image_.scaled(logical * dpr, Qt::KeepAspectRatio,
                                zoom_ >= 2.0 ? Qt::FastTransformation : Qt::SmoothTransformation);
  scaled.setDevicePixelRatio(dpr);
  view_->setPixmap(QPixmap::fromImage(scaled));
  view_->resize(logical);
  zoom_in_->setEnabled(zoom_ < kMaxZoom);
  zoom_out_->setEnabled(zoom_ > kMinZoom);
}

void ImageViewer::resizeEvent(QResizeEvent* event) {
  QDialog::resizeEvent(event);
  if (fit_) render();
}

bool ImageViewer::eventFilter(QObject* watched, QEvent* event) {
  // The viewport learns its size after the dialog's own resize: fit again then.
  if (watched == scroll_->viewport() && event->type() == QEvent::Resize && fit_) render();
  if (watched == scroll_->viewport() && event->type() == QEvent::Wheel) {
    auto* wheel = static_cast<QWheelEvent*>(event);
    if (wheel->modifiers() & Qt::ControlModifier) {
      const int steps = wheel->angleDelta().y();
      if (steps > 0) zoomIn();
      if (steps < 0) zoomOut();
      return true;
    }
  }
  return QDialog::eventFilter(watched, event);
}

void ImageViewer::showError(const QString& text) {
  message_->showError(text);
}

void ImageViewer::saveAs() {
  if (image_.isNull()) return;
  const QString start =
      QDir(QDir::homePath())
          .filePath(suggested_name_.isEmpty() ? tr("image.png") : suggested_name_);
  const QString path = QFileDialog::getSaveFileName(
      this, tr("Save image"), start, tr("PNG image (*.png);;JPEG image (*.jpg *.jpeg)"));
  if (!path.isEmpty()) saveTo(path);
}

bool ImageViewer::saveTo(const QString& path) {
  const QString suffix = QFileInfo(path).suffix().toLower();
  QByteArray format = "png";
  if (suffix == QLatin1String("jpg") || suffix == QLatin1String("jpeg")) format = "jpeg";
  QImageWriter writer(path, format);
  if (format == "jpeg") writer.setQuality(92);
  // JPEG has no alpha: flatten on white rather than on black.
  QImage out = image_;
  if (format == "jpeg" && out.hasAlphaChannel()) {
    QImage flat(out.size(), QImage::Format_RGB32);
    flat.fill(Qt::white);
    QPainter(&flat).drawImage(0, 0, out);
    out = flat;
  }
  if (!writer.write(out)) {
    message_->showError(tr("The image could not be saved: %1").arg(writer.errorString()));
    return false;
  }
  message_->showInfo(tr("Saved."));
  emit saved(path);
  return true;
}

}  // namespace secchats::desktop
