// The SQLite backend's tail caches (storage/tail_cache.hpp) seen from outside: reads served
// from memory stay exactly what the database file holds. A read never returns an item the
// file lacks (not yet durable, or deleted by an acknowledgement or retention), and never
// misses one the file has, while writes and reads race.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "storage/sqlite/sqlite_db.hpp"
#include "storage/sqlite/sqlite_storage.hpp"
#include "storage/storage_test_values.hpp"
#include "support/temp_dir.hpp"

namespace secchats::server {
namespace {

namespace fs = std::filesystem;

using secchats::testing::TempDir;
using test::group_message;
using test::hash_of;
using test::message_to;

class SqliteCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SqliteOptions options;
    options.data_dir = dir_.path() / "data";
    auto opened = open_sqlite_storage(options);
    ASSERT_TRUE(opened.ok()) << opened.error().message();
    storage_ = std::move(opened).value();
  }

  WriteOutcome write(WriteOp op) {
    std::promise<WriteOutcome> promise;
    auto future = promise.get_future();
    storage_->submit(std::move(op), [&](WriteOutcome o) { promise.set_value(std::move(o)); });
    return future.get();
  }
  std::int64_t enqueue(const std::string& to, const std::string& payload) {
    auto outcome = write(EnqueueItem{message_to(to, "sender", payload)});
    EXPECT_TRUE(outcome.ok) << outcome.message;
    return outcome.timestamp;
  }
  std::int64_t post(const std::string& group, const std::string& payload) {
    auto outcome = write(AppendGroupMessage{group_message(group, "sender", payload)});
    EXPECT_TRUE(outcome.ok) << outcome.message;
    return outcome.timestamp;
  }
  std::vector<std::int64_t> queue_stamps(const std::string& user, std::int64_t after) {
    auto items = storage_->queue_items_after(user, after, 1000);
    EXPECT_TRUE(items.ok());
    std::vector<std::int64_t> out;
    if (items.ok()) {
      for (const auto& i : *items)
        out.push_back(i.timestamp);
    }
    return out;
  }

  // A connection of our own on the file: what is durable, bypassing the backend.
  std::unique_ptr<sqlite::Connection> raw() {
    auto db = sqlite::Connection::open((dir_.path() / "data" / "relay.db").string(),
                                       sqlite::Connection::Mode::kReadOnly);
    EXPECT_TRUE(db.ok());
    return db.ok() ? std::move(db).value() : nullptr;
  }

  TempDir dir_;
  std::unique_ptr<Storage> storage_;
};

TEST_F(SqliteCacheTest, AReadAfterAWriteSeesItWhetherTheQueueWasCachedOrNot) {
  ASSERT_TRUE(write(CreateUser{"alice", hash_of(1)}).ok);
  const auto t1 = enqueue("alice", "one");
  EXPECT_EQ(queue_stamps("alice", 0), (std::vector<std::int64_t>{t1}));  // fills the cache
  const auto t2 = enqueue("alice", "two");
  const auto t3 = enqueue("alice", "three");
  EXPECT_EQ(queue_stamps("alice", 0), (std::vector<std::int64_t>{t1, t2, t3}));
  EXPECT_EQ(queue_stamps("alice", t2), (std::vector<std::int64_t>{t3}));
  EXPECT_EQ(storage_->newest_queue_timestamp("alice").value(), t3);
  auto page = storage_->queue_page_after("alice", t1, 1);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].timestamp, t2);
  EXPECT_EQ(page->items[0].payload, "two");
  EXPECT_TRUE(page->acknowledged_left);
}

TEST_F(SqliteCacheTest, AcknowledgementsAndRetentionRemoveCachedItems) {
  ASSERT_TRUE(write(CreateUser{"alice", hash_of(1)}).ok);
  ASSERT_TRUE(write(CreateGroup{"g"}).ok);
  const auto t1 = enqueue("alice", "one");
  const auto t2 = enqueue("alice", "two");
  const auto t3 = enqueue("alice", "three");
  const auto m1 = post("g", "m1");
  EXPECT_EQ(queue_stamps("alice", 0).size(), 3u);
  const std::string groups[] = {"g"};
  EXPECT_EQ(storage_->group_messages_after(groups, 0, 100)->size(), 1u);

  auto acked = write(AckQueue{"alice", t2, 5000});
  ASSERT_TRUE(acked.ok);
  EXPECT_EQ(acked.rows, 2);
  EXPECT_EQ(queue_stamps("alice", 0), (std::vector<std::int64_t>{t3}));
  EXPECT_FALSE(storage_->queue_has_items_up_to("alice", t2).value());
  EXPECT_TRUE(storage_->queue_has_items_up_to("alice", t3).value());
  (void)t1;

  auto purged = write(PurgeExpired{m1 + 1, 5000});
  ASSERT_TRUE(purged.ok);
  EXPECT_EQ(purged.rows, 2);
  EXPECT_TRUE(queue_stamps("alice", 0).empty());
  EXPECT_TRUE(storage_->group_messages_after(groups, 0, 100)->empty());
  EXPECT_EQ(storage_->newest_group_timestamp("g").value(), 0);
  EXPECT_EQ(storage_->newest_queue_timestamp("alice").value(), 0);
}

