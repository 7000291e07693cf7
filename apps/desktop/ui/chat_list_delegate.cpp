#include "chat_list_delegate.hpp"

#include <QApplication>
#include <QPainter>
#include <QPainterPath>

#include "core/chat_list_model.hpp"
#include "ui_text.hpp"

namespace secchats::desktop::ui {

namespace {
// Padding and gaps in units of the font's height, so rows scale with the font (high DPI).
int pad(const QFontMetrics& fm) {
  return fm.height() / 3;
}
}  // namespace

ChatListDelegate::Texts ChatListDelegate::textsFor(const QModelIndex& index, const QDateTime& now) {
  Texts t;
  QString preview = index.data(ChatListModel::kLastMessageRole).toString();
  preview.replace(QLatin1Char('\n'), QLatin1Char(' '));
  t.title = displaySafe(index.data(ChatListModel::kTitleRole).toString());
  t.preview = displaySafe(preview);
  t.time = formatChatTime(index.data(ChatListModel::kLastActivityRole).toDateTime(), now);
  t.badge = protocolBadge(index.data(ChatListModel::kProtocolRole).toString());
  const int unread = index.data(ChatListModel::kUnreadRole).toInt();
  if (unread > 0) t.unread = unread > 99 ? QStringLiteral("99+") : QString::number(unread);
  if (index.data(ChatListModel::kClosedRole).toBool()) {
    t.closed = QCoreApplication::translate("ChatListDelegate", "Closed");
  }
  return t;
}

QSize ChatListDelegate::sizeHint(const QStyleOptionViewItem& option, const QModelIndex&) const {
  const QFontMetrics fm(option.font);
  return {fm.averageCharWidth() * 30, fm.height() * 2 + pad(fm) * 3};
}

void ChatListDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option,
                             const QModelIndex& index) const {
  QStyleOptionViewItem opt = option;
  initStyleOption(&opt, index);
  opt.text.clear();  // we draw the texts ourselves; the style draws background and focus
  const QWidget* widget = option.widget;
  QStyle* style = widget ? widget->style() : QApplication::style();
  style->drawControl(QStyle::CE_ItemViewItem, &opt, painter, widget);

  const Texts t = textsFor(index, QDateTime::currentDateTime());
  const bool selected = option.state & QStyle::State_Selected;
  const QPalette& pal = option.palette;
  const QColor text_color = pal.color(selected ? QPalette::HighlightedText : QPalette::Text);
  QColor dim = text_color;
  dim.setAlphaF(0.65f);

  painter->save();
  QFont title_font = option.font;
  title_font.setBold(!t.unread.isEmpty());
  const QFontMetrics fm(option.font);
  const QFontMetrics tfm(title_font);
  const int p = pad(fm);
  const QRect r = option.rect.adjusted(p * 2, p, -p * 2, -p);
  const int line1 = r.top();
  const int line2 = r.top() + fm.height() + p;

  // Line 1, right: time. Left: title, then badge and closed mark.
  painter->setFont(option.font);
  painter->setPen(dim);
  const int time_w = fm.horizontalAdvance(t.time);
  painter->drawText(QRect(r.right() - time_w, line1, time_w, fm.height()), Qt::AlignRight, t.time);

  QString marks = t.badge;
  if (!t.closed.isEmpty()) marks += QStringLiteral(" · ") + t.closed;
  const int marks_w = fm.horizontalAdvance(marks) + p * 2;
  const int title_room = std::max(0, r.width() - time_w - marks_w - p * 3);
  const QString title = tfm.elidedText(t.title, Qt::ElideRight, title_room);
  painter->setFont(title_font);
  painter->setPen(text_color);
  painter->drawText(QRect(r.left(), line1, title_room, tfm.height()), Qt::AlignLeft, title);
  const int marks_x = r.left() + tfm.horizontalAdvance(title) + p;
  QRect marks_rect(marks_x, line1, marks_w, fm.height());
  painter->setFont(option.font);
  painter->setPen(dim);
  QColor frame = dim;
  frame.setAlphaF(0.4f);
  painter->setPen(frame);
  painter->drawRoundedRect(marks_rect.adjusted(0, 1, 0, -1), p, p);
  painter->setPen(t.closed.isEmpty() ? dim : QColor(0xc0, 0x30, 0x30));
  painter->drawText(marks_rect, Qt::AlignCenter, marks);

  // Line 2: preview, unread badge on the right.
  int badge_w = 0;
  if (!t.unread.isEmpty()) {
    badge_w = std::max(fm.height(), fm.horizontalAdvance(t.unread) + p * 2);
    const QRect badge(r.right() - badge_w, line2, badge_w, fm.height());
    painter->setRenderHint(QPainter::Antialiasing);
    QPainterPath path;
    path.addRoundedRect(badge, fm.height() / 2.0, fm.height() / 2.0);
    painter->fillPath(path, pal.color(selected ? QPalette::HighlightedText : QPalette::Highlight));
    painter->setPen(pal.color(selected ? QPalette::Highlight : QPalette::HighlightedText));
    painter->drawText(badge, Qt::AlignCenter, t.unread);
  }
  painter->setPen(dim);
  const int preview_room = std::max(0, r.width() - badge_w - p);
  painter->drawText(QRect(r.left(), line2, preview_room, fm.height()), Qt::AlignLeft,
                    fm.elidedText(t.preview, Qt::ElideRight, preview_room));
  painter->restore();
}

void ChatFilterProxy::setSearchText(const QString& text) {
  const QString needle = text.trimmed();
  if (needle == needle_) return;
  needle_ = needle;
  invalidateFilter();
}

bool ChatFilterProxy::filterAcceptsRow(int source_row, const QModelIndex& source_parent) const {
  const QString& needle = needle_;
  if (needle.isEmpty()) return true;
  const QModelIndex i = sourceModel()->index(source_row, 0, source_parent);
  return i.data(ChatListModel::kTitleRole).toString().contains(needle, Qt::CaseInsensitive) ||
         i.data(ChatListModel::kChatIdRole).toString().contains(needle, Qt::CaseInsensitive);
}

}  // namespace secchats::desktop::ui
