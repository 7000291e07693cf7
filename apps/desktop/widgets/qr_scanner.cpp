#include "widgets/qr_scanner.hpp"

#include <QApplication>
#include <QCamera>
#include <QCameraDevice>
#include <QClipboard>
#include <QComboBox>
#include <QDateTime>
#include <QFileDialog>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QImageReader>
#include <QLabel>
#include <QMediaCaptureSession>
#include <QMediaDevices>
#include <QMimeData>
#include <QPushButton>
#include <QShortcut>
#include <QVBoxLayout>
#include <QVideoFrame>
#include <QVideoSink>
#include <QVideoWidget>
#include <QtConcurrent/QtConcurrentRun>
#include <cstring>
#include <vector>

#include "secchats/qr/qr.hpp"
#include "widgets/inline_message.hpp"

namespace secchats::desktop {
namespace {

QString tr_scanner(const char* text) {
  return QCoreApplication::translate("secchats::desktop::QrScanner", text);
}

// ZXing finds codes quickly in ~1 Mpx; larger photos only cost time.
constexpr int kMaxDecodeSide = 1600;
constexpr qint64 kFrameIntervalMs = 200;  // at most ~5 camera frames a second

QrDecodeResult decode_gray8(const QImage& gray) {
  const int w = gray.width();
  const int h = gray.height();
  // QImage rows may be padded; decode_gray wants them packed.
  std::vector<std::uint8_t> packed(std::size_t(w) * std::size_t(h));
  for (int y = 0; y < h; ++y) {
    std::memcpy(packed.data() + std::size_t(y) * std::size_t(w), gray.constScanLine(y),
                std::size_t(w));
  }
  auto decoded = qr::decode_gray(packed, w, h);
  if (decoded.ok()) {
    return {QString::fromUtf8(decoded->str().data(), qsizetype(decoded->size())), {}};
  }
  if (decoded.error().code() == ErrorCode::kNotFound) {
    return {std::nullopt, tr_scanner("No QR code found in the image.")};
  }
  if (decoded.error().code() == ErrorCode::kInvalidArgument) {
    return {std::nullopt, tr_scanner("The image is too large to scan.")};
  }
  return {std::nullopt, tr_scanner("The QR code could not be read.")};
}

QString kind_of(const QString& text) {
  if (text.startsWith(QLatin1String("SECCHATS-GROUP:"))) return tr_scanner("a group code");
  if (text.startsWith(QLatin1String("SECCHATS-VERIFY:"))) return tr_scanner("a safety number code");
  return {};
}

}  // namespace

QrDecodeResult decodeQrImage(const QImage& image) {
  if (image.isNull() || image.width() < 1 || image.height() < 1) {
    return {std::nullopt, tr_scanner("The image could not be read.")};
  }
  QImage gray = image.convertToFormat(QImage::Format_Grayscale8);
  const bool large = std::max(gray.width(), gray.height()) > kMaxDecodeSide;
  if (large) {
    QrDecodeResult small = decode_gray8(
        gray.scaled(kMaxDecodeSide, kMaxDecodeSide, Qt::KeepAspectRatio, Qt::SmoothTransformation));
    if (small) return small;
    // A small code in a big photo may not survive the scaling: try the full image.
  }
  return decode_gray8(gray);
}

QrScanner::QrScanner(QWidget* parent) : QWidget(parent) {
  setAccessibleName(tr("QR code scanner"));
  auto* layout = new QVBoxLayout(this);

  auto* camera_row = new QHBoxLayout;
  auto* camera_label = new QLabel(tr("&Camera:"), this);
  cameras_ = new QComboBox(this);
  cameras_->setAccessibleName(tr("Camera"));
  camera_label->setBuddy(cameras_);
  camera_row->addWidget(camera_label);
  camera_row->addWidget(cameras_, 1);
  layout->addLayout(camera_row);

  camera_status_ = new InlineMessage(this);
  layout->addWidget(camera_status_);

  preview_ = new QVideoWidget(this);
  preview_->setAccessibleName(tr("Camera preview"));
  preview_->setMinimumSize(fontMetrics().height() * 12, fontMetrics().height() * 9);
  preview_->hide();
  layout->addWidget(preview_, 1);

  auto* buttons = new QHBoxLayout;
  open_button_ = new QPushButton(tr("&Open image…"), this);
  open_button_->setAccessibleName(tr("Open an image of a QR code"));
  paste_button_ = new QPushButton(tr("&Paste image"), this);
  paste_button_->setAccessibleName(tr("Paste an image of a QR code"));
  buttons->addWidget(open_button_);
  buttons->addWidget(paste_button_);
  buttons->addStretch(1);
  layout->addLayout(buttons);

  error_ = new InlineMessage(this);
  layout->addWidget(error_);

  connect(open_button_, &QPushButton::clicked, this, &QrScanner::openImageFile);
  connect(paste_button_, &QPushButton::clicked, this, &QrScanner::pasteImage);
  auto* paste_shortcut = new QShortcut(QKeySequence::Paste, this);
  paste_shortcut->setContext(Qt::WidgetWithChildrenShortcut);
  connect(paste_shortcut, &QShortcut::activated, this, &QrScanner::pasteImage);
  connect(cameras_, &QComboBox::currentIndexChanged, this, [this] {
    if (isVisible()) start_camera();
  });
  refresh_cameras();
}

// A decode still running finishes on the pool; its watcher (our child) is gone, so the result
// is dropped.
QrScanner::~QrScanner() {
  stop_camera();
}

void QrScanner::setExpectedPrefix(const QString& prefix, const QString& what) {
  prefix_ = prefix;
  prefix_what_ = what;
}

bool QrScanner::cameraAvailable() const {
  return !QMediaDevices::videoInputs().isEmpty();
}

bool QrScanner::cameraActive() const {
  return camera_ && camera_->isActive();
}

void QrScanner::showError(const QString& text) {
  error_->showError(text);
}

void QrScanner::reset() {
  last_text_.clear();
  last_refusal_.clear();
  error_->clearMessage();
}

void QrScanner::refresh_cameras() {
  const QList<QCameraDevice> inputs = QMediaDevices::videoInputs();
  const QSignalBlocker block(cameras_);
  const QByteArray current = cameras_->currentData().toByteArray();
  cameras_->clear();
  for (const QCameraDevice& device : inputs) {
    cameras_->addItem(device.description(), device.id());
  }
  const int again = cameras_->findData(current);
  if (again >= 0) cameras_->setCurrentIndex(again);
  cameras_->setEnabled(!inputs.isEmpty());
  if (inputs.isEmpty()) {
    camera_status_->showInfo(
        tr("No camera found. Open an image of the code or paste one from the clipboard instead."));
  } else {
    camera_status_->clearMessage();
  }
}

void QrScanner::start_camera() {
  stop_camera();
  const QByteArray id = cameras_->currentData().toByteArray();
  QCameraDevice chosen;
  for (const QCameraDevice& device : QMediaDevices::videoInputs()) {
    if (device.id() == id) chosen = device;
  }
  if (chosen.isNull()) return;
  camera_ = std::make_unique<QCamera>(chosen);
  capture_ = std::make_unique<QMediaCaptureSession>();
  capture_->setCamera(camera_.get());
  capture_->setVideoOutput(preview_);
  connect(preview_->videoSink(), &QVideoSink::videoFrameChanged, this, &QrScanner::on_frame,
          Qt::UniqueConnection);
  connect(camera_.get(), &QCamera::errorOccurred, this, [this](QCamera::Error, const QString& why) {
    camera_status_->showError(tr("The camera failed: %1").arg(why));
    preview_->hide();
  });
  preview_->show();
  camera_->start();
}

void QrScanner::stop_camera() {
  if (camera_) camera_->stop();
  if (capture_) capture_->setVideoOutput(nullptr);
  capture_.reset();
  camera_.reset();
  if (preview_) preview_->hide();
}

void QrScanner::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  refresh_cameras();
  if (cameras_->count() > 0) start_camera();
}

