// TimelineModel: pages, appends, delivery updates, reactions folded into their message, and
// lazy loading of a long chat through canFetchMore/fetchMore.
#include <gtest/gtest.h>

#include <QAbstractItemModelTester>
#include <QBuffer>
#include <QImage>
#include <QSignalSpy>

#include "core/timeline_model.hpp"

namespace secchats::desktop {
namespace {

const char* kChat = "friend1";
const char* kMe = "me";

MessageInfo text(std::int64_t local_id, std::int64_t message_id, const std::string& body,
                 bool outgoing = false) {
  MessageInfo m;
  m.chat_id = kChat;
  m.local_id = local_id;
  m.message_id = message_id;
  m.type = "TEXT";
  m.text = body;
  m.outgoing = outgoing;
  m.from_user_id = outgoing ? kMe : kChat;
  m.from_name = outgoing ? "" : "Bob";
  m.delivery = outgoing ? "sent" : "received";
  m.sender_timestamp = 1'700'000'000'000 + local_id;
  return m;
}

MessageInfo reaction(std::int64_t local_id, std::int64_t target, const std::string& name,
                     bool outgoing = false) {
  MessageInfo m = text(local_id, 9000 + local_id, "", outgoing);
  m.type = "EMOJI";
  m.reply_to_message_id = target;
  m.emoji = name;
  return m;
}

QStringList texts(const TimelineModel& m) {
  QStringList out;
  for (int r = 0; r < m.rowCount(); ++r)
    out << m.index(r).data(TimelineModel::kTextRole).toString();
  return out;
}

QStringList reactions_of(const TimelineModel& m, int row) {
  return m.index(row).data(TimelineModel::kReactionsRole).toStringList();
}

const QString kHeart = QString::fromStdString(reaction_symbol("EMO_HEART"));
const QString kLaugh = QString::fromStdString(reaction_symbol("EMO_LAUGH"));

TEST(TimelineModel, ResetPrependAppend) {
  TimelineModel m;
  QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::Fatal);
  m.reset(kChat, {text(3, 13, "c"), text(4, 14, "d")}, true);
  EXPECT_EQ(m.chatId(), kChat);
  EXPECT_EQ(texts(m), (QStringList{"c", "d"}));
  m.prependPage(kChat, {text(1, 11, "a"), text(2, 12, "b")}, false);
  EXPECT_EQ(texts(m), (QStringList{"a", "b", "c", "d"}));
  m.appendOrUpdate(text(5, 15, "e", true));
  EXPECT_EQ(texts(m), (QStringList{"a", "b", "c", "d", "e"}));
  EXPECT_TRUE(m.index(4).data(TimelineModel::kOutgoingRole).toBool());
  EXPECT_EQ(m.index(4).data(TimelineModel::kSenderNameRole).toString(), "");
  EXPECT_EQ(m.index(0).data(TimelineModel::kSenderNameRole).toString(),
            "Bob (friend1)");  // the name with the start of the id
  // The same message again (a refresh) is not a new row; another chat's is ignored.
  m.appendOrUpdate(text(5, 15, "e", true));
  auto other = text(6, 16, "elsewhere");
  other.chat_id = "someone else";
  m.appendOrUpdate(other);
  EXPECT_EQ(m.rowCount(), 5);
  // A page for a chat no longer open is dropped.
  m.prependPage("someone else", {text(0, 10, "x")}, false);
  EXPECT_EQ(m.rowCount(), 5);
}

TEST(TimelineModel, DeliveryUpdateReplacesTheRowsDelivery) {
  TimelineModel m;
  QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::Fatal);
  auto pending = text(7, 17, "queued", true);
  pending.delivery = "pending";
  m.reset(kChat, {text(6, 16, "x"), pending}, false);
  EXPECT_EQ(m.index(1).data(TimelineModel::kDeliveryRole).toString(), "pending");
  QSignalSpy changed(&m, &QAbstractItemModel::dataChanged);
  auto sent = pending;
  sent.delivery = "sent";
  m.appendOrUpdate(sent);
  EXPECT_EQ(m.rowCount(), 2);
  EXPECT_EQ(m.index(1).data(TimelineModel::kDeliveryRole).toString(), "sent");
  ASSERT_EQ(changed.count(), 1);
  EXPECT_EQ(changed.at(0).at(0).value<QModelIndex>().row(), 1);
  // A send's answer that was not read from the store (local_id 0) matches by sender and id.
  auto answer = text(0, 18, "fresh", true);
  m.appendOrUpdate(answer);
  ASSERT_EQ(m.rowCount(), 3);
  auto stored = text(8, 18, "fresh", true);
  m.appendOrUpdate(stored);
  EXPECT_EQ(m.rowCount(), 3);
  EXPECT_EQ(m.index(2).data(TimelineModel::kLocalIdRole).toLongLong(), 8);
}

