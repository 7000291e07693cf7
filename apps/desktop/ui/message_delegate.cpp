#include "message_delegate.hpp"

#include <QApplication>
#include <QIcon>
#include <QImage>
#include <QListView>
#include <QLocale>
#include <QPainter>
#include <QPainterPath>
#include <QStyle>
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

MessageDelegate::Kind MessageDelegate::kindOf(const QModelIndex& index) {
  const QString type = index.data(TimelineModel::kTypeRole).toString();
  if (type != QLatin1String("FILE")) return kindOf(type);
  const QString kind = index.data(TimelineModel::kAttachmentKindRole).toString();
  if (kind.isEmpty()) return Kind::kAttachment;  // a FILE message without its attachment
  if (kind == QLatin1String("image") || kind == QLatin1String("video")) return Kind::kMedia;
  if (kind == QLatin1String("voice")) return Kind::kVoice;
  return Kind::kFile;
}

namespace {

QString durationText(qint64 ms) {
  const qint64 s = (ms + 500) / 1000;
  return QStringLiteral("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
}

// Size, duration and where the transfer stands, in one line.
QString attachmentDetail(const QModelIndex& index, int percent) {
  QStringList parts;
  const QString kind = index.data(TimelineModel::kAttachmentKindRole).toString();
  const qint64 ms = index.data(TimelineModel::kDurationRole).toLongLong();
  if ((kind == QLatin1String("voice") || kind == QLatin1String("video")) && ms > 0) {
    parts << durationText(ms);
  }
  parts << QLocale().formattedDataSize(index.data(TimelineModel::kFileSizeRole).toLongLong());
  const bool outgoing = index.data(TimelineModel::kOutgoingRole).toBool();
  const bool uploading =
      index.data(TimelineModel::kUploadStateRole).toString() == QLatin1String("uploading");
  if (outgoing && uploading) {
    parts << (percent >= 0 ? MessageDelegate::tr("Uploading… %1%").arg(percent)
                           : MessageDelegate::tr("Upload stopped"));
  } else if (percent >= 0) {
    parts << MessageDelegate::tr("Downloading… %1%").arg(percent);
  } else if (!index.data(TimelineModel::kSavedPathRole).toString().isEmpty()) {
    parts << MessageDelegate::tr("Saved");
  }
  return parts.join(QStringLiteral(" · "));
}

}  // namespace

MessageDelegate::Texts MessageDelegate::textsFor(const QModelIndex& index) {
  Texts t;
  const QString type = index.data(TimelineModel::kTypeRole).toString();
  t.kind = kindOf(index);
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
    case Kind::kVoice:
      t.body = tr("Voice message");
      break;
    case Kind::kFile:
    case Kind::kMedia: {
      // The sender's name for it: plain text, controls shown as pictures, never markup.
      const QString name = index.data(TimelineModel::kFileNameRole).toString();
      t.body = name.isEmpty() ? tr("Unnamed file") : displaySafe(name);
      break;
    }
  }
  if (t.kind == Kind::kFile || t.kind == Kind::kMedia || t.kind == Kind::kVoice) {
    t.percent = index.data(TimelineModel::kTransferPercentRole).toInt();
    t.detail = attachmentDetail(index, t.percent);
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

QSize MessageDelegate::mediaSize(const QModelIndex& index, const QFont& font) const {
  // The thumbnail is small (16 KiB of JPEG): shown at most about 240 px, in the photo's or
  // video's own proportions (kMediaSizeRole) so the bubble does not jump once it is opened.
  const QFontMetrics fm(font);
  const int max_side = std::min(fm.height() * 14, availableWidth() * 3 / 4);
  QSize s = index.data(TimelineModel::kMediaSizeRole).toSize();
  if (!s.isValid() || s.isEmpty()) {
    s = index.data(TimelineModel::kThumbnailRole).value<QImage>().size();
  }
  if (!s.isValid() || s.isEmpty()) s = QSize(4, 3);
  s.scale(max_side, max_side, Qt::KeepAspectRatio);
  return s.expandedTo(QSize(fm.height() * 2, fm.height() * 2)).boundedTo(QSize(max_side, max_side));
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
  const Kind kind = kindOf(index);
  if (kind != Kind::kImage && kind != Kind::kMedia) return {};
  const qint64 key = cacheKey(index);
  if (QPixmap* hit = thumbs_.object(key)) return *hit;
  const QImage image =
      index.data(kind == Kind::kImage ? TimelineModel::kImageRole : TimelineModel::kThumbnailRole)
          .value<QImage>();
  if (image.isNull()) return {};
  const QFont font = view_ ? view_->font() : QApplication::font();
  const qreal dpr = view_ ? view_->devicePixelRatioF() : 1.0;
  const QSize logical = kind == Kind::kImage ? thumbnailSize(index, font) : mediaSize(index, font);
  QPixmap pm = QPixmap::fromImage(
      image.scaled(logical * dpr, Qt::KeepAspectRatio, Qt::SmoothTransformation));
  pm.setDevicePixelRatio(dpr);
  if (kind == Kind::kMedia) {
    // Filled to the box (the thumbnail's proportions may differ a little from the media's).
    pm = QPixmap::fromImage(
        image.scaled(logical * dpr, Qt::IgnoreAspectRatio, Qt::SmoothTransformation));
    pm.setDevicePixelRatio(dpr);
  }
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
  QFont small = font;
  small.setPointSizeF(font.pointSizeF() > 0 ? font.pointSizeF() * 0.85 : 9);
  const QFontMetrics sfm(small);
  if (t.kind == Kind::kImage) {
    const QSize s = thumbnailSize(index, font);
    l.image = QRect(QPoint(ip, y), s);
    y += s.height() + m / 2;
    content_w = std::max(content_w, s.width());
  } else if (t.kind == Kind::kMedia || t.kind == Kind::kFile || t.kind == Kind::kVoice) {
    // [thumbnail]            or   [icon] name
    // name                               detail
    // detail                      [progress]
    // [progress]
    int x = ip;
    int text_max = max_content;
    if (t.kind == Kind::kMedia) {
      const QSize s = mediaSize(index, font);
      l.image = QRect(QPoint(ip, y), s);
      y += s.height() + m / 2;
      content_w = std::max(content_w, s.width());
    } else {
      const int icon_side = fm.height() * 2;
      l.icon = QRect(ip, y, icon_side, icon_side);
      x = ip + icon_side + ip;
      text_max = std::max(fm.averageCharWidth() * 8, max_content - icon_side - ip);
    }
    const int text_top = y;
    QTextLayout tl(t.body, font);
    const QSizeF s = layoutText(tl, text_max);
    l.body = QRect(x, y, int(s.width()), int(s.height()));
    y += int(s.height());
    const int dw = std::min(sfm.horizontalAdvance(t.detail) + 2, text_max);
    l.detail = QRect(x, y, dw, sfm.height());
    y += sfm.height();
    const int text_w = std::max(l.body.width(), dw);
    if (!l.icon.isEmpty()) y = std::max(y, text_top + l.icon.height());
    content_w = std::max(content_w, x - ip + text_w);
    if (t.percent >= 0) {
      y += m / 2;
      l.progress = QRect(ip, y, 0, std::max(4, fm.height() / 3));
      y += l.progress.height();
    }
    y += m / 2;
  } else {
    QTextLayout tl(t.body, font);
    const QSizeF s = layoutText(tl, max_content);
    l.body = QRect(ip, y, int(s.width()), int(s.height()));
    y += int(s.height()) + m / 2;
    content_w = std::max(content_w, int(s.width()));
  }
  QString footer = t.time;
  if (!t.delivery.isEmpty()) footer += QStringLiteral(" · ") + t.delivery;
  const int fw = sfm.horizontalAdvance(footer);
  content_w = std::max(content_w, fw);
  if (!l.progress.isNull()) l.progress.setWidth(std::max(content_w, fm.height() * 6));
  content_w = std::max(content_w, l.progress.width());
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
  l.icon.translate(off);
  l.detail.translate(off);
  l.progress.translate(off);
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
  const bool has_progress = index.data(TimelineModel::kTransferPercentRole).toInt() >= 0;
  if (const CachedHeight* c = heights_.object(local_id);
      c && local_id != 0 && c->width == width && c->show_senders == show_senders_ &&
      c->has_reactions == has_reactions && c->has_progress == has_progress &&
      c->font == option.font) {
    return {width, c->height};
  }
  const int height = layout(index, option.font, width, textsFor(index)).height;
  if (local_id != 0) {
    heights_.insert(local_id, new CachedHeight{width, height, show_senders_, has_reactions,
                                               has_progress, option.font});
  }
  return {width, height};
}

QRect MessageDelegate::attachmentRect(const QModelIndex& index, const QRect& item_rect) const {
  const Texts t = textsFor(index);
  if (t.kind != Kind::kMedia && t.kind != Kind::kFile && t.kind != Kind::kVoice) return {};
  const QFont font = view_ ? view_->font() : QApplication::font();
  const Layout l = layout(index, font, item_rect.width(), t);
  return (t.kind == Kind::kMedia ? l.image : l.icon).translated(item_rect.topLeft());
}

QRect MessageDelegate::bubbleRect(const QModelIndex& index, const QRect& item_rect) const {
  const QFont font = view_ ? view_->font() : QApplication::font();
  return layout(index, font, item_rect.width(), textsFor(index))
      .bubble.translated(item_rect.topLeft());
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
  } else if (t.kind == Kind::kMedia || t.kind == Kind::kFile || t.kind == Kind::kVoice) {
    paintAttachment(painter, option, index, l, t);
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

void MessageDelegate::paintAttachment(QPainter* painter, const QStyleOptionViewItem& option,
                                      const QModelIndex& index, const Layout& l,
                                      const Texts& t) const {
  const QPalette& pal = option.palette;
  const QColor text = pal.color(QPalette::Text);
  if (t.kind == Kind::kMedia) {
    const QPixmap pm = thumbnail(index);
    if (pm.isNull()) {
      painter->fillRect(l.image, pal.color(QPalette::Mid));
    } else {
      painter->drawPixmap(l.image, pm);
    }
    if (index.data(TimelineModel::kAttachmentKindRole).toString() == QLatin1String("video")) {
      // A play triangle over the middle: it is a video, not a photo.
      const int r = std::min(l.image.width(), l.image.height()) / 6;
      const QPoint c = l.image.center();
      QPainterPath tri;
      tri.moveTo(c.x() - r / 2, c.y() - r);
      tri.lineTo(c.x() + r, c.y());
      tri.lineTo(c.x() - r / 2, c.y() + r);
      tri.closeSubpath();
      painter->setBrush(QColor(0, 0, 0, 140));
      painter->setPen(Qt::NoPen);
      painter->drawEllipse(c, int(r * 1.5), int(r * 1.5));
      painter->fillPath(tri, Qt::white);
    }
  } else {
    painter->setPen(Qt::NoPen);
    painter->setBrush(pal.color(QPalette::Button));
    painter->drawRoundedRect(l.icon, l.icon.width() / 5.0, l.icon.width() / 5.0);
    painter->setPen(pal.color(QPalette::ButtonText));
    if (t.kind == Kind::kVoice) {
      const QRect in = l.icon.adjusted(l.icon.width() / 3, l.icon.height() / 4, -l.icon.width() / 4,
                                       -l.icon.height() / 4);
      QPainterPath tri;
      tri.moveTo(in.topLeft());
      tri.lineTo(in.right(), in.center().y());
      tri.lineTo(in.bottomLeft());
      tri.closeSubpath();
      painter->fillPath(tri, pal.color(QPalette::ButtonText));
    } else {
      const QIcon icon = QApplication::style()->standardIcon(QStyle::SP_FileIcon);
      icon.paint(painter, l.icon.adjusted(4, 4, -4, -4));
    }
  }
  painter->setFont(option.font);
  painter->setPen(text);
  QTextLayout tl(t.body, option.font);
  layoutText(tl, std::max(l.body.width(), 1) + 1);
  tl.draw(painter, l.body.topLeft());
  QFont small = option.font;
  small.setPointSizeF(option.font.pointSizeF() > 0 ? option.font.pointSizeF() * 0.85 : 9);
  painter->setFont(small);
  QColor dim = text;
  dim.setAlphaF(0.7f);
  painter->setPen(dim);
  painter->drawText(l.detail, Qt::AlignLeft,
                    QFontMetrics(small).elidedText(t.detail, Qt::ElideRight, l.detail.width()));
  if (!l.progress.isEmpty()) {
    const qreal r = l.progress.height() / 2.0;
    QPainterPath track;
    track.addRoundedRect(l.progress, r, r);
    painter->fillPath(track, pal.color(QPalette::Mid));
    QRect done = l.progress;
    done.setWidth(l.progress.width() * std::clamp(t.percent, 0, 100) / 100);
    if (done.width() > 0) {
      QPainterPath bar;
      bar.addRoundedRect(done, r, r);
      painter->fillPath(bar, pal.color(QPalette::Highlight));
    }
  }
}

}  // namespace secchats::desktop::ui