void QrScanner::hideEvent(QHideEvent* event) {
  stop_camera();
  QWidget::hideEvent(event);
}

void QrScanner::on_frame(const QVideoFrame& frame) {
  if (!frame.isValid() || decoding_) return;
  const qint64 now = QDateTime::currentMSecsSinceEpoch();
  if (last_frame_ms_ >= 0 && now - last_frame_ms_ < kFrameIntervalMs) return;
  // toImage maps the frame; done here because the frame's backend may need this thread.
  submitFrame(frame.toImage());
}

void QrScanner::submitFrame(const QImage& frame) {
  if (decoding_) return;
  const qint64 now = QDateTime::currentMSecsSinceEpoch();
  if (last_frame_ms_ >= 0 && now - last_frame_ms_ < kFrameIntervalMs) return;
  last_frame_ms_ = now;
  decode_async(frame, false);
}

void QrScanner::scanImage(const QImage& image) {
  if (image.isNull()) {
    error_->showError(tr("The image could not be read."));
    return;
  }
  decode_async(image, true);
}

void QrScanner::decode_async(const QImage& image, bool from_user) {
  decoding_ = true;
  auto* watcher = new QFutureWatcher<QrDecodeResult>(this);
  connect(watcher, &QFutureWatcher<QrDecodeResult>::finished, this, [this, watcher, from_user] {
    decoding_ = false;
    handle_result(watcher->result(), from_user);
    watcher->deleteLater();
  });
  watcher->setFuture(QtConcurrent::run([image] { return decodeQrImage(image); }));
}

