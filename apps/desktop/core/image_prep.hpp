// Turning any image Qt can read (a pasted or dropped picture, EXIF orientation applied) into
// a PNG of at most 384 KiB and 8192 px a side, 16 Mpx in all: what an inline IMG message
// carries (media::kMaxV1ImageBytes). The library prepares every photo again
// (media::prepare_v1_photo: a PNG that fits stays a PNG, without its ancillary chunks), so this
// only keeps a screenshot lossless and the preview honest. Pure function: safe on any thread.
#pragma once

#include <QByteArray>
#include <QImage>
#include <QString>
#include <cstddef>

namespace secchats::desktop {

inline constexpr std::size_t kMaxImageMessageBytes = 384 * 1024;

struct PreparedImage {
  QByteArray png;  // empty on error
  QString error;   // "" on success; a sentence for the user otherwise
  QSize size;      // pixel size of the PNG
  bool ok() const { return error.isEmpty(); }
};

// Decodes `encoded` (PNG, JPEG, GIF's first frame, WebP, BMP... whatever the Qt image plugins
// read), then re-encodes it as PNG, scaling the long edge down stepwise (aspect ratio kept)
// until the PNG fits `max_bytes`. Unreadable input: error "This file is not an image ...".
PreparedImage prepareImageData(const QByteArray& encoded,
                               std::size_t max_bytes = kMaxImageMessageBytes);
// The same for a file (read at most 64 MiB; larger files are refused).
PreparedImage prepareImageFile(const QString& path, std::size_t max_bytes = kMaxImageMessageBytes);
// The same for a decoded image (the clipboard's).
PreparedImage prepareImage(const QImage& image, std::size_t max_bytes = kMaxImageMessageBytes);

}  // namespace secchats::desktop