TEST(TimelineModel, ReactionsFoldIntoTheirMessage) {
  TimelineModel m;
  QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::Fatal);
  m.setOwnUserId(kMe);
  m.reset(kChat,
          {text(1, 11, "a"), text(2, 12, "b", true), reaction(3, 11, "EMO_HEART", true),
           reaction(4, 12, "EMO_LAUGH")},
          false);
  EXPECT_EQ(texts(m), (QStringList{"a", "b"}));  // reactions are not rows
  EXPECT_EQ(reactions_of(m, 0), QStringList{kHeart});
  EXPECT_EQ(m.index(0).data(TimelineModel::kOwnReactionRole).toString(), "EMO_HEART");
  EXPECT_EQ(reactions_of(m, 1), QStringList{kLaugh});
  EXPECT_EQ(m.index(1).data(TimelineModel::kOwnReactionRole).toString(), "");

  // They change theirs, we remove ours: latest wins, one reaction per user.
  m.appendOrUpdate(reaction(5, 12, "EMO_HEART"));
  m.appendOrUpdate(reaction(6, 11, "", true));
  EXPECT_EQ(reactions_of(m, 1), QStringList{kHeart});
  EXPECT_TRUE(reactions_of(m, 0).isEmpty());
  EXPECT_EQ(m.index(0).data(TimelineModel::kOwnReactionRole).toString(), "");
  EXPECT_EQ(m.rowCount(), 2);
}

TEST(TimelineModel, ReactionToAMessageInAnOlderPageWaitsForThatPage) {
  TimelineModel m;
  m.reset(kChat, {text(10, 20, "new"), reaction(11, 5, "EMO_LAUGH")}, true);
  EXPECT_EQ(m.rowCount(), 1);
  // The older page holds the target and an older reaction by the same user: the newer wins.
  m.prependPage(kChat, {text(1, 5, "old"), reaction(2, 5, "EMO_HEART")}, false);
  ASSERT_EQ(texts(m), (QStringList{"old", "new"}));
  EXPECT_EQ(reactions_of(m, 0), QStringList{kLaugh});
}

TEST(TimelineModel, FetchMoreAsksForThePageBeforeTheFirstRow) {
  TimelineModel m;
  QSignalSpy wanted(&m, &TimelineModel::olderPageWanted);
  m.reset(kChat, {text(41, 1, "x"), text(42, 2, "y")}, true);
  ASSERT_TRUE(m.canFetchMore({}));
  m.fetchMore({});
  ASSERT_EQ(wanted.count(), 1);
  EXPECT_EQ(wanted.at(0).at(0).toString(), kChat);
  EXPECT_EQ(wanted.at(0).at(1).toLongLong(), 41);
  EXPECT_FALSE(m.canFetchMore({}));  // one request at a time
  m.fetchMore({});
  EXPECT_EQ(wanted.count(), 1);
  m.olderPageFailed(kChat);  // a failed read allows asking again
  EXPECT_TRUE(m.canFetchMore({}));
  m.fetchMore({});
  m.prependPage(kChat, {text(40, 3, "w")}, false);
  EXPECT_FALSE(m.canFetchMore({}));  // nothing older
  EXPECT_EQ(m.rowCount(), 3);
}

