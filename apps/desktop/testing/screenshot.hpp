// Screenshot helpers for tests: render a widget at 1x and 2x (high-DPI) to PNG, and catch a
// screen that rendered blank or has something cut off.
#pragma once

#include <QImage>
#include <QString>

class QWidget;

namespace secchats::desktop::testing {

// Renders `widget` at device pixel ratio 1 to `path` and at 2 to the same name with "@2x" before
// the suffix ("shot.png" -> "shot@2x.png"). Lays the widget out first. "" on success, else why.
QString renderScreenshot(QWidget* widget, const QString& path);

// The widget rendered at `dpr` (1 or 2, ...), as an image of size * dpr pixels.
QImage renderImage(QWidget* widget, qreal dpr);

// "" unless the image is empty or (nearly) one colour: fewer than 0.2% of its pixels differ
// from the most common colour.
QString checkNotBlank(const QImage& image);

// "" unless a visible child widget extends outside its parent (scroll area contents excepted:
// they scroll) or the window, or a label's text is cut: a non-wrapping label narrower or lower
// than its sizeHint, or a wrapping one lower than heightForWidth(width).
QString checkNotClipped(QWidget* widget);

// Both checks: the image of `widget` (renderImage at 1x when `image` is null) and its layout.
QString checkNotBlankNorClipped(QWidget* widget, const QImage& image = {});

}  // namespace secchats::desktop::testing
