// Forget-after-ack and retention against the real binary: what /receive acknowledges is gone
// from the database file, newer items and group logs stay, restarts keep it that way, the
// background purge removes expired rows, and timestamps keep increasing afterwards.
#include <sqlite3.h>

#include <boost/json/parse.hpp>

#include <chrono>
#include <fstream>
#include <iterator>
#include <thread>

#include "secchats/common/clock.hpp"
#include "server_fixture.hpp"

namespace secchats::testing {
namespace {
namespace proto = secchats::protocol;
using namespace std::chrono_literals;

constexpr std::int64_t kDayMs = 24 * 60 * 60 * 1000;

class RetentionTest : public ServerTest {
 protected:
  std::filesystem::path db_path() const { return data_dir_.path() / "relay.db"; }

  // Runs a single-value query on the database file, read-only, beside the running server.
  std::int64_t db_scalar(const std::string& sql) {
    sqlite3* db = nullptr;
    std::int64_t value = -1;
    if (sqlite3_open_v2(db_path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
      sqlite3_busy_timeout(db, 5000);
      sqlite3_stmt* stmt = nullptr;
      if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
          sqlite3_step(stmt) == SQLITE_ROW) {
        value = sqlite3_column_int64(stmt, 0);
      }
      sqlite3_finalize(stmt);
    }
    EXPECT_GE(value, 0) << sql << ": " << (db ? sqlite3_errmsg(db) : "cannot open");
    sqlite3_close(db);
    return value;
  }

  // Writes to the database file while the server is stopped.
  void db_exec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(db_path().c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    std::string message = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << message;
  }

  std::int64_t queued_for(const TestUser& user) {
    return db_scalar("SELECT COUNT(*) FROM queue_items WHERE recipient_id = '" + user.id + "'");
  }

  // Acknowledgements commit in the background; wait (bounded) until `pred` holds.
  template <typename Pred>
  bool eventually(Pred pred, std::chrono::milliseconds limit = 10s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(10ms);
    }
    return true;
  }

  boost::json::value varz() {
    auto res = http().get("/varz");
    EXPECT_EQ(res.status, 200);
    return boost::json::parse(res.body);
  }

  HttpResult post_group(const TestUser& from, const std::string& group, const std::string& text) {
    return http().post("/postgroup",
                       proto::encode(proto::SendMessage{group, from.token, from.id, text, 0}));
  }

  // Stops the server, lets `edit` change the file, and starts it again with `args`.
  template <typename Edit>
  void restart_with(std::vector<std::string> args, Edit edit) {
    client_.reset();
    EXPECT_EQ(server().terminate(), 0);
    server_.reset();
    edit();
    start(std::move(args));
  }