TEST(TimelineModel, TenThousandMessagesLoadPageByPage) {
  constexpr int kTotal = 10000;
  constexpr int kPage = 50;
  std::vector<MessageInfo> store;
  for (int i = 1; i <= kTotal; ++i)
    store.push_back(text(i, 100000 + i, std::to_string(i)));
  // One reaction in the newest page to the very first message.
  store.push_back(reaction(kTotal + 1, 100001, "EMO_HEART"));
  auto page_before = [&](std::int64_t before) {
    std::vector<MessageInfo> older;
    for (const auto& msg : store) {
      if (before == 0 || msg.local_id < before) older.push_back(msg);
    }
    if (older.size() > kPage) older.erase(older.begin(), older.end() - kPage);
    return older;
  };

  TimelineModel m;
  std::vector<qint64> asked;
  QObject::connect(&m, &TimelineModel::olderPageWanted,
                   [&](const QString&, qint64 before) { asked.push_back(before); });
  m.reset(kChat, page_before(0), true);
  EXPECT_EQ(m.rowCount(), kPage - 1);  // the newest page: 49 messages and the reaction
  int rounds = 0;
  while (m.canFetchMore({}) && rounds < 1000) {
    m.fetchMore({});
    ASSERT_FALSE(asked.empty());
    auto page = page_before(asked.back());
    m.prependPage(kChat, page, page.size() == kPage);
    ++rounds;
  }
  ASSERT_EQ(m.rowCount(), kTotal);
  for (int r = 0; r < kTotal; r += 997) {
    EXPECT_EQ(m.index(r).data(TimelineModel::kLocalIdRole).toLongLong(), r + 1);
  }
  EXPECT_EQ(reactions_of(m, 0), QStringList{kHeart});
  EXPECT_LE(rounds, kTotal / kPage + 1);
}

TEST(TimelineModel, AccessibleTextSaysWhoWhatDeliveryAndReactions) {
  TimelineModel model;
  MessageInfo in;
  in.chat_id = "c";
  in.message_id = 1;
  in.local_id = 1;
  in.type = "TEXT";
  in.text = "hello";
  in.from_user_id = "0123456789abcdef0123456789abcdef";
  in.from_name = "Bob";
  in.sender_timestamp = 1700000000000;
  MessageInfo out = in;
  out.message_id = 2;
  out.local_id = 2;
  out.outgoing = true;
  out.delivery = "pending";
  out.text = "hi";
  out.from_user_id = "me";
  MessageInfo reaction = in;
  reaction.message_id = 3;
  reaction.local_id = 3;
  reaction.type = "EMOJI";
  reaction.reply_to_message_id = 2;
  reaction.emoji = "EMO_HEART";
  model.reset("c", {in, out, reaction}, false);
  ASSERT_EQ(model.rowCount(), 2);
  const QString first = model.index(0).data(Qt::AccessibleTextRole).toString();
  EXPECT_TRUE(first.startsWith("Bob (01234567), ")) << first.toStdString();
  EXPECT_TRUE(first.endsWith(": hello")) << first.toStdString();
  const QString second = model.index(1).data(Qt::AccessibleTextRole).toString();
  EXPECT_TRUE(second.startsWith("You, ")) << second.toStdString();
  EXPECT_TRUE(second.contains(": hi. Sending")) << second.toStdString();
  EXPECT_TRUE(second.contains("Reactions: ")) << second.toStdString();
}

MessageInfo file(std::int64_t local_id, const std::string& kind, const std::string& name,
                 std::uint64_t size, bool outgoing = false) {
  MessageInfo m = text(local_id, 5000 + local_id, "", outgoing);
  m.type = "FILE";
  AttachmentInfo a;
  a.kind = kind;
  a.file_name = name;
  a.size = size;
  a.media_type = kind == "voice" ? "audio/ogg" : "application/octet-stream";
  a.upload_state = outgoing ? "uploading" : "";
  m.attachment = a;
  return m;
}

