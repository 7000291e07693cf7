// QrCodeWidget and QrScanner: codes drawn by the widget are read back by decodeQrImage (also
// rotated, scaled and photographed), and the scanner emits once per code, refuses codes of the
// wrong kind inline and reads the clipboard.
#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QLineEdit>
#include <QMimeData>
#include <QPainter>
#include <QPushButton>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QtTest/QtTest>

#include "testing/qt_test_main.hpp"
#include "widgets/qr_code_widget.hpp"
#include "widgets/qr_scanner.hpp"
#include "widgets/theme.hpp"
#include "widgets_test_util.hpp"

using namespace secchats::desktop;

namespace {

const QString kGroupCode = QStringLiteral(
    "SECCHATS-GROUP:1:0123456789abcdef0123456789abcdef:"
    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=:RnJpZW5kcw");

QImage code_image(const QString& text, int module_px) {
  QrCodeWidget w;
  if (!w.setText(text)) return {};
  return w.toImage(module_px);
}

// A phone photo of a screen: the code small in a larger frame, tilted, unevenly lit, low
// contrast, blurred and noisy.
QImage photo_of(const QImage& code) {
  QImage frame(1280, 960, QImage::Format_RGB32);
  QPainter p(&frame);
  QLinearGradient light(0, 0, 1280, 960);
  light.setColorAt(0, QColor(90, 90, 95));
  light.setColorAt(1, QColor(150, 145, 140));
  p.fillRect(frame.rect(), light);
  p.setRenderHint(QPainter::SmoothPixmapTransform);
  p.translate(640, 480);
  p.rotate(8);
  // Low contrast: dark modules dark grey, light modules light grey.
  QImage dull = code.convertToFormat(QImage::Format_RGB32);
  for (int y = 0; y < dull.height(); ++y) {
    auto* row = reinterpret_cast<QRgb*>(dull.scanLine(y));
    for (int x = 0; x < dull.width(); ++x) {
      const int v = qGray(row[x]) < 128 ? 55 : 205;
      row[x] = qRgb(v, v, v);
    }
  }
  const int side = 420;
  p.drawImage(QRectF(-side / 2.0, -side / 2.0, side, side), dull);
  p.end();
  // Blur: down and up again.
  frame = frame.scaled(640, 480, Qt::IgnoreAspectRatio, Qt::SmoothTransformation)
              .scaled(1280, 960, Qt::IgnoreAspectRatio, Qt::SmoothTransformation);
  QRandomGenerator rng(42);
  for (int y = 0; y < frame.height(); ++y) {
    auto* row = reinterpret_cast<QRgb*>(frame.scanLine(y));
    for (int x = 0; x < frame.width(); ++x) {
      const int n = int(rng.bounded(50)) - 25;
      row[x] = qRgb(qBound(0, qRed(row[x]) + n, 255), qBound(0, qGreen(row[x]) + n, 255),
                    qBound(0, qBlue(row[x]) + n, 255));
    }
  }
  return frame;
}

}  // namespace

class QrTest : public QObject {
  Q_OBJECT
 private slots:
  void codeImageHasQuietZoneAndIntegerModules() {
    QrCodeWidget w;
    QVERIFY(w.setText(QStringLiteral("hello")));
    QVERIFY(w.hasCode());
    const int modules = w.moduleCount();
    QVERIFY(modules >= 21);
    const QImage img = w.toImage(5);
    QCOMPARE(img.width(), (modules + 8) * 5);
    QCOMPARE(img.height(), img.width());
    // The 4-module quiet zone is white all round.
    for (int i = 0; i < img.width(); ++i) {
      for (int q = 0; q < 4 * 5; ++q) {
        QCOMPARE(qGray(img.pixel(i, q)), 255);
        QCOMPARE(qGray(img.pixel(q, i)), 255);
        QCOMPARE(qGray(img.pixel(i, img.height() - 1 - q)), 255);
      }
    }
    // The top-left finder pattern's corner module is dark and a whole 5x5 block.
    for (int y = 20; y < 25; ++y) {
      for (int x = 20; x < 25; ++x)
        QCOMPARE(qGray(img.pixel(x, y)), 0);
    }
    QVERIFY(w.toImage(0).isNull());
  }

