// One message of the timeline as a bubble: our own on the right, others on the left (with the
// sender's name in groups). Text wraps; a photo is an inline thumbnail (cached scaled pixmap);
// our own messages carry their delivery mark ("Sending…", "Sent", "Failed" — "Sent" only when
// the library says the relay took it); reactions sit in a row under the bubble.
#pragma once

#include <QCache>
#include <QFont>
#include <QPixmap>
#include <QStyledItemDelegate>

class QListView;
class QTextLayout;

namespace secchats::desktop::ui {

class MessageDelegate : public QStyledItemDelegate {
  Q_OBJECT
 public:
  // What a row renders as. kAttachment is the placeholder for types this build does not show
  // (or a FILE message without its attachment): "Attachment" and the type, never the raw
  // payload. FILE messages (protocol-v2 §15): kMedia (a photo or video: its thumbnail), kVoice
  // (a play symbol, "Voice message", duration), kFile (a file icon, name, size).
  enum class Kind { kText, kImage, kAttachment, kFile, kMedia, kVoice };
  static Kind kindOf(const QString& type);
  static Kind kindOf(const QModelIndex& index);  // with the attachment's kind

  // What a row shows, exactly as painted (tests assert on it).
  struct Texts {
    Kind kind = Kind::kText;
    QString sender;     // display-safe sender name; "" for our own or in a direct chat
    QString body;       // text (display-safe, line breaks kept); "Photo"; "Attachment (TYPE)";
                        // an attachment's file name (display-safe) or "Voice message"
    QString detail;     // attachments: "1.2 MB", "0:12 · 40 KB", "Uploading… 42%", "Saved"
    int percent = -1;   // attachments: a transfer's progress (0..100), -1 none
    QString time;       // hh:mm or date
    QString delivery;   // deliveryText(): only for our own messages
    QString reactions;  // "❤ 2  👍" (each emoji once, with its count when > 1); "" if none
    bool outgoing = false;
  };
  static Texts textsFor(const QModelIndex& index);

  // `view`: the timeline, whose viewport width the bubbles wrap to.
  explicit MessageDelegate(QListView* view);

  // The photo's rectangle inside an item's rectangle (empty for non-photos), for clicks.
  QRect imageRect(const QModelIndex& index, const QRect& item_rect) const;
  // An attachment's clickable area (thumbnail, file icon or play symbol); empty otherwise.
  QRect attachmentRect(const QModelIndex& index, const QRect& item_rect) const;
  // The bubble's rectangle inside an item's rectangle (for clipping checks in tests).
  QRect bubbleRect(const QModelIndex& index, const QRect& item_rect) const;
  // The reaction row's rectangle inside an item's rectangle (empty without reactions).
  QRect reactionsRect(const QModelIndex& index, const QRect& item_rect) const;
  // The font of the reaction row: larger than the text's, because a colour emoji drawn at the
  // text's size looks smaller than the letters next to it.
  static QFont reactionFont(const QFont& body);
  // The thumbnail shown for a photo (cached; null for non-photos).
  QPixmap thumbnail(const QModelIndex& index) const;
  void clearCache() {
    thumbs_.clear();
    heights_.clear();
  }

  // Whether sender names are shown (group chats).
  void setShowSenders(bool show) { show_senders_ = show; }

  void paint(QPainter* painter, const QStyleOptionViewItem& option,
             const QModelIndex& index) const override;
  QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override;

 private:
  struct Layout {
    QRect bubble, sender, body, image, footer, reactions;
    QRect icon, detail, progress;  // attachments
    int height = 0;
  };
  void paintAttachment(QPainter* painter, const QStyleOptionViewItem& option,
                       const QModelIndex& index, const Layout& l, const Texts& t) const;
  QSize mediaSize(const QModelIndex& index, const QFont& font) const;
  Layout layout(const QModelIndex& index, const QFont& font, int width, const Texts& t) const;
  QSize thumbnailSize(const QModelIndex& index, const QFont& font) const;
  int availableWidth() const;

  QListView* view_;
  bool show_senders_ = false;
  mutable QCache<qint64, QPixmap> thumbs_;
  // Row heights by local id, with what they were computed for (sizeHint).
  struct CachedHeight {
    int width = 0;
    int height = 0;
    bool show_senders = false;
    bool has_reactions = false;
    bool has_progress = false;
    QFont font;
  };
  mutable QCache<qint64, CachedHeight> heights_{50000};
};

}  // namespace secchats::desktop::ui
