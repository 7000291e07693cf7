#include "widgets/qr_code_widget.hpp"

#include <QAccessible>
#include <QAccessibleWidget>
#include <QPainter>
#include <algorithm>
#include <cmath>

#include "secchats/qr/qr.hpp"

namespace secchats::desktop {
namespace {

// A plain QWidget is a "Client" to accessibility; the code is a picture.
class QrCodeAccessible : public QAccessibleWidget {
 public:
  explicit QrCodeAccessible(QWidget* w) : QAccessibleWidget(w, QAccessible::Graphic) {}
};

QAccessibleInterface* qr_code_factory(const QString& class_name, QObject* object) {
  if (class_name == QLatin1String("secchats::desktop::QrCodeWidget") && object &&
      object->isWidgetType()) {
    return new QrCodeAccessible(static_cast<QWidget*>(object));
  }
  return nullptr;
}

}  // namespace

QrCodeWidget::QrCodeWidget(QWidget* parent) : QWidget(parent) {
  static const bool installed = [] {
    QAccessible::installFactory(qr_code_factory);
    return true;
  }();
  (void)installed;
  QSizePolicy policy(QSizePolicy::Preferred, QSizePolicy::Preferred);
  policy.setHeightForWidth(true);
  setSizePolicy(policy);
  setAccessibleName(tr("QR code"));
}

bool QrCodeWidget::setText(const QString& text) {
  text_ = text;
  unit_ = QImage();
  modules_ = 0;
  error_.clear();
  const QByteArray utf8 = text.toUtf8();
  auto matrix = qr::encode_matrix(std::string_view(utf8.constData(), std::size_t(utf8.size())));
  if (!matrix.ok()) {
    error_ = matrix.error().code() == ErrorCode::kTooLarge
                 ? tr("The text is too long for a QR code.")
                 : tr("There is nothing to show as a QR code.");
    updateGeometry();
    update();
    return false;
  }
  modules_ = matrix->size;
  const int side = modules_ + 2 * kQuietZoneModules;
  unit_ = QImage(side, side, QImage::Format_Grayscale8);
  unit_.fill(255);
  for (int y = 0; y < modules_; ++y) {
    uchar* row = unit_.scanLine(y + kQuietZoneModules);
    for (int x = 0; x < modules_; ++x) {
      if (matrix->at(x, y)) row[x + kQuietZoneModules] = 0;
    }
  }
  updateGeometry();
  update();
  return true;
}

void QrCodeWidget::setDescription(const QString& what) {
  setAccessibleName(tr("QR code of %1").arg(what));
}

QImage QrCodeWidget::toImage(int module_px) const {
  if (unit_.isNull() || module_px < 1) return {};
  // Nearest-neighbour scaling by an integer keeps every module a solid square.
  return unit_.scaled(unit_.width() * module_px, unit_.height() * module_px, Qt::IgnoreAspectRatio,
                      Qt::FastTransformation);
}

QSize QrCodeWidget::sizeHint() const {
  // Three pixels per module at the font's scale reads well on a phone camera.
  const int em = fontMetrics().height();
  const int side = unit_.isNull() ? em * 10 : std::max(em * 10, unit_.width() * 4);
  return {side, side};
}

QSize QrCodeWidget::minimumSizeHint() const {
  const int side = unit_.isNull() ? 0 : unit_.width() * 2;
  return {side, side};
}

void QrCodeWidget::paintEvent(QPaintEvent* /*event*/) {
  if (unit_.isNull()) return;
  QPainter painter(this);
  // Work in device pixels so that every module covers a whole number of them on high-DPI
  // screens too; a fractional module size blurs edges and confuses scanners.
  const qreal dpr = devicePixelRatioF();
  const int device_side = int(std::floor(std::min(width(), height()) * dpr));
  const int module_px = device_side / unit_.width();
  if (module_px < 1) return;  // smaller than one pixel per module: nothing scannable to draw
  const int code_px = module_px * unit_.width();
  const qreal logical = code_px / dpr;
  const QRectF target((width() - logical) / 2.0, (height() - logical) / 2.0, logical, logical);
  // Snap the origin to a device pixel as well.
  const QRectF snapped(std::round(target.x() * dpr) / dpr, std::round(target.y() * dpr) / dpr,
                       logical, logical);
  painter.setRenderHint(QPainter::SmoothPixmapTransform, false);
  painter.setRenderHint(QPainter::Antialiasing, false);
  painter.drawImage(snapped, unit_);
}

}  // namespace secchats::desktop