  void squareAndAccessibleName() {
    QrCodeWidget w;
    QVERIFY(w.hasHeightForWidth());
    QCOMPARE(w.heightForWidth(333), 333);
    w.setDescription(QStringLiteral("your user ID"));
    QCOMPARE(w.accessibleName(), QStringLiteral("QR code of your user ID"));
  }

  void tooLongTextIsRefused() {
    QrCodeWidget w;
    QVERIFY(!w.setText(QString(5000, QLatin1Char('x'))));
    QVERIFY(!w.hasCode());
    QVERIFY(!w.errorString().isEmpty());
    QVERIFY(w.toImage(4).isNull());
    QVERIFY(!w.setText(QString()));
  }

  void paintsBlackOnWhiteEvenInDarkTheme() {
    QrCodeWidget w;
    w.setPalette(darkPalette());
    QVERIFY(w.setText(kGroupCode));
    w.resize(400, 400);
    const QImage shot = w.grab().toImage();
    // The painted code decodes and its dark modules are pure black.
    const QrDecodeResult r = decodeQrImage(shot);
    QVERIFY2(r.text.has_value(), qPrintable(r.error));
    QCOMPARE(*r.text, kGroupCode);
    bool saw_black = false;
    bool saw_white = false;
    for (int x = 0; x < shot.width(); ++x) {
      const QRgb px = shot.pixel(x, shot.height() / 2);
      saw_black = saw_black || px == qRgb(0, 0, 0);
      saw_white = saw_white || px == qRgb(255, 255, 255);
    }
    QVERIFY(saw_black && saw_white);
  }

  void decodesOwnImageRotatedAndScaled() {
    const QImage img = code_image(kGroupCode, 4);
    QVERIFY(!img.isNull());
    QrDecodeResult r = decodeQrImage(img);
    QVERIFY2(r, qPrintable(r.error));
    QCOMPARE(*r.text, kGroupCode);

    const QImage turned = img.transformed(QTransform().rotate(90))
                              .scaled(img.width() * 17 / 10, img.height() * 17 / 10,
                                      Qt::IgnoreAspectRatio, Qt::SmoothTransformation)
                              .convertToFormat(QImage::Format_RGB32);
    r = decodeQrImage(turned);
    QVERIFY2(r, qPrintable(r.error));
    QCOMPARE(*r.text, kGroupCode);
  }

  void decodesPhotoLikeImage() {
    const QImage photo = photo_of(code_image(kGroupCode, 6));
    // The photo is not trivially the code: it has many grey levels.
    QVERIFY(qGray(photo.pixel(10, 10)) > 40);
    const QrDecodeResult r = decodeQrImage(photo);
    QVERIFY2(r, qPrintable(r.error));
    QCOMPARE(*r.text, kGroupCode);
  }

  void noCodeGivesAReason() {
    QImage empty(300, 200, QImage::Format_RGB32);
    empty.fill(Qt::white);
    QrDecodeResult r = decodeQrImage(empty);
    QVERIFY(!r);
    QCOMPARE(r.error, QStringLiteral("No QR code found in the image."));
    r = decodeQrImage(QImage());
    QVERIFY(!r);
    QVERIFY(!r.error.isEmpty());
  }

  void scannerEmitsOncePerDistinctCode() {
    QrScanner scanner;
    QSignalSpy spy(&scanner, &QrScanner::scanned);
    const QImage a = code_image(QStringLiteral("first code"), 4);
    const QImage b = code_image(QStringLiteral("second code"), 4);
    scanner.scanImage(a);
    QTRY_COMPARE(spy.count(), 1);
    QCOMPARE(spy.at(0).at(0).toString(), QStringLiteral("first code"));
    scanner.scanImage(a);
    QTest::qWait(300);
    QCOMPARE(spy.count(), 1);  // the same code again: nothing new
    scanner.scanImage(b);
    QTRY_COMPARE(spy.count(), 2);
    QCOMPARE(spy.at(1).at(0).toString(), QStringLiteral("second code"));
    scanner.reset();
    scanner.scanImage(b);
    QTRY_COMPARE(spy.count(), 3);  // reset() allows it again
  }

