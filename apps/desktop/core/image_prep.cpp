#include "image_prep.hpp"

#include <QBuffer>
#include <QCoreApplication>
#include <QFile>
#include <QImageReader>
#include <algorithm>
#include <cmath>

namespace secchats::desktop {
namespace {

// The PNG limits a receiver enforces (media/png_check.hpp): a side and the pixel count.
constexpr int kMaxSide = 8192;
constexpr double kMaxPixels = 4096.0 * 4096.0;
constexpr qint64 kMaxFileBytes = 64ll * 1024 * 1024;
constexpr int kMinLongEdge = 16;
constexpr int kProbeEdge = 512;

QString tr_(const char* text) {
  return QCoreApplication::translate("ImagePreparation", text);
}

PreparedImage failure(QString why) {
  PreparedImage out;
  out.error = std::move(why);
  return out;
}

QByteArray encode_png(const QImage& image) {
  QByteArray png;
  QBuffer buffer(&png);
  buffer.open(QIODevice::WriteOnly);
  if (!image.save(&buffer, "PNG")) return {};
  return png;
}

QImage scaled_to(const QImage& image, int long_edge) {
  if (std::max(image.width(), image.height()) <= long_edge) return image;
  return image.width() >= image.height()
             ? image.scaledToWidth(long_edge, Qt::SmoothTransformation)
             : image.scaledToHeight(long_edge, Qt::SmoothTransformation);
}

}  // namespace

PreparedImage prepareImage(const QImage& input, std::size_t max_bytes) {
  if (input.isNull()) return failure(tr_("This is not an image the app can read."));
  // Without transparency, 24-bit PNG is smaller than 32-bit; palette images stay as they are
  // only if they already fit (the scaling below works on true colour).
  QImage image = input.hasAlphaChannel() ? input.convertToFormat(QImage::Format_ARGB32)
                                         : input.convertToFormat(QImage::Format_RGB888);
  int long_edge = std::min(std::max(image.width(), image.height()), kMaxSide);
  const double pixels = double(image.width()) * double(image.height());
  if (pixels > kMaxPixels) {
    long_edge = std::min(
        long_edge, int(std::max(image.width(), image.height()) * std::sqrt(kMaxPixels / pixels)));
  }
  // PNG size grows roughly with the pixel count. Encoding a 12 Mpx photo takes seconds, so a
  // cheap probe at a bounded size estimates where to start; then the long edge steps down
  // until the PNG fits.
  const int full_edge = long_edge;
  if (full_edge > kProbeEdge) {
    const QByteArray probe = encode_png(scaled_to(image, kProbeEdge));
    if (probe.isEmpty()) return failure(tr_("The image could not be converted to PNG."));
    const double estimate = kProbeEdge * std::sqrt(0.9 * double(max_bytes) / double(probe.size()));
    long_edge = std::clamp(int(estimate), kMinLongEdge, full_edge);
  }
  while (long_edge >= kMinLongEdge) {
    const QImage candidate = scaled_to(image, long_edge);
    const QByteArray png = encode_png(candidate);
    if (png.isEmpty()) return failure(tr_("The image could not be converted to PNG."));
    if (static_cast<std::size_t>(png.size()) <= max_bytes) {
      PreparedImage out;
      out.png = png;
      out.size = candidate.size();
      return out;
    }
    // Aim a little under the limit, and at least a step down so the loop always ends.
    const double ratio = std::sqrt(0.9 * double(max_bytes) / double(png.size()));
    long_edge = std::min(int(long_edge * ratio), int(long_edge * 0.9));
  }
  return failure(tr_("The image could not be made small enough to send."));
}

PreparedImage prepareImageData(const QByteArray& encoded, std::size_t max_bytes) {
  QBuffer buffer;
  buffer.setData(encoded);
  buffer.open(QIODevice::ReadOnly);
  QImageReader reader(&buffer);
  reader.setAutoTransform(true);  // a phone photo's EXIF orientation
  const QImage image = reader.read();
  if (image.isNull()) {
    return failure(tr_("This is not an image the app can read (PNG, JPEG, GIF, WebP, BMP...)."));
  }
  return prepareImage(image, max_bytes);
}

PreparedImage prepareImageFile(const QString& path, std::size_t max_bytes) {
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly)) return failure(tr_("The file could not be opened."));
  if (file.size() > kMaxFileBytes) return failure(tr_("The file is too large (over 64 MiB)."));
  return prepareImageData(file.readAll(), max_bytes);
}

}  // namespace secchats::desktop
