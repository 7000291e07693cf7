// Accessibility checks for tests: every visible interactive control must have an accessible name
// and a real role, and every one that takes keyboard focus must be reachable with Tab.
#pragma once

#include <QString>
#include <QStringList>

class QWidget;

namespace secchats::desktop::testing {

// Walks the accessibility tree under `root` (QAccessible::queryAccessibleInterface and its
// children, recursively; invisible subtrees are skipped). Reports every interactive element
// (buttons, check boxes, radio buttons, combo boxes, line and text edits, spin boxes, sliders,
// list/tree/table views, tabs, links) whose Name is empty, and every interactive widget whose
// role is NoRole or Client. Disabled controls are checked too: screen readers still read them.
// Then adds auditFocusChain(root). One sentence per problem, naming the widget's class/objectName
// path from `root`; empty when all is well.
QStringList auditAccessibility(QWidget* root);

// Every visible, enabled interactive widget under `root` must accept Tab focus (itself or via its
// focus proxy) and be in root's window focus chain.
QStringList auditFocusChain(QWidget* root);

// "OnboardingPage > QWidget > QLineEdit#nickname": where a widget is, for messages.
QString widgetPath(const QWidget* widget, const QWidget* root = nullptr);

}  // namespace secchats::desktop::testing
