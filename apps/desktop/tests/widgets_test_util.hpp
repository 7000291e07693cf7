// Small lookups shared by the widget tests: find a control the way a user or a screen reader
// does (by its accessible name) and read the inline messages a screen shows.
#pragma once

#include <QAccessible>
#include <QStringList>
#include <QWidget>

#include "widgets/inline_message.hpp"

namespace secchats::desktop::test {

// The one widget of type T under `root` whose accessible name is `name`; nullptr if none.
template <typename T>
T* byName(QWidget* root, const QString& name) {
  T* found = nullptr;
  for (T* w : root->findChildren<T*>()) {
    if (w->accessibleName() == name) {
      if (found) return nullptr;  // ambiguous: make the test fail loudly
      found = w;
    }
  }
  return found;
}

// Texts of the inline messages of `kind` currently shown under `root`.
inline QStringList shownMessages(QWidget* root,
                                 InlineMessage::Kind kind = InlineMessage::Kind::kError) {
  QStringList out;
  for (InlineMessage* m : root->findChildren<InlineMessage*>()) {
    if (m->isVisibleTo(root) && m->kind() == kind && !m->text().isEmpty()) out << m->text();
  }
  return out;
}

}  // namespace secchats::desktop::test
