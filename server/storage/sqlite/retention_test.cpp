// Retention on SQLite: the v1 -> v2 schema migration (its purge index), and the service-layer
// purger driving PurgeExpired over back-dated rows written straight into the file. The
// AckQueue / PurgeExpired contract itself runs on every backend in
// storage/storage_contract_retention_test.cpp.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "secchats/common/clock.hpp"
#include "service/retention.hpp"
#include "storage/sqlite/schema.hpp"
#include "storage/sqlite/sqlite_db.hpp"
#include "storage/sqlite/sqlite_storage.hpp"
#include "storage/storage_test_values.hpp"

namespace secchats::server {
namespace {

using test::payloads;

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr std::int64_t kDayMs = 24 * 60 * 60 * 1000;

class RetentionTest : public ::testing::Test {
 protected:
  RetentionTest() {
    std::string tmpl = (fs::temp_directory_path() / "secchats-retention-test-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    root_ = tmpl;
  }
  ~RetentionTest() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  fs::path data_dir() const { return root_ / "data"; }
  fs::path db_path() const { return data_dir() / "relay.db"; }

  std::unique_ptr<Storage> open() {
    SqliteOptions options;
    options.data_dir = data_dir();
    auto storage = open_sqlite_storage(options);
    EXPECT_TRUE(storage.ok()) << storage.error().message();
    return storage.ok() ? std::move(storage).value() : nullptr;
  }

  std::unique_ptr<sqlite::Connection> raw() {
    auto db = sqlite::Connection::open(db_path().string(), sqlite::Connection::Mode::kReadWrite);
    EXPECT_TRUE(db.ok()) << db.error().message();
    return db.ok() ? std::move(db).value() : nullptr;
  }

  static WriteOutcome write(Storage& storage, WriteOp op) {
    std::promise<WriteOutcome> promise;
    auto future = promise.get_future();
    storage.submit(std::move(op), [&promise](WriteOutcome o) { promise.set_value(std::move(o)); });
    return future.get();
  }

  static void must(Storage& storage, WriteOp op) {
    auto outcome = write(storage, std::move(op));
    ASSERT_TRUE(outcome.ok) << outcome.message;
  }

  static std::int64_t enqueue(Storage& storage, const std::string& to, const std::string& text) {
    QueueItem item;
    item.recipient_id = to;
    item.sender_id = "sender";
    item.payload = text;
    auto outcome = write(storage, EnqueueItem{item});
    EXPECT_TRUE(outcome.ok) << outcome.message;
    return outcome.timestamp;
  }

  static std::int64_t scalar(sqlite::Connection& db, const std::string& sql) {
    auto stmt = db.prepare(sql);
    EXPECT_TRUE(stmt.ok()) << sql;
    if (!stmt.ok()) return -1;
    auto row = stmt->step();
    EXPECT_TRUE(row.ok() && *row) << sql;
    return row.ok() && *row ? stmt->column_int(0) : -1;
  }

  // Inserts `n` queue items for `user` and `n_messages` messages for `group` with unique
  // timestamps starting at `first_ts`, straight into the file (the storage must be closed).
  void insert_old_rows(const std::string& user, int n, const std::string& group, int n_messages,
                       std::int64_t first_ts) {
    auto db = raw();
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->exec("BEGIN").ok());
    auto item = db->prepare(
        "INSERT INTO queue_items (recipient_id, ts, kind, sender_id, payload) "
        "VALUES (?1, ?2, 4, 'old', 'old')");
    ASSERT_TRUE(item.ok());
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(item->bind(1, user).bind(2, first_ts + i).run().ok());
      item->reset();
    }
    auto message = db->prepare(
        "INSERT INTO group_messages (group_id, ts, sender_id, payload) "
        "VALUES (?1, ?2, 'old', 'old')");
    ASSERT_TRUE(message.ok());
    for (int i = 0; i < n_messages; ++i) {
      ASSERT_TRUE(message->bind(1, group).bind(2, first_ts + n + i).run().ok());
      message->reset();
    }
    ASSERT_TRUE(db->exec("COMMIT").ok());
  }

