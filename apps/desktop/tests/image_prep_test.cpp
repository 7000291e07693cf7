// Image preparation: any readable image becomes a PNG within the library's 384 KiB limit.
#include <gtest/gtest.h>

#include <QBuffer>
#include <QImage>
#include <QPainter>
#include <QRandomGenerator>
#include <QTemporaryDir>

#include "core/image_prep.hpp"

namespace secchats::desktop {
namespace {

// A photo-like picture: gradients plus noise, which PNG compresses poorly.
QImage photo(int w, int h) {
  QImage img(w, h, QImage::Format_RGB32);
  QRandomGenerator rng(42);
  for (int y = 0; y < h; ++y) {
    auto* line = reinterpret_cast<QRgb*>(img.scanLine(y));
    for (int x = 0; x < w; ++x) {
      const int n = int(rng.bounded(40));
      line[x] = qRgb((x * 255 / w + n) % 256, (y * 255 / h + n) % 256, (x + y + n) % 256);
    }
  }
  return img;
}

QByteArray encode(const QImage& img, const char* format, int quality = -1) {
  QByteArray bytes;
  QBuffer buffer(&bytes);
  buffer.open(QIODevice::WriteOnly);
  EXPECT_TRUE(img.save(&buffer, format, quality));
  return bytes;
}

TEST(ImagePrep, LargeJpegBecomesAPngThatFitsWithItsAspect) {
  const QByteArray jpeg = encode(photo(4000, 3000), "JPEG", 90);
  ASSERT_GT(jpeg.size(), 384 * 1024);
  const PreparedImage out = prepareImageData(jpeg);
  ASSERT_TRUE(out.ok()) << out.error.toStdString();
  EXPECT_LE(out.png.size(), qsizetype(kMaxImageMessageBytes));
  EXPECT_TRUE(out.png.startsWith("\x89PNG\r\n\x1a\n"));
  QImage back;
  ASSERT_TRUE(back.loadFromData(out.png, "PNG"));
  EXPECT_EQ(back.size(), out.size);
  EXPECT_LT(back.width(), 4000);
  EXPECT_GT(back.width(), 100);  // scaled to fit, not to a thumbnail
  EXPECT_NEAR(double(back.width()) / back.height(), 4.0 / 3.0, 0.01);
}

TEST(ImagePrep, SmallImageKeepsItsSizeAndTransparency) {
  QImage img(64, 32, QImage::Format_ARGB32);
  img.fill(Qt::transparent);
  QPainter(&img).fillRect(0, 0, 10, 10, Qt::red);
  const PreparedImage out = prepareImageData(encode(img, "PNG"));
  ASSERT_TRUE(out.ok());
  QImage back;
  ASSERT_TRUE(back.loadFromData(out.png, "PNG"));
  EXPECT_EQ(back.size(), QSize(64, 32));
  EXPECT_TRUE(back.hasAlphaChannel());
  EXPECT_EQ(qAlpha(back.pixel(50, 20)), 0);
}

TEST(ImagePrep, FromAFileInAnotherFormat) {
  QTemporaryDir dir;
  const QString path = dir.filePath("picture.bmp");
  ASSERT_TRUE(photo(300, 200).save(path, "BMP"));
  const PreparedImage out = prepareImageFile(path);
  ASSERT_TRUE(out.ok()) << out.error.toStdString();
  EXPECT_EQ(out.size, QSize(300, 200));
}

TEST(ImagePrep, TighterLimitScalesFurther) {
  const PreparedImage out = prepareImageData(encode(photo(800, 600), "PNG"), 20 * 1024);
  ASSERT_TRUE(out.ok());
  EXPECT_LE(out.png.size(), 20 * 1024);
  EXPECT_LT(out.size.width(), 800);
}

TEST(ImagePrep, GarbageAndMissingFilesAreClearErrors) {
  const PreparedImage garbage = prepareImageData(QByteArray("this is not an image at all"));
  EXPECT_FALSE(garbage.ok());
  EXPECT_TRUE(garbage.png.isEmpty());
  EXPECT_TRUE(garbage.error.contains("not an image")) << garbage.error.toStdString();
  const PreparedImage missing = prepareImageFile("/nonexistent/dir/x.png");
  EXPECT_FALSE(missing.ok());
  EXPECT_FALSE(missing.error.isEmpty());
  EXPECT_FALSE(prepareImage(QImage()).ok());
}

}  // namespace
}  // namespace secchats::desktop
