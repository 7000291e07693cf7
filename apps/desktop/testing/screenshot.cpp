#include "testing/screenshot.hpp"

#include <QAbstractScrollArea>
#include <QDir>
#include <QFileInfo>
#include <QHash>
#include <QLabel>
#include <QLayout>
#include <QPainter>
#include <QStringList>
#include <QWidget>
#include <algorithm>

#include "testing/a11y_audit.hpp"

namespace secchats::desktop::testing {
namespace {

void lay_out(QWidget* widget) {
  if (widget->layout()) widget->layout()->activate();
  if (!widget->isVisible() && widget->size().isEmpty()) widget->adjustSize();
}

// A widget that scrolls: its contents may be larger than the viewport on purpose.
bool is_scroll_viewport(const QWidget* w) {
  const auto* area = qobject_cast<const QAbstractScrollArea*>(w->parentWidget());
  return area && area->viewport() == w;
}

}  // namespace

QImage renderImage(QWidget* widget, qreal dpr) {
  if (!widget) return {};
  lay_out(widget);
  const QSize size = widget->size();
  if (size.isEmpty()) return {};
  QImage image((QSizeF(size) * dpr).toSize(), QImage::Format_ARGB32_Premultiplied);
  image.setDevicePixelRatio(dpr);
  image.fill(Qt::transparent);
  widget->render(&image);
  return image;
}

QString renderScreenshot(QWidget* widget, const QString& path) {
  if (!widget) return QStringLiteral("no widget");
  const QImage one = renderImage(widget, 1.0);
  const QImage two = renderImage(widget, 2.0);
  if (one.isNull() || two.isNull()) return QStringLiteral("the widget has no size to render");
  const QFileInfo info(path);
  const QString hidpi =
      info.dir().filePath(info.completeBaseName() + QStringLiteral("@2x.") +
                          (info.suffix().isEmpty() ? QStringLiteral("png") : info.suffix()));
  if (!one.save(path, "PNG")) return QStringLiteral("could not write ") + path;
  if (!two.save(hidpi, "PNG")) return QStringLiteral("could not write ") + hidpi;
  return {};
}

QString checkNotBlank(const QImage& image) {
  if (image.isNull() || image.width() == 0 || image.height() == 0) {
    return QStringLiteral("the image is empty");
  }
  const QImage rgb = image.convertToFormat(QImage::Format_ARGB32);
  QHash<QRgb, qint64> counts;
  for (int y = 0; y < rgb.height(); ++y) {
    const auto* row = reinterpret_cast<const QRgb*>(rgb.constScanLine(y));
    for (int x = 0; x < rgb.width(); ++x)
      ++counts[row[x]];
  }
  qint64 top = 0;
  for (auto it = counts.cbegin(); it != counts.cend(); ++it)
    top = std::max(top, it.value());
  const qint64 total = qint64(rgb.width()) * rgb.height();
  const qint64 other = total - top;
  if (other * 1000 < total * 2) {
    return QStringLiteral("the image is blank: %1 of %2 pixels differ from the main colour")
        .arg(other)
        .arg(total);
  }
  return {};
}

QString checkNotClipped(QWidget* widget) {
  if (!widget) return QStringLiteral("no widget");
  lay_out(widget);
  QStringList problems;
  const QRect window_rect = widget->rect();
  for (QWidget* child : widget->findChildren<QWidget*>()) {
    if (!child->isVisibleTo(widget) || child->isWindow()) continue;
    bool scrolls = false;
    for (const QWidget* p = child->parentWidget(); p && p != widget; p = p->parentWidget()) {
      if (is_scroll_viewport(p)) scrolls = true;
    }
    if (scrolls) continue;
    const QWidget* parent = child->parentWidget();
    if (parent && !is_scroll_viewport(parent) && !parent->rect().contains(child->geometry())) {
      problems << QStringLiteral("%1 extends outside its parent (%2x%3 at %4,%5 in %6x%7)")
                      .arg(widgetPath(child, widget))
                      .arg(child->width())
                      .arg(child->height())
                      .arg(child->x())
                      .arg(child->y())
                      .arg(parent->width())
                      .arg(parent->height());
      continue;
    }
    const QRect in_window(child->mapTo(widget, QPoint(0, 0)), child->size());
    if (!window_rect.contains(in_window)) {
      problems << QStringLiteral("%1 extends outside the window").arg(widgetPath(child, widget));
      continue;
    }
    const auto* label = qobject_cast<const QLabel*>(child);
    if (label && !label->text().isEmpty()) {
      const QSize hint = label->sizeHint();
      const bool cut = label->wordWrap()
                           ? label->heightForWidth(label->width()) > label->height()
                           : (hint.width() > label->width() || hint.height() > label->height());
      if (cut) {
        problems << QStringLiteral("%1: the label's text is cut (needs %2x%3, has %4x%5)")
                        .arg(widgetPath(child, widget))
                        .arg(label->wordWrap() ? label->width() : hint.width())
                        .arg(label->wordWrap() ? label->heightForWidth(label->width())
                                               : hint.height())
                        .arg(label->width())
                        .arg(label->height());
      }
    }
  }
  return problems.join(QLatin1Char('\n'));
}

QString checkNotBlankNorClipped(QWidget* widget, const QImage& image) {
  const QString blank = checkNotBlank(image.isNull() ? renderImage(widget, 1.0) : image);
  const QString clipped = checkNotClipped(widget);
  if (blank.isEmpty()) return clipped;
  if (clipped.isEmpty()) return blank;
  return blank + QLatin1Char('\n') + clipped;
}

}  // namespace secchats::desktop::testing
