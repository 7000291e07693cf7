// Attachments through the Session against the real relay and a CLI friend (protocol-v2 §15;
// Bob syncs with the CLI, his attachment calls go through libsecchats on the same account):
// a v1 friend's refusal comes back as operationFailed; on v2 a file the app sends is
// downloaded by the CLI byte for byte, a file the CLI sends is downloaded through the Session,
// and an upload cancelled midway stays resumable and completes on Retry.
#include <gtest/gtest.h>

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QTest>

#include "cli_test_helpers.hpp"
#include "core/chat_list_model.hpp"
#include "core/requests_model.hpp"
#include "core/session.hpp"
#include "core/timeline_model.hpp"
#include "core/transfer_model.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace secchats::desktop {
namespace {

using secchats::desktop::testing::initCliUser;
using secchats::desktop::testing::kNetworkMs;
using secchats::desktop::testing::ok;
using secchats::testing::CliUser;
using secchats::testing::ServerProcess;
using secchats::testing::TempDir;

QByteArray randomBytes(qsizetype n) {
  QByteArray b(n, Qt::Uninitialized);
  QRandomGenerator gen(42 + static_cast<quint32>(n));
  for (qsizetype i = 0; i < n; ++i)
    b[i] = static_cast<char>(gen.bounded(256));
  return b;
}

QString writeFile(const std::filesystem::path& dir, const QString& name, const QByteArray& data) {
  const QString path = QDir(QString::fromStdString(dir.string())).filePath(name);
  QFile f(path);
  EXPECT_TRUE(f.open(QIODevice::WriteOnly));
  f.write(data);
  return path;
}

QByteArray readFile(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// Our FILE row named `name` in the open chat, or invalid.
QModelIndex fileRow(TimelineModel* t, const QString& name, bool outgoing) {
  for (int r = t->rowCount() - 1; r >= 0; --r) {
    const QModelIndex i = t->index(r);
    if (i.data(TimelineModel::kTypeRole).toString() == "FILE" &&
        i.data(TimelineModel::kFileNameRole).toString() == name &&
        i.data(TimelineModel::kOutgoingRole).toBool() == outgoing) {
      return i;
    }
  }
  return {};
}

// Bob's side of the attachments goes through libsecchats on his CLI account; his syncing
// stays the CLI's.
std::unique_ptr<Client> openAs(const CliUser& user) {
  auto opened = Client::open(user.home(), SecretString(user.password()));
  EXPECT_TRUE(opened.ok()) << (opened.ok() ? "" : opened.error().message());
  return opened.ok() ? std::move(opened).value() : nullptr;
}

// Bob syncs until his history with `chat` has a FILE named `name`; its message id (0 if never).
std::int64_t bobReceives(const CliUser& bob, const QString& chat, const std::string& name) {
  QElapsedTimer t;
  t.start();
  while (t.elapsed() < kNetworkMs) {
    ok(bob, {"sync"});
    if (auto c = openAs(bob)) {
      auto history = c->history(chat.toStdString());
      if (history.ok()) {
        for (const auto& m : *history) {
          if (m.type == "FILE" && m.attachment && m.attachment->file_name == name) {
            return m.message_id;
          }
        }
      }
    }
    QTest::qWait(200);
  }
  return 0;
}

// Bob downloads message `message_id` of `chat` into `dir`: the bytes written.
QByteArray bobDownloads(const CliUser& bob, const QString& chat, std::int64_t message_id,
                        const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  auto c = openAs(bob);
  if (!c) return {};
  auto path = c->download(chat.toStdString(), message_id, dir);
  EXPECT_TRUE(path.ok()) << (path.ok() ? "" : path.error().message());
  return path.ok() ? readFile(QString::fromStdString(path->string())) : QByteArray();
}

TEST(SessionAttachments, V1RefusalThenSendReceiveCancelAndResume) {
  TempDir dir("secchats-desktop-attach");
  ServerProcess relay({dir.path() / "relay", {}});
  const std::string url = relay.base_url();

  Session session(QString::fromStdString((dir.path() / "alice").string()));
  QSignalSpy opened(&session, &Session::accountOpened);
  QSignalSpy failed(&session, &Session::operationFailed);
  QSignalSpy downloaded(&session, &Session::attachmentDownloaded);
  ServerSettings server;
  server.url = QString::fromStdString(url);
  session.createAccount(server, "alice", "alice password 1");
  ASSERT_TRUE(opened.wait(60000));
  const QString alice_id = session.userId();

  QString bob_id;
  CliUser bob = initCliUser(dir.path(), url, "bob", &bob_id);
  ok(bob, {"add", alice_id.toStdString()});
  ASSERT_TRUE(QTest::qWaitFor([&] { return session.requests()->rowOf("friend", bob_id) >= 0; },
                              kNetworkMs));
  QSignalSpy created(&session, &Session::chatCreated);
  session.acceptFriend(bob_id);
  ASSERT_TRUE(created.wait(kNetworkMs));
  const auto protocol = [&] {
    const int row = session.chats()->rowOf(bob_id);
    return row < 0 ? QString()
                   : session.chats()->index(row, 0).data(ChatListModel::kProtocolRole).toString();
  };
  session.openChat(bob_id);
  TimelineModel* timeline = session.timeline();
  TransferModel* transfers = session.transfers();

  // 1. v1 (Bob has not synced since: no upgrade yet): the library's refusal, nothing queued.
  const QString note = writeFile(dir.path(), "note.txt", "for a v1 friend");
  if (protocol() == "v1") {
    session.sendFile(bob_id, note, "file");
    ASSERT_TRUE(QTest::qWaitFor([&] { return !failed.isEmpty(); }, kNetworkMs));
    EXPECT_EQ(failed.at(0).at(0).toString(), "Send file");
    EXPECT_TRUE(failed.at(0).at(1).toString().contains("protocol v2"))
        << failed.at(0).at(1).toString().toStdString();
    EXPECT_TRUE(QTest::qWaitFor([&] { return transfers->rowCount() == 0; }, kNetworkMs));
    EXPECT_FALSE(fileRow(timeline, "note.txt", true).isValid());
    failed.clear();
  }

  // 2. Up to v2: Bob syncs until both sides run it.
  QElapsedTimer upgrade;
  upgrade.start();
  // The upgrade itself brings no event, so the app's chat list learns of it with the next
  // message: Bob says hello once his side runs v2.
  bool greeted = false;
  while (protocol() != "v2" && upgrade.elapsed() < 2 * kNetworkMs) {
    ok(bob, {"sync"});
    if (!greeted) {
      for (const auto& f : ok(bob, {"friends"})) {
        if (f.value("userId").toString() == alice_id && f.value("protocol") == "v2") {
          ok(bob, {"send", alice_id.toStdString(), "on v2 now"});
          greeted = true;
        }
      }
    }
    QTest::qWait(300);
  }
  ASSERT_EQ(protocol().toStdString(), "v2");
  ok(bob, {"sync"});

  // 3. Alice -> Bob through the Session; Bob downloads it with the CLI, byte for byte.
  const QByteArray report = randomBytes(1536 * 1024 + 17);
  const QString report_path = writeFile(dir.path(), "report.bin", report);
  session.sendFile(bob_id, report_path, "file");
  ASSERT_TRUE(QTest::qWaitFor(
      [&] {
        const QModelIndex i = fileRow(timeline, "report.bin", true);
        return !failed.isEmpty() ||
               (i.isValid() && i.data(TimelineModel::kDeliveryRole).toString() == "sent" &&
                i.data(TimelineModel::kUploadStateRole).toString() == "uploaded");
      },
      kNetworkMs));
  ASSERT_TRUE(failed.isEmpty()) << failed.at(0).at(1).toString().toStdString();
  {
    const QModelIndex i = fileRow(timeline, "report.bin", true);
    EXPECT_EQ(i.data(TimelineModel::kFileSizeRole).toLongLong(), report.size());
    EXPECT_EQ(i.data(TimelineModel::kAttachmentKindRole).toString(), "file");
    EXPECT_EQ(i.data(TimelineModel::kTransferPercentRole).toInt(), -1) << "progress cleared";
  }
  EXPECT_EQ(transfers->rowCount(), 0);
  const std::int64_t report_id = bobReceives(bob, alice_id, "report.bin");
  ASSERT_NE(report_id, 0) << "Bob never got the file message";
  EXPECT_EQ(bobDownloads(bob, alice_id, report_id, dir.path() / "bob-downloads"), report);

  // 4. Bob -> Alice with the CLI; Alice downloads it through the Session.
  const QByteArray photo_bytes = randomBytes(700 * 1024 + 3);
  const QString from_bob = writeFile(dir.path(), "from-bob.dat", photo_bytes);
  {
    auto c = openAs(bob);
    ASSERT_TRUE(c);
    SendFileOptions options;
    options.kind = "file";
    auto sent = c->send_file(alice_id.toStdString(), from_bob.toStdString(), options);
    ASSERT_TRUE(sent.ok()) << sent.error().message();
  }
  ASSERT_TRUE(QTest::qWaitFor([&] { return fileRow(timeline, "from-bob.dat", false).isValid(); },
                              kNetworkMs));
  const QModelIndex incoming = fileRow(timeline, "from-bob.dat", false);
  EXPECT_EQ(incoming.data(TimelineModel::kFileSizeRole).toLongLong(), photo_bytes.size());
  EXPECT_TRUE(incoming.data(TimelineModel::kSavedPathRole).toString().isEmpty());
  const QString inbox = QString::fromStdString((dir.path() / "alice-downloads").string());
  QDir().mkpath(inbox);
  session.downloadAttachment(bob_id, incoming.data(TimelineModel::kMessageIdRole).toLongLong(),
                             inbox, true);
  ASSERT_TRUE(
      QTest::qWaitFor([&] { return !downloaded.isEmpty() || !failed.isEmpty(); }, kNetworkMs));
  ASSERT_TRUE(failed.isEmpty()) << failed.at(0).at(1).toString().toStdString();
  const QString written = downloaded.at(0).at(2).toString();
  EXPECT_TRUE(written.startsWith(inbox)) << written.toStdString();
  EXPECT_TRUE(downloaded.at(0).at(3).toBool()) << "open_when_done handed back";
  EXPECT_EQ(readFile(written), photo_bytes);
  EXPECT_TRUE(QTest::qWaitFor(
      [&] {
        return !fileRow(timeline, "from-bob.dat", false)
                    .data(TimelineModel::kSavedPathRole)
                    .toString()
                    .isEmpty();
      },
      kNetworkMs))
      << "the timeline never learned where the file was saved";

  // 5. A large upload cancelled as soon as its bytes move: stopped, resumable, and Retry
  //    completes it; Bob gets the whole file.
  const QByteArray big = randomBytes(60 * 1024 * 1024);
  const QString big_path = writeFile(dir.path(), "big.bin", big);
  const qint64 id = session.sendFile(bob_id, big_path, "file");
  ASSERT_TRUE(QTest::qWaitFor(
      [&] {
        const int row = transfers->rowOf(id);
        return row >= 0 &&
               transfers->index(row).data(TransferModel::kPhaseRole).toString() == "Uploading";
      },
      kNetworkMs));
  session.cancelTransfer(id);
  ASSERT_TRUE(QTest::qWaitFor(
      [&] {
        const QModelIndex i = fileRow(timeline, "big.bin", true);
        return i.isValid() && i.data(TimelineModel::kUploadStateRole).toString() == "uploading" &&
               i.data(TimelineModel::kTransferPercentRole).toInt() == -1;
      },
      kNetworkMs))
      << "the cancelled upload should stay in the chat as unfinished";
  ASSERT_GE(transfers->rowOf(id), 0) << "a stopped transfer stays listed for Retry";
  EXPECT_EQ(transfers->index(transfers->rowOf(id)).data(TransferModel::kStateRole).toInt(),
            static_cast<int>(TransferModel::State::kStopped));
  EXPECT_TRUE(failed.isEmpty()) << "a cancel is no failure to report";
  session.retryTransfer(id);
  ASSERT_TRUE(QTest::qWaitFor(
      [&] {
        const QModelIndex i = fileRow(timeline, "big.bin", true);
        return !failed.isEmpty() ||
               (i.isValid() && i.data(TimelineModel::kUploadStateRole).toString() == "uploaded" &&
                i.data(TimelineModel::kDeliveryRole).toString() == "sent");
      },
      120000));
  ASSERT_TRUE(failed.isEmpty()) << failed.at(0).at(1).toString().toStdString();
  EXPECT_EQ(transfers->rowOf(id), -1);
  const std::int64_t big_id = bobReceives(bob, alice_id, "big.bin");
  ASSERT_NE(big_id, 0);
  EXPECT_EQ(bobDownloads(bob, alice_id, big_id, dir.path() / "bob-big"), big);
}

}  // namespace
}  // namespace secchats::desktop
