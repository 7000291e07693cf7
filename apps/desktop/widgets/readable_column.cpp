#include "widgets/readable_column.hpp"

#include <QHBoxLayout>
#include <QVBoxLayout>
#include <QWidget>

namespace secchats::desktop {

QVBoxLayout* readableColumn(QWidget* page, int max_chars) {
  auto* outer = new QHBoxLayout(page);
  auto* column = new QWidget(page);
  column->setObjectName(QStringLiteral("readableColumn"));
  column->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
  column->setMaximumWidth(page->fontMetrics().averageCharWidth() * max_chars);
  // The column's stretch dwarfs the spacers': it takes all the width up to its maximum, the
  // spacers share the rest equally (an alignment would shrink it to its size hint instead).
  outer->addStretch(1);
  outer->addWidget(column, 1000);
  outer->addStretch(1);
  auto* inner = new QVBoxLayout(column);
  inner->setContentsMargins(0, 0, 0, 0);
  return inner;
}

}  // namespace secchats::desktop
