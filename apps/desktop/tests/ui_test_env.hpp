// Shared by the ui_* tests: a QApplication on the offscreen platform for the whole test binary
// (created by a gtest environment, so gtest_main stays the entry point), and lookups of
// widgets by accessible name (the widgets/ screens name their controls that way).
#pragma once

#include <QApplication>
#include <QList>
#include <QString>
#include <QWidget>

namespace secchats::desktop::testing {

// The first descendant of `root` (or of any top-level window if root is null) of type T whose
// accessibleName() is `name` and which is visible (when `visible_only`).
template <typename T>
T* findByAccessibleName(QWidget* root, const QString& name, bool visible_only = true) {
  QList<QWidget*> roots;
  if (root) {
    roots << root;
  } else {
    roots = QApplication::topLevelWidgets();
  }
  for (QWidget* r : roots) {
    if (auto* self = qobject_cast<T*>(r); self && r->accessibleName() == name) return self;
    for (T* w : r->findChildren<T*>()) {
      if (w->accessibleName() == name && (!visible_only || w->isVisible())) return w;
    }
  }
  return nullptr;
}

// The first visible top-level widget of type T with that objectName ("" = any).
template <typename T>
T* findTopLevel(const QString& object_name = {}) {
  for (QWidget* w : QApplication::topLevelWidgets()) {
    auto* t = qobject_cast<T*>(w);
    if (t && t->isVisible() && (object_name.isEmpty() || t->objectName() == object_name)) return t;
  }
  return nullptr;
}

}  // namespace secchats::desktop::testing