TEST(TimelineModel, AttachmentRowsExposeKindNameSizeThumbnailAndProgress) {
  TimelineModel model;
  QAbstractItemModelTester tester(&model);
  MessageInfo photo = file(1, "image", "beach.jpg", 2'000'000);
  photo.attachment->width = 4000;
  photo.attachment->height = 3000;
  QImage thumb(64, 48, QImage::Format_RGB32);
  thumb.fill(Qt::red);
  QByteArray jpeg;
  QBuffer buffer(&jpeg);
  buffer.open(QIODevice::WriteOnly);
  ASSERT_TRUE(thumb.save(&buffer, "JPEG"));
  photo.attachment->thumbnail.assign(jpeg.begin(), jpeg.end());
  MessageInfo voice = file(2, "voice", "voice.ogg", 40'000);
  voice.attachment->duration_ms = 12'400;
  MessageInfo mine = file(3, "file", "<b>report</b>.pdf", 1234, true);
  MessageInfo broken = file(4, "file", "x", 1);
  broken.attachment->thumbnail = {1, 2, 3};  // not a JPEG: no image, no crash
  model.reset(kChat, {photo, voice, mine, broken}, false);
  ASSERT_EQ(model.rowCount(), 4);

  const QModelIndex p = model.index(0);
  EXPECT_EQ(p.data(TimelineModel::kTypeRole).toString(), "FILE");
  EXPECT_EQ(p.data(TimelineModel::kAttachmentKindRole).toString(), "image");
  EXPECT_EQ(p.data(TimelineModel::kFileNameRole).toString(), "beach.jpg");
  EXPECT_EQ(p.data(TimelineModel::kFileSizeRole).toLongLong(), 2'000'000);
  EXPECT_EQ(p.data(TimelineModel::kMediaSizeRole).toSize(), QSize(4000, 3000));
  EXPECT_EQ(p.data(TimelineModel::kThumbnailRole).value<QImage>().size(), QSize(64, 48));
  EXPECT_EQ(p.data(TimelineModel::kTransferPercentRole).toInt(), -1);
  EXPECT_TRUE(p.data(Qt::AccessibleTextRole).toString().contains("beach.jpg"));
  const QModelIndex v = model.index(1);
  EXPECT_EQ(v.data(TimelineModel::kDurationRole).toLongLong(), 12'400);
  EXPECT_EQ(v.data(TimelineModel::kMediaTypeRole).toString(), "audio/ogg");
  EXPECT_TRUE(v.data(Qt::AccessibleTextRole).toString().contains("Voice message, 12 seconds"));
  EXPECT_TRUE(model.index(3).data(TimelineModel::kThumbnailRole).value<QImage>().isNull());
  EXPECT_FALSE(model.index(3).data(TimelineModel::kMediaSizeRole).toSize().isValid());

  // A download's progress by message id; an upload's by name among our unfinished uploads.
  QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
  model.setTransferPercent(photo.message_id, {}, 40);
  EXPECT_EQ(model.index(0).data(TimelineModel::kTransferPercentRole).toInt(), 40);
  EXPECT_TRUE(model.index(0).data(Qt::AccessibleTextRole).toString().contains("40%"));
  model.setTransferPercent(0, "<b>report</b>.pdf", 75);
  EXPECT_EQ(model.index(2).data(TimelineModel::kTransferPercentRole).toInt(), 75);
  model.setTransferPercent(0, "beach.jpg", 10);  // not ours, not uploading: nothing
  EXPECT_EQ(model.index(0).data(TimelineModel::kTransferPercentRole).toInt(), 40);
  EXPECT_EQ(changed.size(), 2);

  // The upload finishing and a download's saved path reach the row.
  MessageInfo uploaded = mine;
  uploaded.attachment->upload_state = "uploaded";
  model.appendOrUpdate(uploaded);
  EXPECT_EQ(model.index(2).data(TimelineModel::kUploadStateRole).toString(), "uploaded");
  MessageInfo saved = photo;
  saved.attachment->saved_path = "/tmp/beach.jpg";
  model.appendOrUpdate(saved);
  EXPECT_EQ(model.index(0).data(TimelineModel::kSavedPathRole).toString(), "/tmp/beach.jpg");
  model.setTransferPercent(photo.message_id, {}, -1);
  EXPECT_EQ(model.index(0).data(TimelineModel::kTransferPercentRole).toInt(), -1);
}

}  // namespace
}  // namespace secchats::desktop
