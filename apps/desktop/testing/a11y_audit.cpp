#include "testing/a11y_audit.hpp"

#include <QAbstractButton>
#include <QAbstractItemView>
#include <QAbstractSlider>
#include <QAbstractSpinBox>
#include <QAccessible>
#include <QComboBox>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QScrollBar>
#include <QSet>
#include <QTabBar>
#include <QTextEdit>
#include <QWidget>

namespace secchats::desktop::testing {
namespace {

bool is_interactive_role(QAccessible::Role role) {
  switch (role) {
    case QAccessible::PushButton:
    case QAccessible::CheckBox:
    case QAccessible::RadioButton:
    case QAccessible::ComboBox:
    case QAccessible::EditableText:
    case QAccessible::SpinBox:
    case QAccessible::Slider:
    case QAccessible::Dial:
    case QAccessible::List:
    case QAccessible::Tree:
    case QAccessible::Table:
    case QAccessible::PageTab:
    case QAccessible::ButtonMenu:
    case QAccessible::ButtonDropDown:
    case QAccessible::ButtonDropGrid:
    case QAccessible::Link:
      return true;
    default:
      return false;
  }
}

// Widgets a user operates. Scroll bars are left out: they come with every scroll area and
// assistive technology describes them by their orientation.
bool is_interactive_widget(const QWidget* w) {
  if (qobject_cast<const QScrollBar*>(w)) return false;
  return qobject_cast<const QAbstractButton*>(w) || qobject_cast<const QComboBox*>(w) ||
         qobject_cast<const QLineEdit*>(w) || qobject_cast<const QTextEdit*>(w) ||
         qobject_cast<const QPlainTextEdit*>(w) || qobject_cast<const QAbstractSpinBox*>(w) ||
         qobject_cast<const QAbstractSlider*>(w) || qobject_cast<const QAbstractItemView*>(w) ||
         qobject_cast<const QTabBar*>(w);
}

// Parts that Qt builds inside a composite control (a combo box's line edit, a spin box's
// editor): the composite is audited, not its parts.
bool inside_composite(const QWidget* w, const QWidget* root) {
  for (const QWidget* p = w->parentWidget(); p && p != root; p = p->parentWidget()) {
    if (qobject_cast<const QComboBox*>(p) || qobject_cast<const QAbstractSpinBox*>(p)) return true;
  }
  return false;
}

QString role_name(QAccessible::Role role) {
  return QString::number(int(role), 16).prepend(QStringLiteral("0x"));
}

void walk(QAccessibleInterface* iface, const QWidget* root, QSet<const QObject*>& seen,
          QStringList& problems, int depth) {
  if (!iface || !iface->isValid() || depth > 64) return;
  if (iface->state().invisible) return;
  QObject* object = iface->object();
  const QWidget* widget = qobject_cast<const QWidget*>(object);
  const QAccessible::Role role = iface->role();
  const bool composite_part = widget && inside_composite(widget, root);
  if (!composite_part && (is_interactive_role(role) || (widget && is_interactive_widget(widget)))) {
    const QString where =
        widget ? widgetPath(widget, root)
               : QStringLiteral("element of ") +
                     widgetPath(qobject_cast<const QWidget*>(
                                    iface->parent() ? iface->parent()->object() : nullptr),
                                root);
    if (iface->text(QAccessible::Name).trimmed().isEmpty()) {
      problems << QStringLiteral("%1 (role %2) has no accessible name").arg(where, role_name(role));
    }
    if (widget && is_interactive_widget(widget) &&
        (role == QAccessible::NoRole || role == QAccessible::Client)) {
      problems << QStringLiteral("%1 is interactive but has no accessible role").arg(where);
    }
  }
  if (object) seen.insert(object);
  // Items of views and the popup list of a combo box are data, not controls.
  if (role == QAccessible::ComboBox || role == QAccessible::List || role == QAccessible::Tree ||
      role == QAccessible::Table) {
    return;
  }
  const int count = iface->childCount();
  for (int i = 0; i < count; ++i)
    walk(iface->child(i), root, seen, problems, depth + 1);
}

}  // namespace

QString widgetPath(const QWidget* widget, const QWidget* root) {
  if (!widget) return QStringLiteral("(no widget)");
  QStringList parts;
  for (const QWidget* w = widget; w; w = w->parentWidget()) {
    QString part = QString::fromLatin1(w->metaObject()->className());
    part.remove(QStringLiteral("secchats::desktop::"));
    if (!w->objectName().isEmpty()) part += QLatin1Char('#') + w->objectName();
    const QString text = qobject_cast<const QAbstractButton*>(w)
                             ? static_cast<const QAbstractButton*>(w)->text()
                             : QString();
    if (!text.isEmpty()) part += QStringLiteral(" \"%1\"").arg(text);
    parts.prepend(part);
    if (w == root) break;
  }
  return parts.join(QStringLiteral(" > "));
}

QStringList auditAccessibility(QWidget* root) {
  QStringList problems;
  if (!root) return {QStringLiteral("no widget to audit")};
  QSet<const QObject*> seen;
  walk(QAccessible::queryAccessibleInterface(root), root, seen, problems, 0);
  // Widgets the accessibility tree did not reach at all (a custom parent that hides its
  // children) would escape the walk: check them directly.
  for (QWidget* w : root->findChildren<QWidget*>()) {
    if (!w->isVisibleTo(root) || !is_interactive_widget(w) || inside_composite(w, root) ||
        seen.contains(w)) {
      continue;
    }
    QAccessibleInterface* iface = QAccessible::queryAccessibleInterface(w);
    if (!iface || iface->text(QAccessible::Name).trimmed().isEmpty()) {
      problems << QStringLiteral("%1 is not reachable in the accessibility tree or has no name")
                      .arg(widgetPath(w, root));
    }
  }
  problems << auditFocusChain(root);
  return problems;
}

QStringList auditFocusChain(QWidget* root) {
  QStringList problems;
  if (!root) return {QStringLiteral("no widget to audit")};
  QWidget* window = root->window();
  QSet<const QWidget*> chain;
  QWidget* w = window;
  do {
    chain.insert(w);
    w = w->nextInFocusChain();
  } while (w && w != window && chain.size() < 100000);

  for (QWidget* child : root->findChildren<QWidget*>()) {
    if (!child->isVisibleTo(root) || !child->isEnabled() || !is_interactive_widget(child) ||
        inside_composite(child, root)) {
      continue;
    }
    // Composite views take focus on their viewport's owner; a focus proxy takes it for them.
    QWidget* target = child;
    while (target->focusProxy())
      target = target->focusProxy();
    if (!(target->focusPolicy() & Qt::TabFocus)) {
      problems << QStringLiteral("%1 cannot be reached with Tab (focus policy %2)")
                      .arg(widgetPath(child, root))
                      .arg(int(target->focusPolicy()));
    } else if (!chain.contains(target)) {
      problems
          << QStringLiteral("%1 is not in the window's focus chain").arg(widgetPath(child, root));
    }
  }
  return problems;
}

}  // namespace secchats::desktop::testing
