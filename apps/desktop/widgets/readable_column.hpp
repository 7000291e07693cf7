// Keeps a full-window page (onboarding, unlock, identity card) in a centred column of readable
// width: a password field as wide as a maximised window is hard to scan and looks broken.
#pragma once

class QVBoxLayout;
class QWidget;

namespace secchats::desktop {

// Gives `page` (which must not have a layout yet) a layout holding one centred column at most
// `max_chars` average characters of the page's font wide (narrower when the page is), and
// returns the column's layout for the page's contents. Widgets created with `page` as parent
// move into the column when added. The column asks for no more minimum width than its contents,
// so the window can still shrink.
QVBoxLayout* readableColumn(QWidget* page, int max_chars);

}  // namespace secchats::desktop