TEST_F(SqliteCacheTest, QueuesLongerThanTheCacheStillAnswerOldCursors) {
  ASSERT_TRUE(write(CreateUser{"alice", hash_of(1)}).ok);
  std::vector<std::int64_t> all;
  for (int i = 0; i < 150; ++i)
    all.push_back(enqueue("alice", "p" + std::to_string(i)));
  EXPECT_EQ(queue_stamps("alice", 0), all);
  EXPECT_EQ(queue_stamps("alice", all[140]),
            std::vector<std::int64_t>(all.begin() + 141, all.end()));
  EXPECT_EQ(queue_stamps("alice", all[10]), std::vector<std::int64_t>(all.begin() + 11, all.end()));
  auto page = storage_->queue_page_after("alice", all[5], 3);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->acknowledged_left);
  ASSERT_EQ(page->items.size(), 3u);
  EXPECT_EQ(page->items[0].timestamp, all[6]);
}

// Readers follow a queue and two group logs with cursors while a writer appends: each reader
// must collect every item exactly once, and every item it is shown must already be in the
// file.
TEST_F(SqliteCacheTest, RacingReadersMissNothingAndSeeOnlyWhatTheFileHolds) {
  ASSERT_TRUE(write(CreateUser{"alice", hash_of(1)}).ok);
  ASSERT_TRUE(write(CreateGroup{"g1"}).ok);
  ASSERT_TRUE(write(CreateGroup{"g2"}).ok);
  constexpr int kEach = 200;
  std::atomic<bool> writing{true};
  std::atomic<int> not_in_file{0};

  auto in_file = [](sqlite::Connection& db, const char* sql, std::int64_t ts) {
    auto stmt = db.prepare(sql);
    if (!stmt.ok()) return false;
    stmt->bind(1, ts);
    auto row = stmt->step();
    return row.ok() && *row;
  };

  auto follow_queue = [&] {
    auto db = raw();
    std::vector<std::int64_t> seen;
    std::int64_t cursor = 0;
    for (;;) {
      const bool last_round = !writing.load();
      auto items = storage_->queue_items_after("alice", cursor, 7);
      if (!items.ok()) break;
      for (const auto& i : *items) {
        if (!in_file(*db, "SELECT 1 FROM queue_items WHERE ts = ?1", i.timestamp)) ++not_in_file;
        seen.push_back(i.timestamp);
        cursor = i.timestamp;
      }
      if (last_round && items->empty()) break;
    }
    return seen;
  };
  auto follow_groups = [&] {
    auto db = raw();
    const std::string ids[] = {"g1", "g2"};
    std::vector<std::int64_t> seen;
    std::int64_t cursor = 0;
    for (;;) {
      const bool last_round = !writing.load();
      auto messages = storage_->group_messages_after(ids, cursor, 5);
      if (!messages.ok()) break;
      for (const auto& m : *messages) {
        if (!in_file(*db, "SELECT 1 FROM group_messages WHERE ts = ?1", m.timestamp)) ++not_in_file;
        seen.push_back(m.timestamp);
        cursor = m.timestamp;  // one cursor over both groups, as clients keep it
      }
      if (last_round && messages->empty()) break;
    }
    return seen;
  };

  auto queue_reader = std::async(std::launch::async, follow_queue);
  auto group_reader = std::async(std::launch::async, follow_groups);
  std::vector<std::int64_t> queued, posted;
  {
    // Writes from several threads so batches carry several items.
    std::vector<std::future<std::vector<std::int64_t>>> writers;
    for (int w = 0; w < 4; ++w) {
      writers.push_back(std::async(std::launch::async, [&, w] {
        std::vector<std::int64_t> stamps;
        for (int i = 0; i < kEach / 4; ++i) {
          stamps.push_back(enqueue("alice", "q"));
          stamps.push_back(post(w % 2 ? "g1" : "g2", "m"));
        }
        return stamps;
      }));
    }
    for (auto& w : writers) {
      auto stamps = w.get();  // queue item, group message, queue item, ...
      for (std::size_t i = 0; i < stamps.size(); ++i)
        (i % 2 == 0 ? queued : posted).push_back(stamps[i]);
    }
  }
  writing = false;
  auto queue_seen = queue_reader.get();
  auto group_seen = group_reader.get();

  // Every returned timestamp exactly once, nothing left out.
  std::set<std::int64_t> queue_set(queue_seen.begin(), queue_seen.end());
  std::set<std::int64_t> group_set(group_seen.begin(), group_seen.end());
  EXPECT_EQ(queue_set.size(), queue_seen.size());
  EXPECT_EQ(group_set.size(), group_seen.size());
  EXPECT_EQ(queue_seen.size() + group_seen.size(), static_cast<std::size_t>(2 * kEach));
  std::set<std::int64_t> all(queued.begin(), queued.end());
  all.insert(posted.begin(), posted.end());
  std::set<std::int64_t> got(queue_seen.begin(), queue_seen.end());
  got.insert(group_seen.begin(), group_seen.end());
  EXPECT_EQ(got, all);
  EXPECT_EQ(not_in_file.load(), 0);
}

}  // namespace
}  // namespace secchats::server