  fs::path root_;
};

TEST_F(RetentionTest, MigratesAVersion1DatabaseAndKeepsItsData) {
  fs::create_directories(data_dir());
  {
    auto db = raw();
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->exec(sqlite::sql::kMigrations[0]).ok());
    ASSERT_TRUE(db->exec("CREATE TABLE schema_version (version INTEGER NOT NULL);"
                         "INSERT INTO schema_version (version) VALUES (1);"
                         "INSERT INTO users (id, token_hash, created_ms) VALUES ('bob', x'00', 0);"
                         "INSERT INTO queue_items (recipient_id, ts, kind, sender_id, payload) "
                         "VALUES ('bob', 1000, 4, 's', 'kept');"
                         "UPDATE clock SET last_ts = 1000;")
                    .ok());
  }
  {
    auto storage = open();
    ASSERT_TRUE(storage);
    EXPECT_EQ(payloads(*storage, "bob"), (std::vector<std::string>{"kept"}));
    EXPECT_GT(enqueue(*storage, "bob", "new"), 1000);
  }
  auto db = raw();
  ASSERT_TRUE(db);
  EXPECT_EQ(scalar(*db, "SELECT version FROM schema_version"), 2);
  EXPECT_EQ(scalar(*db,
                   "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name IN "
                   "('queue_items_by_ts', 'group_messages_by_ts')"),
            2);
  // The purge's row picker walks the new index instead of scanning the table.
  auto plan =
      db->prepare(std::string("EXPLAIN QUERY PLAN ") + std::string(sqlite::sql::kPurgeQueueItems));
  ASSERT_TRUE(plan.ok());
  plan->bind(1, std::int64_t{0}).bind(2, std::int64_t{10});
  std::string details;
  for (;;) {
    auto row = plan->step();
    ASSERT_TRUE(row.ok());
    if (!*row) break;
    details += plan->column_text(3) + "\n";
  }
  EXPECT_NE(details.find("queue_items_by_ts"), std::string::npos) << details;
  EXPECT_EQ(details.find("SCAN queue_items"), std::string::npos) << details;
}

TEST_F(RetentionTest, PurgerRunsAtStartAndThenPeriodically) {
  {
    auto storage = open();
    ASSERT_TRUE(storage);
    must(*storage, CreateUser{"bob", {}});
    must(*storage, CreateGroup{"g"});
  }
  insert_old_rows("bob", 1200, "g", 300, unix_millis_now() - 3 * kDayMs);
  auto storage = open();
  ASSERT_TRUE(storage);
  boost::asio::io_context ioc;
  RetentionOptions options;
  options.max_age = std::chrono::hours(24);
  options.interval = 50ms;
  options.batch_rows = 500;  // several rounds per purge
  auto purger = std::make_unique<RetentionPurger>(ioc.get_executor(), *storage, options);
  ASSERT_TRUE(purger->enabled());
  purger->start();
  std::thread runner([&] { ioc.run_for(5s); });
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (purger->stats().runs < 3 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  auto stats = purger->stats();
  EXPECT_GE(stats.runs, 3u) << "one purge at start, then one per interval";
  EXPECT_EQ(stats.last_rows, 0u) << "later runs find nothing left";
  EXPECT_GT(stats.total_micros, 0u);
  EXPECT_EQ(storage->writer_stats().purged_queue_items, 1200u);
  EXPECT_EQ(storage->writer_stats().purged_group_messages, 300u);
  purger->stop();
  ioc.stop();
  runner.join();
  purger.reset();
  EXPECT_EQ(storage->counts()->queued_items, 0);
}

TEST_F(RetentionTest, ZeroRetentionKeepsEverything) {
  auto storage = open();
  ASSERT_TRUE(storage);
  boost::asio::io_context ioc;
  RetentionOptions options;
  options.max_age = 0ms;
  RetentionPurger purger(ioc.get_executor(), *storage, options);
  EXPECT_FALSE(purger.enabled());
  purger.start();
  ioc.run_for(50ms);
  EXPECT_EQ(purger.stats().runs, 0u);
}

// Not a pass/fail figure: how fast a bounded purge removes rows with synchronous=FULL.
TEST_F(RetentionTest, PurgeSpeed) {
  constexpr int kItems = 200000;
  constexpr int kMessages = 50000;
  {
    auto storage = open();
    ASSERT_TRUE(storage);
    must(*storage, CreateUser{"bob", {}});
    must(*storage, CreateGroup{"g"});
  }
  insert_old_rows("bob", kItems, "g", kMessages, unix_millis_now() - 3 * kDayMs);
  auto storage = open();
  ASSERT_TRUE(storage);
  boost::asio::io_context ioc;
  const std::int64_t before = unix_millis_now() - kDayMs;
  auto started = std::chrono::steady_clock::now();
  std::optional<Result<std::int64_t>> purged;
  Storage& store = *storage;
  boost::asio::co_spawn(
      ioc,
      [&]() -> boost::asio::awaitable<void> {
        auto rows = co_await purge_expired(store, before, 5000);
        purged.emplace(std::move(rows));
      },
      boost::asio::detached);
  ioc.run();
  ASSERT_TRUE(purged.has_value());
  auto& result = *purged;
  auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_TRUE(result.ok()) << result.error().message();
  EXPECT_EQ(*result, kItems + kMessages);
  auto stats = storage->writer_stats();
  std::cout << "[ info ] purged " << *result << " rows in " << static_cast<int>(elapsed * 1000)
            << " ms (" << static_cast<std::int64_t>(static_cast<double>(*result) / elapsed)
            << " rows/s, " << stats.batches << " transactions of <= 5000 rows, "
            << static_cast<int>(elapsed * 1000 / static_cast<double>(stats.batches))
            << " ms each on average)\n";
}

}  // namespace
}  // namespace secchats::server
