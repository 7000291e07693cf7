#include "widgets/inline_message.hpp"

#include <QAccessible>
#include <QAccessibleWidget>
#include <QDialog>
#include <QLayout>
#include <QPalette>

namespace secchats::desktop {
namespace {

// QLabel is StaticText to accessibility; an inline error must be an Alert so that screen
// readers treat it as something that just happened.
class InlineMessageAccessible : public QAccessibleWidget {
 public:
  explicit InlineMessageAccessible(QWidget* w) : QAccessibleWidget(w, QAccessible::AlertMessage) {}
  QString text(QAccessible::Text t) const override {
    if (t == QAccessible::Name) {
      return static_cast<const QLabel*>(widget())->text();
    }
    return QAccessibleWidget::text(t);
  }
};

QAccessibleInterface* inline_message_factory(const QString& class_name, QObject* object) {
  if (class_name == QLatin1String("secchats::desktop::InlineMessage") && object &&
      object->isWidgetType()) {
    return new InlineMessageAccessible(static_cast<QWidget*>(object));
  }
  return nullptr;
}

void install_factory_once() {
  static const bool installed = [] {
    QAccessible::installFactory(inline_message_factory);
    return true;
  }();
  (void)installed;
}

}  // namespace

InlineMessage::InlineMessage(QWidget* parent) : QLabel(parent) {
  install_factory_once();
  setTextFormat(Qt::PlainText);
  setWordWrap(true);
  setTextInteractionFlags(Qt::TextSelectableByMouse);
  hide();
}

void InlineMessage::showError(const QString& text) {
  show_message(text, Kind::kError);
}

void InlineMessage::showInfo(const QString& text) {
  show_message(text, Kind::kInfo);
}

void InlineMessage::clearMessage() {
  clear();
  hide();
}

void InlineMessage::show_message(const QString& text, Kind kind) {
  kind_ = kind;
  if (kind == Kind::kError) {
    // A red that reads on both light and dark windows.
    QPalette pal = palette();
    const bool dark_window = pal.color(QPalette::Window).lightness() < 128;
    pal.setColor(QPalette::WindowText,
                 dark_window ? QColor(0xff, 0x8a, 0x80) : QColor(0xb0, 0x00, 0x20));
    setPalette(pal);
  } else {
    setPalette(QPalette());  // inherit the window's text colour
  }
  setText(text);
  setVisible(!text.isEmpty());
  grow_dialog_to_fit();
  if (!text.isEmpty()) {
    QAccessibleEvent event(this, QAccessible::Alert);
    QAccessible::updateAccessibility(&event);
  }
}

// A dialog that is already on screen does not grow by itself when a message appears or wraps
// onto another line (a window's minimum size ignores height-for-width), so the message's last
// lines would be cut off: grow it to what its layout needs at its current width, never shrink.
void InlineMessage::grow_dialog_to_fit() {
  auto* dialog = qobject_cast<QDialog*>(window());
  if (!dialog || !dialog->isVisible() || !dialog->layout() || dialog->isMaximized() ||
      dialog->isFullScreen()) {
    return;
  }
  QLayout* layout = dialog->layout();
  layout->activate();
  const int needed = layout->hasHeightForWidth() ? layout->totalHeightForWidth(dialog->width())
                                                 : layout->totalSizeHint().height();
  if (needed > dialog->height()) dialog->resize(dialog->width(), needed);
}

}  // namespace secchats::desktop
