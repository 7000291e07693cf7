#include "message_delegate.hpp"

#include <QApplication>
#include <QImage>
#include <QListView>
#include <QPainter>
#include <QPainterPath>
#include <QTextLayout>
#include <algorithm>

#include "core/timeline_model.hpp"
#include "ui_text.hpp"

namespace secchats::desktop::ui {

namespace {

// Lays out `text` wrapped to `width`: at word boundaries, or anywhere for a word longer than
// the line (a pasted link). Returns the size the text takes.
QSizeF layoutText(QTextLayout& tl, int width) {
  QTextOption option;
  option.setWrapMode(QTextOption::WrapAtWordBoundaryOrAnywhere);
  tl.setTextOption(option);
  tl.beginLayout();
  qreal y = 0;
  qreal w = 0;
  for (;;) {
    QTextLine line = tl.createLine();
    if (!line.isValid()) break;
    line.setLineWidth(width);
    line.setPosition(QPointF(0, y));
    y += line.height();
    w = std::max(w, line.naturalTextWidth());
  }
  tl.endLayout();
  return {std::ceil(w), std::ceil(y)};
}

qint64 cacheKey(const QModelIndex& index) {
  const qint64 local = index.data(TimelineModel::kLocalIdRole).toLongLong();
  return local != 0 ? local : index.data(TimelineModel::kMessageIdRole).toLongLong();
}

}  // namespace

MessageDelegate::Kind MessageDelegate::kindOf(const QString& type) {
  if (type == QLatin1String("TEXT")) return Kind::kText;
  if (type == QLatin1String("IMG")) return Kind::kImage;
  return Kind::kAttachment;
}

MessageDelegate::Texts MessageDelegate::textsFor(const QModelIndex& index) {
  Texts t;
  const QString type = index.data(TimelineModel::kTypeRole).toString();
  t.kind = kindOf(type);
  t.outgoing = index.data(TimelineModel::kOutgoingRole).toBool();
  if (!t.outgoing) t.sender = displaySafe(index.data(TimelineModel::kSenderNameRole).toString());
  switch (t.kind) {
    case Kind::kText:
      t.body = displaySafe(index.data(TimelineModel::kTextRole).toString(), true);
      break;
    case Kind::kImage:
      t.body = tr("Photo");
      break;
    case Kind::kAttachment:
      t.body = tr("Attachment (%1)").arg(displaySafe(type.left(24)));
      break;
  }
  t.time = formatChatTime(index.data(TimelineModel::kTimeRole).toDateTime(),
                          QDateTime::currentDateTime());
  if (t.outgoing) t.delivery = deliveryText(index.data(TimelineModel::kDeliveryRole).toString());
  // Group equal reactions: "❤ 2  👍", first-seen order.
  QStringList order;
  QHash<QString, int> counts;
  for (const QString& e : index.data(TimelineModel::kReactionsRole).toStringList()) {
    if (e.isEmpty()) continue;
    if (!counts.contains(e)) order << e;
    ++counts[e];
  }
  QStringList parts;
  for (const QString& e : order) {
    parts << (counts[e] > 1 ? QStringLiteral("%1 %2").arg(e).arg(counts[e]) : e);
  }
  t.reactions = parts.join(QStringLiteral("  "));
  return t;
}

MessageDelegate::MessageDelegate(QListView* view) : QStyledItemDelegate(view), view_(view) {
  // Cost in kilopixels: about 60 thumbnails of 320×240.
  thumbs_.setMaxCost(5000);
}

int MessageDelegate::availableWidth() const {
  return view_ ? std::max(view_->viewport()->width(), 1) : 480;
}

QSize MessageDelegate::thumbnailSize(const QModelIndex& index, const QFont& font) const {
  const QImage image = index.data(TimelineModel::kImageRole).value<QImage>();
  const QFontMetrics fm(font);
  // About 320 px at the usual font size, never wider than most of the view.
  const int max_side = std::min(fm.height() * 18, availableWidth() * 3 / 4);
  if (image.isNull()) return {max_side / 2, max_side / 3};  // not decodable: a grey box
  QSize s = image.size();
  if (s.width() > max_side || s.height() > max_side) {
    s.scale(max_side, max_side, Qt::KeepAspectRatio);
  }
  return s.expandedTo(QSize(1, 1));
}

QPixmap MessageDelegate::thumbnail(const QModelIndex& index) const {
  if (kindOf(index.data(TimelineModel::kTypeRole).toString()) != Kind::kImage) return {};
  const qint64 key = cacheKey(index);
  if (QPixmap* hit = thumbs_.object(key)) return *hit;
  const QImage image = index.data(TimelineModel::kImageRole).value<QImage>();
  if (image.isNull()) return {};
  const QFont font = view_ ? view_->font() : QApplication::font();
  const qreal dpr = view_ ? view_->devicePixelRatioF() : 1.0;
  const QSize logical = thumbnailSize(index, font);
  QPixmap pm = QPixmap::fromImage(
      image.scaled(logical * dpr, Qt::KeepAspectRatio, Qt::SmoothTransformation));
  pm.setDevicePixelRatio(dpr);
  thumbs_.insert(key, new QPixmap(pm),
                 std::max<qint64>(1, qint64(pm.width()) * pm.height() / 1000));
  return pm;
}

MessageDelegate::Layout MessageDelegate::layout(const QModelIndex& index, const QFont& font,
                                                int width, const Texts& t) const {
  const QFontMetrics fm(font);
  const int m = fm.height() / 3;   // between rows
  const int ip = fm.height() / 2;  // inside the bubble
  const int side = fm.height();    // distance from the view's edge
  const int max_content = std::max(fm.averageCharWidth() * 8,
                                   std::min(width * 3 / 4, fm.averageCharWidth() * 70) - 2 * ip);
  Layout l;
  int y = ip;
  int content_w = 0;
  if (!t.sender.isEmpty() && show_senders_) {
    QFont bold = font;
    bold.setBold(true);
    const QFontMetrics bfm(bold);
    // +2: elidedText() at exactly the advance width can still elide (sub-pixel rounding).
    const int w = std::min(bfm.horizontalAdvance(t.sender) + 2, max_content);
    l.sender = QRect(ip, y, w, bfm.height());
    y += bfm.height() + m / 2;
    content_w = std::max(content_w, w);
  }
  if (t.kind == Kind::kImage) {
    const QSize s = thumbnailSize(index, font);
    l.image = QRect(QPoint(ip, y), s);
    y += s.height() + m / 2;
    content_w = std::max(content_w, s.width());
  } else {
    QTextLayout tl(t.body, font);
    const QSizeF s = layoutText(tl, max_content);
    l.body = QRect(ip, y, int(s.width()), int(s.height()));
    y += int(s.height()) + m / 2;
    content_w = std::max(content_w, int(s.width()));
  }
  QString footer = t.time;
  if (!t.delivery.isEmpty()) footer += QStringLiteral(" · ") + t.delivery;
  QFont small = font;
  small.setPointSizeF(font.pointSizeF() > 0 ? font.pointSizeF() * 0.85 : 9);
  const QFontMetrics sfm(small);
  const int fw = sfm.horizontalAdvance(footer);
  content_w = std::max(content_w, fw);
  l.footer = QRect(ip, y, content_w, sfm.height());
  y += sfm.height() + ip;
  l.bubble = QRect(0, 0, content_w + 2 * ip, y);
  const int x = t.outgoing ? width - side - l.bubble.width() : side;
  const int top = m;
  const QPoint off(x, top);
  l.bubble.translate(off);
  l.sender.translate(off);
  l.image.translate(off);
  l.body.translate(off);
  l.footer.translate(off);
  l.height = top + l.bubble.height() + m;
  if (!t.reactions.isEmpty()) {
    const QFontMetrics rfm(reactionFont(font));
    const int rw = rfm.horizontalAdvance(t.reactions) + ip * 2;
    const int rx = t.outgoing ? l.bubble.right() - rw : l.bubble.left();
    l.reactions = QRect(rx, l.bubble.bottom() + m / 2, rw, rfm.height() + m);
    l.height = l.reactions.bottom() + m + 1;
  }
  return l;
}

QFont MessageDelegate::reactionFont(const QFont& body) {
  QFont f = body;
  if (body.pointSizeF() > 0) {
    f.setPointSizeF(body.pointSizeF() * 1.3);
  } else {
    f.setPixelSize(body.pixelSize() * 13 / 10);
  }
  return f;
}

QRect MessageDelegate::reactionsRect(const QModelIndex& index, const QRect& item_rect) const {
  const QFont font = view_ ? view_->font() : QApplication::font();
  return layout(index, font, item_rect.width(), textsFor(index))
      .reactions.translated(item_rect.topLeft());
}

QSize MessageDelegate::sizeHint(const QStyleOptionViewItem& option,
                                const QModelIndex& index) const {
  const int width = availableWidth();
  // QListView asks every row's size whenever it lays out (a page prepended, a resize): with
  // thousands of rows, laying out each text again made scrolling stall. A row's height
  // depends only on its text or photo (fixed per message), the width, the font, whether
  // senders show and whether it has reactions; delivery and which reactions do not change it.
  const qint64 local_id = index.data(TimelineModel::kLocalIdRole).toLongLong();
  const bool has_reactions = index.data(TimelineModel::kHasReactionsRole).toBool();
  if (const CachedHeight* c = heights_.object(local_id);
      c && local_id != 0 && c->width == width && c->show_senders == show_senders_ &&
      c->has_reactions == has_reactions && c->font == option.font) {
    return {width, c->height};
  }
  const int height = layout(index, option.font, width, textsFor(index)).height;
  if (local_id != 0) {
    heights_.insert(local_id,
                    new CachedHeight{width, height, show_senders_, has_reactions, option.font});
  }
  return {width, height};
}

QRect MessageDelegate::imageRect(const QModelIndex& index, const QRect& item_rect) const {
  const Texts t = textsFor(index);
  if (t.kind != Kind::kImage) return {};
  const QFont font = view_ ? view_->font() : QApplication::font();
  return layout(index, font, item_rect.width(), t).image.translated(item_rect.topLeft());
}

void MessageDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option,
                            const QModelIndex& index) const {
  const Texts t = textsFor(index);
  Layout l = layout(index, option.font, option.rect.width(), t);
  const QPoint origin = option.rect.topLeft();
  const QPalette& pal = option.palette;

  painter->save();
  painter->setRenderHint(QPainter::Antialiasing);
  painter->translate(origin);
  const QFontMetrics fm(option.font);
  const qreal radius = fm.height() * 0.6;

  QColor fill = t.outgoing ? pal.color(QPalette::Highlight) : pal.color(QPalette::AlternateBase);
  if (t.outgoing) fill.setAlphaF(0.22f);
  QPainterPath bubble;
  bubble.addRoundedRect(l.bubble, radius, radius);
  painter->fillPath(bubble, fill);
  if (option.state & QStyle::State_Selected) {
    painter->setPen(QPen(pal.color(QPalette::Highlight), 2));
    painter->drawPath(bubble);
  } else if (!t.outgoing) {
    painter->setPen(QPen(pal.color(QPalette::Mid), 1));
    painter->drawPath(bubble);
  }

  const QColor text = pal.color(QPalette::Text);
  if (!l.sender.isEmpty()) {
    QFont bold = option.font;
    bold.setBold(true);
    painter->setFont(bold);
    painter->setPen(pal.color(QPalette::Link));
    painter->drawText(l.sender, Qt::AlignLeft,
                      QFontMetrics(bold).elidedText(t.sender, Qt::ElideRight, l.sender.width()));
  }
  painter->setFont(option.font);
  painter->setPen(text);
  if (t.kind == Kind::kImage) {
    const QPixmap pm = thumbnail(index);
    if (pm.isNull()) {
      painter->fillRect(l.image, pal.color(QPalette::Mid));
      painter->drawText(l.image, Qt::AlignCenter, t.body);
    } else {
      painter->drawPixmap(l.image, pm);
    }
  } else {
    QTextLayout tl(t.body, option.font);
    layoutText(tl, std::max(l.body.width(), 1) + 1);
    if (t.kind == Kind::kAttachment) painter->setPen(pal.color(QPalette::PlaceholderText));
    tl.draw(painter, l.body.topLeft());
  }

  QFont small = option.font;
  small.setPointSizeF(option.font.pointSizeF() > 0 ? option.font.pointSizeF() * 0.85 : 9);
  painter->setFont(small);
  QColor dim = text;
  dim.setAlphaF(0.6f);
  painter->setPen(dim);
  const Qt::Alignment footer_align = t.outgoing ? Qt::AlignRight : Qt::AlignLeft;
  if (t.delivery.isEmpty()) {
    painter->drawText(l.footer, footer_align, t.time);
  } else {
    const QString mark = QStringLiteral(" · ") + t.delivery;
    const QFontMetrics sfm(small);
    const int mark_w = sfm.horizontalAdvance(mark);
    const QRect mark_rect(l.footer.right() - mark_w + 1, l.footer.top(), mark_w, l.footer.height());
    painter->drawText(l.footer.adjusted(0, 0, -mark_w, 0), Qt::AlignRight, t.time);
    if (index.data(TimelineModel::kDeliveryRole).toString() == QLatin1String("failed")) {
      painter->setPen(QColor(0xc0, 0x30, 0x30));
    }
    painter->drawText(mark_rect, Qt::AlignRight, mark);
  }

  if (!l.reactions.isEmpty()) {
    painter->setFont(reactionFont(option.font));
    QPainterPath pill;
    pill.addRoundedRect(l.reactions, l.reactions.height() / 2.0, l.reactions.height() / 2.0);
    painter->fillPath(pill, pal.color(QPalette::Base));
    painter->setPen(QPen(pal.color(QPalette::Mid), 1));
    painter->drawPath(pill);
    painter->setPen(text);
    painter->drawText(l.reactions, Qt::AlignCenter, t.reactions);
  }
  if (option.state & QStyle::State_HasFocus) {
    QPen focus(pal.color(QPalette::Highlight), 1, Qt::DotLine);
    painter->setPen(focus);
    painter->setBrush(Qt::NoBrush);
    painter->drawRoundedRect(l.bubble.adjusted(-2, -2, 2, 2), radius, radius);
  }
  painter->restore();
}

}  // namespace secchats::desktop::ui