  static std::vector<std::string> contents(const proto::Notifications& n) {
    std::vector<std::string> out;
    for (const auto& m : n.messages)
      out.push_back(m.enc_content.value_or(""));
    return out;
  }
  static std::vector<std::string> contents(const proto::GroupNotifications& n) {
    std::vector<std::string> out;
    for (const auto& m : n.messages)
      out.push_back(m.enc_content.value_or(""));
    return out;
  }
};

TEST_F(RetentionTest, ReceiveForgetsEverythingAtOrBelowTheCursor) {
  auto alice = register_user();
  auto bob = register_user();
  auto group = register_group(alice);
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(post_message(alice, bob.id, std::string("m").append(std::to_string(i))).status, 200);
  ASSERT_EQ(post_message(bob, alice.id, "for alice").status, 200);
  ASSERT_EQ(post_group(alice, group, "g0").status, 200);
  auto all = receive(bob);
  ASSERT_EQ(all.messages.size(), 5u);
  EXPECT_EQ(queued_for(bob), 5) << "a cursor of 0 acknowledges nothing";

  const std::int64_t cursor = all.messages[2].timestamp;
  auto rest = receive(bob, cursor);
  EXPECT_EQ(contents(rest), (std::vector<std::string>{"m3", "m4"}));
  ASSERT_TRUE(eventually([&] { return queued_for(bob) == 2; })) << queued_for(bob);
  EXPECT_EQ(db_scalar("SELECT COUNT(*) FROM queue_items WHERE recipient_id = '" + bob.id +
                      "' AND ts <= " + std::to_string(cursor)),
            0);
  EXPECT_EQ(contents(receive(bob, 0)), (std::vector<std::string>{"m3", "m4"}))
      << "acknowledged items are not served again, even from cursor 0";

  // Group messages have no member list, so no acknowledgement removes them; other users'
  // queues are untouched.
  auto newest = receive(bob, all.messages[4].timestamp + 1000);
  EXPECT_TRUE(newest.messages.empty());
  ASSERT_TRUE(eventually([&] { return queued_for(bob) == 0; }));
  EXPECT_EQ(contents(poll_groups(bob, {group})), (std::vector<std::string>{"g0"}));
  EXPECT_EQ(queued_for(alice), 1);

  auto v = varz();
  EXPECT_EQ(v.at("acked_deletes").as_int64(), 5);
  EXPECT_EQ(v.at("queued_items").as_int64(), 1);
  EXPECT_EQ(v.at("group_messages").as_int64(), 1);
}

TEST_F(RetentionTest, AcknowledgementsSurviveARestartAndTimestampsKeepIncreasing) {
  auto alice = register_user();
  auto bob = register_user();
  // Distinctive ciphertexts, to look for in the file afterwards.
  const std::vector<std::string> texts = {"forget-me-0-7f3a9c", "forget-me-1-7f3a9c",
                                          "keep-me-2-7f3a9c", "keep-me-3-7f3a9c"};
  for (const auto& text : texts)
    ASSERT_EQ(post_message(alice, bob.id, text).status, 200);
  auto all = receive(bob);
  ASSERT_EQ(all.messages.size(), 4u);
  const std::int64_t last = all.messages[3].timestamp;
  // Restart at once: the acknowledgement is still being written when SIGTERM arrives, and
  // shutdown commits it.
  EXPECT_EQ(contents(receive(bob, all.messages[1].timestamp)),
            (std::vector<std::string>{texts[2], texts[3]}));
  restart();
  EXPECT_EQ(contents(receive(bob, 0)), (std::vector<std::string>{texts[2], texts[3]}));
  EXPECT_EQ(queued_for(bob), 2);
  // Not just unreachable: secure_delete overwrote them, and the clean shutdown folded the
  // write-ahead log into the file.
  std::ifstream file(db_path(), std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes.find(texts[0]), std::string::npos);
  EXPECT_EQ(bytes.find(texts[1]), std::string::npos);
  EXPECT_NE(bytes.find(texts[2]), std::string::npos) << "unacknowledged items are in the file";

  // Acknowledge everything: the queue is empty, yet the next item is still newer than all.
  EXPECT_TRUE(receive(bob, last).messages.empty());
  restart();
  EXPECT_TRUE(receive(bob, 0).messages.empty());
  ASSERT_EQ(post_message(alice, bob.id, "after").status, 200);
  auto after = receive(bob, 0);
  ASSERT_EQ(after.messages.size(), 1u);
  EXPECT_GT(after.messages[0].timestamp, last);
}

TEST_F(RetentionTest, ExpiredItemsAndGroupMessagesArePurgedAtStartUp) {
  auto alice = register_user();
  auto bob = register_user();
  auto group = register_group(alice);
  ASSERT_EQ(post_message(alice, bob.id, "fresh").status, 200);
  ASSERT_EQ(post_group(alice, group, "fresh group").status, 200);
  const std::int64_t fresh_ts = receive(bob).messages.at(0).timestamp;

  // Two-day-old rows, as if the server had kept them that long.
  const std::int64_t old_ts = unix_millis_now() - 2 * kDayMs;
  restart_with({"--retention-days", "1"}, [&] {
    std::string sql = "BEGIN;";
    for (int i = 0; i < 30; ++i) {
      sql += "INSERT INTO queue_items (recipient_id, ts, kind, sender_id, payload) VALUES ('" +
             bob.id + "', " + std::to_string(old_ts + i) + ", 4, '" + alice.id + "', 'old');";
      sql += "INSERT INTO group_messages (group_id, ts, sender_id, payload) VALUES ('" + group +
             "', " + std::to_string(old_ts + 100 + i) + ", '" + alice.id + "', 'old');";
    }
    db_exec(sql + "COMMIT;");
  });

  ASSERT_TRUE(eventually([&] { return varz().at("purge_runs").as_int64() >= 1; }));
  EXPECT_EQ(contents(receive(bob, 0)), (std::vector<std::string>{"fresh"}));
  EXPECT_EQ(contents(poll_groups(bob, {group})), (std::vector<std::string>{"fresh group"}));
  auto res = http().get("/varz");
  auto v = boost::json::parse(res.body);
  EXPECT_EQ(v.at("purged_queue_items").as_int64(), 30);
  EXPECT_EQ(v.at("purged_group_messages").as_int64(), 30);
  EXPECT_EQ(v.at("last_purge_rows").as_int64(), 60);
  EXPECT_GT(v.at("last_purge_micros").as_int64(), 0);
  EXPECT_EQ(v.at("users").as_int64(), 2) << "accounts stay";
  EXPECT_EQ(v.at("groups").as_int64(), 1) << "groups stay";
  EXPECT_EQ(res.body.find(bob.id), std::string::npos) << "counts and timings only";
  EXPECT_EQ(res.body.find(group), std::string::npos);

  // Accounts and groups still work, and new items continue the sequence.
  ASSERT_EQ(post_message(alice, bob.id, "new").status, 200);
  ASSERT_EQ(post_group(bob, group, "new group").status, 200);
  auto inbox = receive(bob, fresh_ts);
  ASSERT_EQ(contents(inbox), (std::vector<std::string>{"new"}));
  EXPECT_GT(inbox.messages[0].timestamp, fresh_ts);
  auto log = poll_groups(alice, {group});
  ASSERT_EQ(log.messages.size(), 2u);
  EXPECT_GT(log.messages[1].timestamp, inbox.messages[0].timestamp);
}

TEST_F(RetentionTest, BackgroundPurgeRemovesItemsOnceTheyExpire) {
  restart({"--retention-ms", "1500", "--purge-interval-ms", "100"});
  auto alice = register_user();
  auto bob = register_user();
  auto group = register_group(alice);
  ASSERT_EQ(post_message(alice, bob.id, "short-lived").status, 200);
  ASSERT_EQ(post_group(alice, group, "short-lived group").status, 200);
  auto inbox = receive(bob);
  ASSERT_EQ(inbox.messages.size(), 1u) << "not expired yet";
  const std::int64_t old_ts = inbox.messages[0].timestamp;

  ASSERT_TRUE(eventually([&] {
    return receive(bob).messages.empty() && poll_groups(bob, {group}).messages.empty();
  })) << "expired rows are purged while the server runs";
  EXPECT_EQ(db_scalar("SELECT COUNT(*) FROM queue_items"), 0);
  EXPECT_EQ(db_scalar("SELECT COUNT(*) FROM group_messages"), 0);
  EXPECT_EQ(db_scalar("SELECT COUNT(*) FROM users"), 2);

  ASSERT_EQ(post_message(alice, bob.id, "later").status, 200);
  auto later = receive(bob);
  ASSERT_EQ(later.messages.size(), 1u);
  EXPECT_GT(later.messages[0].timestamp, old_ts);
  EXPECT_GE(varz().at("purge_runs").as_int64(), 2);
}

TEST_F(RetentionTest, RetentionZeroKeepsEverything) {
  auto alice = register_user();
  auto bob = register_user();
  const std::int64_t ancient = unix_millis_now() - 400 * kDayMs;
  restart_with({"--retention-days", "0", "--purge-interval-ms", "50"}, [&] {
    db_exec("INSERT INTO queue_items (recipient_id, ts, kind, sender_id, payload) VALUES ('" +
            bob.id + "', " + std::to_string(ancient) + ", 4, '" + alice.id + "', 'ancient')");
  });
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(contents(receive(bob)), (std::vector<std::string>{"ancient"}));
  EXPECT_EQ(varz().at("purge_runs").as_int64(), 0);
}

}  // namespace
}  // namespace secchats::testing
