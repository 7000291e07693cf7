// The chat list's rows: title with a v1/v2 badge and a closed-group mark, the time of the last
// activity, a one-line preview and an unread badge. Everything peer-controlled is painted as
// plain text (QPainter::drawText never interprets markup).
#pragma once

#include <QDateTime>
#include <QSortFilterProxyModel>
#include <QStyledItemDelegate>

namespace secchats::desktop::ui {

class ChatListDelegate : public QStyledItemDelegate {
  Q_OBJECT
 public:
  using QStyledItemDelegate::QStyledItemDelegate;

  // What a row shows, exactly as painted (tests assert on it).
  struct Texts {
    QString title;    // display-safe title
    QString preview;  // display-safe one-line preview ("" in a chat without messages)
    QString time;     // formatChatTime(last activity, now)
    QString badge;    // "v1" / "v2"
    QString unread;   // "" when 0, else the count ("99+" past 99)
    QString closed;   // "" or "Closed" (a group that removed us)
  };
  static Texts textsFor(const QModelIndex& index, const QDateTime& now);

  void paint(QPainter* painter, const QStyleOptionViewItem& option,
             const QModelIndex& index) const override;
  QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override;
};

// The search box's filter: a chat matches when its title or id contains the typed text
// (case-insensitive). Order stays the source's (most recent activity first).
class ChatFilterProxy : public QSortFilterProxyModel {
  Q_OBJECT
 public:
  using QSortFilterProxyModel::QSortFilterProxyModel;
  void setSearchText(const QString& text);

 protected:
  bool filterAcceptsRow(int source_row, const QModelIndex& source_parent) const override;

 private:
  QString needle_;
};

}  // namespace secchats::desktop::ui
