// Turning any image Qt can read into what a v1 message carries: a PNG of at most 384 KiB
// (libsecchats refuses larger ones: client.cpp kMaxImageBytes) and at most 8192 px a side,
// 16 Mpx in all (media/png_check.hpp). Pure function of its input: safe on any thread.
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