void QrScanner::handle_result(const QrDecodeResult& result, bool from_user) {
  if (!result) {
    if (from_user) error_->showError(result.error);
    return;
  }
  const QString text = *result.text;
  if (text == last_text_) {
    // Already acted on. A file or paste of the same wrong code shows its error again.
    if (from_user && !last_refusal_.isEmpty()) error_->showError(last_refusal_);
    return;
  }
  last_text_ = text;
  last_refusal_.clear();
  if (!prefix_.isEmpty() && !text.startsWith(prefix_)) {
    const QString found = kind_of(text);
    const QString want = prefix_what_.isEmpty() ? tr("the kind expected here") : prefix_what_;
    // Never echo the code itself: it may hold a group key.
    last_refusal_ = found.isEmpty() ? tr("This QR code is not %1.").arg(want)
                                    : tr("This QR code is %1, not %2.").arg(found, want);
    error_->showError(last_refusal_);
    return;
  }
  error_->clearMessage();
  emit scanned(text);
}

void QrScanner::openImageFile() {
  QStringList patterns;
  for (const QByteArray& format : QImageReader::supportedImageFormats()) {
    patterns << QStringLiteral("*.") + QString::fromLatin1(format);
  }
  const QString path = QFileDialog::getOpenFileName(
      this, tr("Open an image of a QR code"), QString(),
      tr("Images (%1);;All files (*)").arg(patterns.join(QLatin1Char(' '))));
  if (path.isEmpty()) return;
  QImageReader reader(path);
  reader.setAutoTransform(true);  // phone photos carry their rotation in EXIF
  const QImage image = reader.read();
  if (image.isNull()) {
    error_->showError(tr("The file could not be read as an image: %1").arg(reader.errorString()));
    return;
  }
  scanImage(image);
}

void QrScanner::pasteImage() {
  const QMimeData* mime = QApplication::clipboard()->mimeData();
  if (!mime || !mime->hasImage()) {
    error_->showError(tr("The clipboard holds no image. Copy a picture of the QR code first."));
    return;
  }
  scanImage(qvariant_cast<QImage>(mime->imageData()));
}

}  // namespace secchats::desktop