  void scannerRefusesWrongKindInline() {
    QrScanner scanner;
    scanner.setExpectedPrefix(QStringLiteral("SECCHATS-GROUP:1:"), QStringLiteral("a group code"));
    QSignalSpy spy(&scanner, &QrScanner::scanned);
    scanner.scanImage(code_image(QStringLiteral("0123456789abcdef0123456789abcdef"), 4));
    QTRY_COMPARE(test::shownMessages(&scanner).size(), 1);
    QCOMPARE(test::shownMessages(&scanner).first(),
             QStringLiteral("This QR code is not a group code."));
    QCOMPARE(spy.count(), 0);
    // A safety number code is named as such.
    scanner.scanImage(
        code_image(QStringLiteral("SECCHATS-VERIFY:1:") + QString(60, QLatin1Char('1')), 4));
    QTRY_COMPARE(test::shownMessages(&scanner).value(0),
                 QStringLiteral("This QR code is a safety number code, not a group code."));
    QCOMPARE(spy.count(), 0);
    // The right kind clears the error and is emitted.
    scanner.scanImage(code_image(kGroupCode, 4));
    QTRY_COMPARE(spy.count(), 1);
    QCOMPARE(spy.at(0).at(0).toString(), kGroupCode);
    QVERIFY(test::shownMessages(&scanner).isEmpty());
  }

  void scannerReportsImageWithoutCode() {
    QrScanner scanner;
    QImage blank(200, 200, QImage::Format_RGB32);
    blank.fill(Qt::white);
    scanner.scanImage(blank);
    QTRY_COMPARE(test::shownMessages(&scanner).value(0),
                 QStringLiteral("No QR code found in the image."));
  }

  void pasteReadsClipboardImage() {
    QrScanner scanner;
    QSignalSpy spy(&scanner, &QrScanner::scanned);
    QApplication::clipboard()->setText(QStringLiteral("just text"));
    auto* paste =
        test::byName<QPushButton>(&scanner, QStringLiteral("Paste an image of a QR code"));
    QVERIFY(paste);
    QTest::mouseClick(paste, Qt::LeftButton);
    QCOMPARE(test::shownMessages(&scanner).size(), 1);
    QVERIFY(test::shownMessages(&scanner).first().contains(QStringLiteral("no image")));
    QApplication::clipboard()->setImage(code_image(QStringLiteral("pasted code"), 4));
    if (!QApplication::clipboard()->mimeData()->hasImage()) {
      QSKIP("this platform's clipboard holds no images");
    }
    QTest::mouseClick(paste, Qt::LeftButton);
    QTRY_COMPARE(spy.count(), 1);
    QCOMPARE(spy.at(0).at(0).toString(), QStringLiteral("pasted code"));
  }

  void cameraFramesAreThrottled() {
    QrScanner scanner;
    QSignalSpy spy(&scanner, &QrScanner::scanned);
    // Two frames in quick succession: only the first is decoded.
    scanner.submitFrame(code_image(QStringLiteral("frame one"), 4));
    scanner.submitFrame(code_image(QStringLiteral("frame two"), 4));
    QTRY_COMPARE(spy.count(), 1);
    QTest::qWait(400);
    QCOMPARE(spy.count(), 1);
    QCOMPARE(spy.at(0).at(0).toString(), QStringLiteral("frame one"));
    // After the interval a new frame is decoded. Frames without a code say nothing.
    QImage blank(100, 100, QImage::Format_RGB32);
    blank.fill(Qt::white);
    scanner.submitFrame(blank);
    QTest::qWait(400);
    QVERIFY(test::shownMessages(&scanner).isEmpty());
    scanner.submitFrame(code_image(QStringLiteral("frame two"), 4));
    QTRY_COMPARE(spy.count(), 2);
  }

  void noCameraSaysSoInline() {
    QrScanner scanner;
    scanner.show();
    QVERIFY(QTest::qWaitForWindowExposed(&scanner));
    if (scanner.cameraAvailable()) QSKIP("this machine has a camera");
    QStringList infos = test::shownMessages(&scanner, InlineMessage::Kind::kInfo);
    QCOMPARE(infos.size(), 1);
    QVERIFY(infos.first().startsWith(QStringLiteral("No camera found")));
    auto* cameras = test::byName<QComboBox>(&scanner, QStringLiteral("Camera"));
    QVERIFY(cameras);
    QVERIFY(!cameras->isEnabled());
    QVERIFY(!scanner.cameraActive());
  }
};

SECCHATS_DESKTOP_QTEST_MAIN(QrTest)
#include "widgets_qr_test.moc"
