// The ui/ views without a Session: the pure helpers, the chat-list and message delegates on
// models filled directly, and the composer's keys and paste handling.
#include <gtest/gtest.h>

#include <QApplication>
#include <QAudioDevice>
#include <QBuffer>
#include <QListView>
#include <QLocale>
#include <QMediaDevices>
#include <QMimeData>
#include <QPainter>
#include <QPushButton>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTest>
#include <QVBoxLayout>

#include "core/chat_list_model.hpp"
#include "core/timeline_model.hpp"
#include "ui/chat_list_delegate.hpp"
#include "ui/composer.hpp"
#include "ui/message_delegate.hpp"
#include "ui/ui_text.hpp"
#include "ui/voice_recorder.hpp"

namespace secchats::desktop::ui {
namespace {

std::int64_t msSince(const QDateTime& t) {
  return t.toMSecsSinceEpoch();
}

TEST(UiText, UserIdsAreHexOf32To128Digits) {
  const QString id = QStringLiteral("0123456789abcdef0123456789abcdef");
  EXPECT_EQ(normalizeUserId(id), id);
  EXPECT_EQ(normalizeUserId(QStringLiteral("  0123456789ABCDEF\n0123456789abcdef ")), id);
  EXPECT_EQ(normalizeUserId(id.left(31)), QString());
  EXPECT_EQ(normalizeUserId(id + QStringLiteral("g")), QString());
  EXPECT_EQ(normalizeUserId(QString(129, QLatin1Char('a'))), QString());
  EXPECT_EQ(normalizeUserId(QString()), QString());
}

TEST(UiText, DeliveryIsSentOnlyWhenTheLibrarySaysSo) {
  EXPECT_EQ(deliveryText(QStringLiteral("sent")), QStringLiteral("Sent"));
  EXPECT_EQ(deliveryText(QStringLiteral("pending")), QStringLiteral("Sending…"));
  EXPECT_EQ(deliveryText(QStringLiteral("failed")), QStringLiteral("Failed"));
  EXPECT_EQ(deliveryText(QStringLiteral("received")), QString());
  EXPECT_EQ(deliveryText(QStringLiteral("")), QString());
}

TEST(UiText, PeerControlCharactersBecomeVisibleAndBidiIsIsolated) {
  EXPECT_EQ(displaySafe(QStringLiteral("a\nb\x1b")), QStringLiteral("a\u240Ab\u241B"));
  EXPECT_EQ(displaySafe(QStringLiteral("a\nb"), true), QStringLiteral("a\nb"));
  const QString rlo = QStringLiteral("evil\u202Etxt.exe");
  const QString safe = displaySafe(rlo);
  EXPECT_TRUE(safe.startsWith(QChar(0x2068)));
  EXPECT_TRUE(safe.endsWith(QChar(0x2069)));
}

TEST(UiText, TimeIsClockTodayAndDateBefore) {
  const QDateTime now = QDateTime::currentDateTime();
  const QDateTime earlier_today(now.date(), QTime(0, 5));
  EXPECT_EQ(formatChatTime(earlier_today, now), QStringLiteral("00:05"));
  const QString old = formatChatTime(now.addDays(-3), now);
  EXPECT_FALSE(old.contains(QLatin1Char(':'))) << old.toStdString();
  EXPECT_FALSE(old.isEmpty());
}

TEST(UiText, ProtocolBadgesExplainThemselves) {
  EXPECT_EQ(protocolBadge(QStringLiteral("v2")), QStringLiteral("v2"));
  EXPECT_EQ(protocolBadge(QStringLiteral("v1")), QStringLiteral("v1"));
  EXPECT_TRUE(
      protocolExplanation(QStringLiteral("v2")).contains(QStringLiteral("forward secrecy")));
  EXPECT_TRUE(protocolExplanation(QStringLiteral("v1")).contains(QStringLiteral("no forward")));
  EXPECT_EQ(reactionNames().size(), 8);  // seven emoji and EMO_SMILE_PLUS (none)
  EXPECT_EQ(reactionSymbol(QStringLiteral("EMO_SMILE_PLUS")), QString());
  EXPECT_FALSE(reactionSymbol(QStringLiteral("EMO_HEART")).isEmpty());
}

std::vector<ChatSummary> sampleChats() {
  const QDateTime now = QDateTime::currentDateTime();
  ChatSummary alice;
  alice.kind = ChatKind::kFriend;
  alice.chat_id = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  alice.title = "Alice\x07";
  alice.protocol = "v2";
  MessageInfo m;
  m.chat_id = alice.chat_id;
  m.type = "TEXT";
  m.text = "see you\nat noon";
  m.sender_timestamp = msSince(QDateTime(now.date(), QTime(0, 1)));
  alice.last_message = m;
  alice.last_activity_ms = m.sender_timestamp;
  alice.unread = 3;
  ChatSummary club;
  club.kind = ChatKind::kGroup;
  club.chat_id = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
  club.title = "Book club";
  club.protocol = "v1";
  club.last_activity_ms = msSince(now.addDays(-10));
  club.closed = true;
  return {alice, club};
}

TEST(ChatListDelegate, RowShowsTitlePreviewTimeBadgesAndUnread) {
  ChatListModel model;
  model.setChats(sampleChats());
  ASSERT_EQ(model.rowCount(), 2);
  const QDateTime now = QDateTime::currentDateTime();
  const auto a = ChatListDelegate::textsFor(model.index(0, 0), now);
  EXPECT_EQ(a.title, QStringLiteral("Alice\u2407"));  // the bell is shown, not rung
  EXPECT_FALSE(a.preview.contains(QLatin1Char('\n')));
  EXPECT_TRUE(a.preview.contains(QStringLiteral("see you"))) << a.preview.toStdString();
  EXPECT_EQ(a.time, QStringLiteral("00:01"));
  EXPECT_EQ(a.badge, QStringLiteral("v2"));
  EXPECT_EQ(a.unread, QStringLiteral("3"));
  EXPECT_EQ(a.closed, QString());
  const auto c = ChatListDelegate::textsFor(model.index(1, 0), now);
  EXPECT_EQ(c.title, QStringLiteral("Book club"));
  EXPECT_EQ(c.badge, QStringLiteral("v1"));
  EXPECT_EQ(c.unread, QString());
  EXPECT_EQ(c.closed, QStringLiteral("Closed"));
  EXPECT_FALSE(c.time.contains(QLatin1Char(':')));

  // Painting uses the same texts and does not fail on any row.
  QListView view;
  view.setModel(&model);
  ChatListDelegate delegate;
  view.setItemDelegate(&delegate);
  view.resize(400, 300);
  QImage canvas(400, 300, QImage::Format_ARGB32);
  canvas.fill(Qt::white);
  QPainter p(&canvas);
  QStyleOptionViewItem opt;
  opt.initFrom(&view);
  opt.rect = QRect(0, 0, 400, delegate.sizeHint(opt, model.index(0, 0)).height());
  EXPECT_GT(opt.rect.height(), QFontMetrics(view.font()).height() * 2);
  delegate.paint(&p, opt, model.index(0, 0));
  p.end();
  int dark = 0;
  for (int y = 0; y < opt.rect.height(); ++y) {
    for (int x = 0; x < 400; ++x)
      dark += qGray(canvas.pixel(x, y)) < 128;
  }
  EXPECT_GT(dark, 50) << "the row painted no text";
}

TEST(ChatFilterProxy, FiltersByTitleOrIdCaseInsensitively) {
  ChatListModel model;
  model.setChats(sampleChats());
  ChatFilterProxy proxy;
  proxy.setSourceModel(&model);
  EXPECT_EQ(proxy.rowCount(), 2);
  proxy.setSearchText(QStringLiteral("book"));
  ASSERT_EQ(proxy.rowCount(), 1);
  EXPECT_EQ(proxy.index(0, 0).data(ChatListModel::kTitleRole).toString(),
            QStringLiteral("Book club"));
  proxy.setSearchText(QStringLiteral("AAAA"));
  EXPECT_EQ(proxy.rowCount(), 1);
  proxy.setSearchText(QStringLiteral("nobody"));
  EXPECT_EQ(proxy.rowCount(), 0);
  proxy.setSearchText(QString());
  EXPECT_EQ(proxy.rowCount(), 2);
}

MessageInfo message(std::int64_t local_id, bool outgoing, const std::string& delivery,
                    const std::string& type = "TEXT", const std::string& text = "hello") {
  MessageInfo m;
  m.chat_id = "cccccccccccccccccccccccccccccccc";
  m.chat_kind = ChatKind::kGroup;
  m.from_user_id = outgoing ? "me" : "dddddddddddddddddddddddddddddddd";
  m.from_name = outgoing ? "" : "Dora";
  m.message_id = 1000 + local_id;
  m.local_id = local_id;
  m.type = type;
  m.text = text;
  m.outgoing = outgoing;
  m.delivery = delivery;
  m.sender_timestamp = QDateTime::currentMSecsSinceEpoch();
  return m;
}

QByteArray pngOf(int w, int h) {
  QImage image(w, h, QImage::Format_RGB32);
  image.fill(Qt::darkGreen);
  QByteArray png;
  QBuffer buffer(&png);
  buffer.open(QIODevice::WriteOnly);
  image.save(&buffer, "PNG");
  return png;
}

TEST(MessageDelegate, DeliveryMarksSenderNamesPhotosAndPlaceholders) {
  TimelineModel model;
  std::vector<MessageInfo> page;
  page.push_back(message(1, false, "received", "TEXT", "hi \x1b[31m there"));
  page.push_back(message(2, true, "sent"));
  page.push_back(message(3, true, "pending"));
  page.push_back(message(4, true, "failed"));
  MessageInfo photo = message(5, true, "sent", "IMG", "");
  const QByteArray png = pngOf(1200, 600);
  photo.image.assign(png.begin(), png.end());
  page.push_back(photo);
  page.push_back(message(6, false, "received", "FILE", "raw payload"));
  model.reset(QString::fromStdString(page[0].chat_id), page, false);
  ASSERT_EQ(model.rowCount(), 6);

  const auto in = MessageDelegate::textsFor(model.index(0, 0));
  EXPECT_EQ(in.kind, MessageDelegate::Kind::kText);
  EXPECT_FALSE(in.outgoing);
  EXPECT_EQ(in.sender, QStringLiteral("Dora (dddddddd)"));  // with the id start
  EXPECT_EQ(in.delivery, QString());                        // no mark on what others sent
  EXPECT_TRUE(in.body.contains(QChar(0x241B))) << "escape shown as a picture, not obeyed";
  EXPECT_EQ(MessageDelegate::textsFor(model.index(1, 0)).delivery, QStringLiteral("Sent"));
  EXPECT_EQ(MessageDelegate::textsFor(model.index(2, 0)).delivery, QStringLiteral("Sending…"));
  EXPECT_EQ(MessageDelegate::textsFor(model.index(3, 0)).delivery, QStringLiteral("Failed"));
  EXPECT_EQ(MessageDelegate::textsFor(model.index(1, 0)).sender, QString());
  const auto img = MessageDelegate::textsFor(model.index(4, 0));
  EXPECT_EQ(img.kind, MessageDelegate::Kind::kImage);
  const auto file = MessageDelegate::textsFor(model.index(5, 0));
  EXPECT_EQ(file.kind, MessageDelegate::Kind::kAttachment);
  EXPECT_TRUE(file.body.startsWith(QStringLiteral("Attachment")));
  EXPECT_FALSE(file.body.contains(QStringLiteral("raw payload")));

  QListView view;
  view.resize(700, 500);
  view.setModel(&model);
  MessageDelegate delegate(&view);
  delegate.setShowSenders(true);
  view.setItemDelegate(&delegate);
  // The thumbnail: at most ~320 px wide at the usual font, aspect kept, cached.
  const QPixmap thumb = delegate.thumbnail(model.index(4, 0));
  ASSERT_FALSE(thumb.isNull());
  const QSizeF logical = thumb.deviceIndependentSize();
  EXPECT_LE(logical.width(), QFontMetrics(view.font()).height() * 18 + 1);
  EXPECT_NEAR(logical.width() / logical.height(), 2.0, 0.05);
  EXPECT_EQ(delegate.thumbnail(model.index(4, 0)).cacheKey(), thumb.cacheKey());
  const QRect item(0, 0, view.viewport()->width(), 400);
  const QRect image_rect = delegate.imageRect(model.index(4, 0), item);
  EXPECT_GT(image_rect.left(), item.width() / 3) << "our photo sits on the right";
  EXPECT_TRUE(delegate.imageRect(model.index(1, 0), item).isEmpty());

  // Own bubbles right, others left; long text wraps instead of widening the row.
  QStyleOptionViewItem opt;
  opt.initFrom(&view);
  const int one_line = delegate.sizeHint(opt, model.index(1, 0)).height();
  model.appendOrUpdate(message(7, true, "sent", "TEXT", std::string(2000, 'x')));
  const int long_text = delegate.sizeHint(opt, model.index(6, 0)).height();
  EXPECT_GT(long_text, one_line * 3);
  EXPECT_LE(delegate.sizeHint(opt, model.index(6, 0)).width(), view.viewport()->width());
}

TEST(MessageDelegate, ReactionsAreGroupedUnderTheBubble) {
  TimelineModel model;
  MessageInfo target = message(1, false, "received");
  MessageInfo r1 = message(2, false, "received", "EMOJI", "");
  r1.reply_to_message_id = target.message_id;
  r1.emoji = "EMO_HEART";
  MessageInfo r2 = message(3, true, "sent", "EMOJI", "");
  r2.reply_to_message_id = target.message_id;
  r2.emoji = "EMO_HEART";
  model.reset(QString::fromStdString(target.chat_id), {target, r1, r2}, false);
  ASSERT_EQ(model.rowCount(), 1) << "reactions fold into the message";
  const auto t = MessageDelegate::textsFor(model.index(0, 0));
  const QString heart = reactionSymbol(QStringLiteral("EMO_HEART"));
  EXPECT_EQ(t.reactions, heart + QStringLiteral(" 2"));

  // The chip is at least as tall as a line of the message text: emoji readable at a glance.
  QListView view;
  view.resize(700, 500);
  view.setModel(&model);
  MessageDelegate delegate(&view);
  view.setItemDelegate(&delegate);
  const QRect item(0, 0, view.viewport()->width(), 400);
  const QRect chip = delegate.reactionsRect(model.index(0, 0), item);
  ASSERT_FALSE(chip.isEmpty());
  EXPECT_GE(chip.height(), QFontMetrics(view.font()).height());
  EXPECT_GT(MessageDelegate::reactionFont(view.font()).pointSizeF(), view.font().pointSizeF());
  EXPECT_GE(
      chip.width(),
      QFontMetrics(MessageDelegate::reactionFont(view.font())).horizontalAdvance(t.reactions));
  QStyleOptionViewItem opt;
  opt.initFrom(&view);
  EXPECT_GE(delegate.sizeHint(opt, model.index(0, 0)).height(), chip.bottom())
      << "the row makes room for the chip";
}

// Row heights are cached by message (QListView asks every row on each layout); the cache must
// still see what changes a height — the first reaction — and ignore what does not.
TEST(MessageDelegate, CachedHeightsFollowReactionsAndWidth) {
  TimelineModel model;
  MessageInfo target = message(1, true, "pending");
  model.reset(QString::fromStdString(target.chat_id), {target}, false);
  QListView view;
  view.resize(700, 500);
  view.setModel(&model);
  MessageDelegate delegate(&view);
  view.setItemDelegate(&delegate);
  QStyleOptionViewItem opt;
  opt.initFrom(&view);
  const int plain = delegate.sizeHint(opt, model.index(0, 0)).height();

  target.delivery = "sent";
  model.appendOrUpdate(target);
  EXPECT_EQ(delegate.sizeHint(opt, model.index(0, 0)).height(), plain);

  MessageInfo reaction = message(2, false, "received", "EMOJI", "");
  reaction.reply_to_message_id = target.message_id;
  reaction.emoji = "EMO_HEART";
  model.appendOrUpdate(reaction);
  ASSERT_EQ(model.rowCount(), 1);
  EXPECT_GT(delegate.sizeHint(opt, model.index(0, 0)).height(), plain)
      << "a stale cached height would cut the reaction chip";
}

TEST(Composer, EnterSendsShiftEnterBreaksTheLine) {
  Composer composer;
  QSignalSpy send(&composer, &Composer::sendRequested);
  composer.show();
  QTest::keyClicks(&composer, QStringLiteral("one"));
  QTest::keyClick(&composer, Qt::Key_Return, Qt::ShiftModifier);
  QTest::keyClicks(&composer, QStringLiteral("two"));
  EXPECT_EQ(send.count(), 0);
  EXPECT_EQ(composer.toPlainText(), QStringLiteral("one\ntwo"));
  QTest::keyClick(&composer, Qt::Key_Return);
  EXPECT_EQ(send.count(), 1);
  EXPECT_EQ(composer.toPlainText(), QStringLiteral("one\ntwo")) << "the chat clears it once sent";
  EXPECT_FALSE(composer.accessibleName().isEmpty());
}

TEST(Composer, GrowsWithItsTextFromTwoToEightLinesThenScrolls) {
  // In a layout, as in the chat: the layout gives it the height of its size hint.
  QWidget host;
  auto* layout = new QVBoxLayout(&host);
  auto* composer = new Composer(&host);
  layout->addWidget(composer);
  layout->addStretch(1);
  const int line = composer->fontMetrics().lineSpacing();
  host.resize(composer->fontMetrics().averageCharWidth() * 60, line * 40);
  host.show();
  QApplication::processEvents();
  const int empty = composer->height();
  EXPECT_EQ(empty, composer->heightForLines(Composer::kMinLines));
  EXPECT_LT(empty, line * 4) << "an empty box is not a tall empty area";

  composer->setPlainText(QStringLiteral("one\ntwo"));
  QApplication::processEvents();
  EXPECT_EQ(composer->height(), empty) << "two lines fit the initial height";

  composer->setPlainText(QStringLiteral("1\n2\n3\n4\n5"));
  QApplication::processEvents();
  EXPECT_EQ(composer->height(), composer->heightForLines(5));
  EXPECT_GT(composer->height(), empty);

  // One long paragraph wraps: its visual lines count too.
  composer->setPlainText(QString(QStringLiteral("word ")).repeated(60));
  QApplication::processEvents();
  EXPECT_GT(composer->visualLineCount(), 2);
  EXPECT_GT(composer->height(), empty);

  composer->setPlainText(QStringLiteral("x\n").repeated(30));
  QApplication::processEvents();
  EXPECT_EQ(composer->height(), composer->heightForLines(Composer::kMaxLines)) << "then it scrolls";
  EXPECT_TRUE(composer->verticalScrollBar()->isVisible());

  composer->clear();
  QApplication::processEvents();
  EXPECT_EQ(composer->height(), empty) << "sent (cleared): back to the small box";
}

struct PasteComposer : Composer {
  using Composer::insertFromMimeData;
};

TEST(Composer, PastedImageDataBecomesAPngAndRichTextStaysPlain) {
  PasteComposer composer;
  QSignalSpy image(&composer, &Composer::imageDataPasted);
  QMimeData with_image;
  QImage picture(20, 10, QImage::Format_RGB32);
  picture.fill(Qt::red);
  with_image.setImageData(picture);
  composer.insertFromMimeData(&with_image);
  ASSERT_EQ(image.count(), 1);
  const QImage back = QImage::fromData(image.at(0).at(0).toByteArray(), "PNG");
  EXPECT_EQ(back.size(), QSize(20, 10));
  EXPECT_EQ(composer.toPlainText(), QString());

  QMimeData html;
  html.setHtml(QStringLiteral("<b>bold</b>"));
  html.setText(QStringLiteral("<b>bold</b>"));
  composer.insertFromMimeData(&html);
  EXPECT_EQ(composer.toPlainText(), QStringLiteral("<b>bold</b>"));
}

MessageInfo attachment(std::int64_t local_id, bool outgoing, const std::string& kind,
                       const std::string& name, std::uint64_t size) {
  MessageInfo m = message(local_id, outgoing, outgoing ? "sent" : "received", "FILE", "");
  AttachmentInfo a;
  a.kind = kind;
  a.file_name = name;
  a.size = size;
  a.upload_state = outgoing ? "uploaded" : "";
  if (kind == "voice") a.duration_ms = 83'000;
  if (kind == "image" || kind == "video") {
    a.width = 1920;
    a.height = 1080;
    QImage thumb(160, 90, QImage::Format_RGB32);
    thumb.fill(Qt::darkCyan);
    QByteArray jpeg;
    QBuffer buffer(&jpeg);
    buffer.open(QIODevice::WriteOnly);
    thumb.save(&buffer, "JPEG");
    a.thumbnail.assign(jpeg.begin(), jpeg.end());
  }
  m.attachment = a;
  return m;
}

TEST(MessageDelegate, AttachmentsShowNameSizeAndProgressInsideTheBubble) {
  TimelineModel model;
  std::vector<MessageInfo> page;
  page.push_back(attachment(1, false, "file", "Quarterly\nreport\x1b[31m.pdf", 1'572'864));
  page.push_back(attachment(2, true, "image", "beach.jpg", 2'000'000));
  page.push_back(attachment(3, false, "voice", "voice.ogg", 40'000));
  page.push_back(attachment(4, true, "video", "clip.mp4", 9'000'000));
  page.push_back(attachment(5, false, "file", std::string(300, 'n') + ".zip", 10));
  model.reset(QString::fromStdString(page[0].chat_id), page, false);
  ASSERT_EQ(model.rowCount(), 5);

  const auto f = MessageDelegate::textsFor(model.index(0, 0));
  EXPECT_EQ(f.kind, MessageDelegate::Kind::kFile);
  EXPECT_FALSE(f.body.contains(QChar(0x1b))) << "controls shown as pictures, not obeyed";
  EXPECT_TRUE(f.body.contains(QStringLiteral("Quarterly")));
  EXPECT_TRUE(f.detail.contains(QLocale().formattedDataSize(1'572'864))) << f.detail.toStdString();
  EXPECT_EQ(MessageDelegate::textsFor(model.index(1, 0)).kind, MessageDelegate::Kind::kMedia);
  const auto v = MessageDelegate::textsFor(model.index(2, 0));
  EXPECT_EQ(v.kind, MessageDelegate::Kind::kVoice);
  EXPECT_EQ(v.body, QStringLiteral("Voice message"));
  EXPECT_TRUE(v.detail.startsWith(QStringLiteral("1:23"))) << v.detail.toStdString();
  EXPECT_EQ(MessageDelegate::textsFor(model.index(3, 0)).kind, MessageDelegate::Kind::kMedia);

  QListView view;
  view.resize(520, 700);
  view.setModel(&model);
  MessageDelegate delegate(&view);
  view.setItemDelegate(&delegate);
  view.show();
  QStyleOptionViewItem opt;
  opt.initFrom(&view);
  const auto check_row = [&](int row) {
    const QModelIndex index = model.index(row, 0);
    const QSize hint = delegate.sizeHint(opt, index);
    const QRect item(0, 0, view.viewport()->width(), hint.height());
    const QRect bubble = delegate.bubbleRect(index, item);
    EXPECT_TRUE(item.contains(bubble)) << "row " << row << " bubble clipped by its row";
    const QRect clickable = delegate.attachmentRect(index, item);
    EXPECT_FALSE(clickable.isEmpty()) << "row " << row;
    EXPECT_TRUE(bubble.contains(clickable)) << "row " << row << " thumbnail/icon outside";
    // Painted: the bubble is not blank.
    QImage canvas(item.size(), QImage::Format_ARGB32);
    canvas.fill(Qt::white);
    QPainter painter(&canvas);
    opt.rect = item;
    delegate.paint(&painter, opt, index);
    painter.end();
    int differing = 0;
    for (int y = bubble.top(); y < bubble.bottom(); y += 2) {
      for (int x = bubble.left(); x < bubble.right(); x += 2) {
        if (canvas.pixel(x, y) != canvas.pixel(bubble.left() + 2, bubble.center().y())) {
          ++differing;
        }
      }
    }
    EXPECT_GT(differing, 20) << "row " << row << " painted nothing";
    return hint.height();
  };
  for (int r = 0; r < model.rowCount(); ++r)
    check_row(r);
  EXPECT_FALSE(delegate.thumbnail(model.index(1, 0)).isNull());

  // Progress adds a bar (a taller row) and a percentage; it still fits.
  const int before = check_row(0);
  model.setTransferPercent(page[0].message_id, {}, 42);
  EXPECT_TRUE(MessageDelegate::textsFor(model.index(0, 0)).detail.contains(QStringLiteral("42%")));
  EXPECT_GT(check_row(0), before);
}

TEST(VoiceRecorder, WithoutAMicrophoneTheButtonSaysWhy) {
  VoiceRecorder none(nullptr, false);
  EXPECT_EQ(none.state(), VoiceRecorder::State::kUnavailable);
  EXPECT_FALSE(none.recordButton()->isEnabled());
  EXPECT_TRUE(none.recordButton()->toolTip().contains(QStringLiteral("microphone")));
  EXPECT_FALSE(none.recordButton()->accessibleName().isEmpty());
  none.start();  // ignored
  EXPECT_EQ(none.state(), VoiceRecorder::State::kUnavailable);

  VoiceRecorder some(nullptr, true);
  EXPECT_EQ(some.state(), VoiceRecorder::State::kIdle);
  EXPECT_TRUE(some.recordButton()->isEnabled());
  EXPECT_TRUE(some.cancelButton()->isHidden());
  some.stopAndSend();  // not recording: nothing happens, nothing is sent
  some.cancel();
  EXPECT_EQ(some.state(), VoiceRecorder::State::kIdle);
  QSignalSpy failed(&some, &VoiceRecorder::failed);
  QSignalSpy recorded(&some, &VoiceRecorder::recorded);
  if (QMediaDevices::audioInputs().isEmpty()) {
    // Told there was one, but the device is gone: an inline reason and the button disabled.
    some.start();
    EXPECT_EQ(failed.size(), 1);
    EXPECT_EQ(some.state(), VoiceRecorder::State::kUnavailable);
    EXPECT_FALSE(some.recordButton()->isEnabled());
  } else {
    some.start();
    EXPECT_EQ(some.state(), VoiceRecorder::State::kRecording);
    EXPECT_FALSE(some.cancelButton()->isHidden());
    some.cancel();
    EXPECT_EQ(some.state(), VoiceRecorder::State::kIdle);
  }
  EXPECT_TRUE(recorded.isEmpty());
}

}  // namespace
}  // namespace secchats::desktop::ui
