// What only the SQLite backend has: its file layout, schema versioning in the file, WAL
// checkpoints beside the writer, and errors for a damaged data directory. The storage
// contract itself (round trips, ordering, group commit, durability) runs on every backend in
// storage/storage_contract_test.cpp.
#include "storage/sqlite/sqlite_storage.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <future>
#include <string>
#include <thread>

#include "storage/sqlite/schema.hpp"
#include "storage/sqlite/sqlite_db.hpp"
#include "storage/storage_test_values.hpp"
#include "support/temp_dir.hpp"

namespace secchats::server {
namespace {

namespace fs = std::filesystem;

using secchats::testing::TempDir;

using test::hash_of;
using test::message_to;

class SqliteStorageTest : public ::testing::Test {
 protected:
  std::unique_ptr<Storage> open(int max_batch = 512, int checkpoint_pages = 8192) {
    SqliteOptions options;
    options.data_dir = dir_.path() / "data";
    options.max_batch = max_batch;
    options.checkpoint_pages = checkpoint_pages;
    auto opened = open_sqlite_storage(options);
    if (!opened.ok()) {
      ADD_FAILURE() << "open failed: " << opened.error().message();
      return nullptr;
    }
    return std::move(opened).value();
  }

  fs::path db_path() const { return dir_.path() / "data" / "relay.db"; }

  // Submits one write and waits for its outcome.
  static WriteOutcome write(Storage& storage, WriteOp op) {
    std::promise<WriteOutcome> promise;
    auto future = promise.get_future();
    std::atomic<int> calls{0};
    storage.submit(std::move(op), [&](WriteOutcome outcome) {
      calls.fetch_add(1);
      promise.set_value(std::move(outcome));
    });
    if (future.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
      ADD_FAILURE() << "write never completed";
      return WriteOutcome::failure(ErrorCode::kInternal, "timeout");
    }
    WriteOutcome outcome = future.get();
    EXPECT_EQ(calls.load(), 1);
    return outcome;
  }

  static void must_write(Storage& storage, WriteOp op) {
    WriteOutcome outcome = write(storage, std::move(op));
    ASSERT_TRUE(outcome.ok) << outcome.message;
  }

  static std::int64_t must_enqueue(Storage& storage, QueueItem item) {
    WriteOutcome outcome = write(storage, EnqueueItem{std::move(item)});
    EXPECT_TRUE(outcome.ok) << outcome.message;
    return outcome.timestamp;
  }

  static std::int64_t must_append(Storage& storage, GroupMessage message) {
    WriteOutcome outcome = write(storage, AppendGroupMessage{std::move(message)});
    EXPECT_TRUE(outcome.ok) << outcome.message;
    return outcome.timestamp;
  }

  TempDir dir_;
};

TEST_F(SqliteStorageTest, CreatesDataDirAndSetsSchemaVersion) {
  auto storage = open();
  ASSERT_TRUE(storage);
  EXPECT_TRUE(fs::exists(db_path()));
  storage->close();

  auto db = sqlite::Connection::open(db_path().string(), sqlite::Connection::Mode::kReadOnly);
  ASSERT_TRUE(db.ok()) << db.error().message();
  auto stmt = (*db)->prepare("SELECT version FROM schema_version");
  ASSERT_TRUE(stmt.ok()) << stmt.error().message();
  auto row = stmt->step();
  ASSERT_TRUE(row.ok());
  ASSERT_TRUE(*row);
  EXPECT_EQ(stmt->column_int(0), static_cast<std::int64_t>(sqlite::sql::kMigrations.size()));
  auto second = stmt->step();
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(*second) << "schema_version must hold exactly one row";
}

TEST_F(SqliteStorageTest, CheckpointsRunBesideTheWriterAndKeepTheLogBounded) {
  auto storage = open(/*max_batch=*/512, /*checkpoint_pages=*/8);
  ASSERT_TRUE(storage);
  must_write(*storage, CreateUser{"alice", hash_of(1)});
  const std::string payload(3000, 'p');  // about a page per item
  for (int i = 0; i < 300; ++i)
    must_enqueue(*storage, message_to("alice", "x", payload));
  // The checkpointer thread is asynchronous: give it a moment after the last commit.
  for (int i = 0; i < 100 && storage->writer_stats().checkpoints == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_GT(storage->writer_stats().checkpoints, 0u);
  // Without checkpoints the log would hold every one of the ~300 pages written.
  const auto wal = fs::path(db_path().string() + "-wal");
  ASSERT_TRUE(fs::exists(wal));
  EXPECT_LT(fs::file_size(wal), 300u * 4096u);
  auto items = storage->queue_items_after("alice", 0, 1000);
  ASSERT_TRUE(items.ok());
  EXPECT_EQ(items->size(), 300u);
}

TEST_F(SqliteStorageTest, CorruptDatabaseFileGivesAnError) {
  fs::create_directories(dir_.path() / "data");
  {
    std::ofstream out(db_path(), std::ios::binary);
    for (int i = 0; i < 512; ++i)
      out << "this is certainly not an SQLite database file. ";
  }
  SqliteOptions options;
  options.data_dir = dir_.path() / "data";
  auto opened = open_sqlite_storage(options);
  ASSERT_FALSE(opened.ok());
  EXPECT_FALSE(opened.error().message().empty());
}

TEST_F(SqliteStorageTest, DataDirThatIsAFileGivesAnError) {
  const fs::path not_a_dir = dir_.path() / "file";
  {
    std::ofstream out(not_a_dir);
    out << "x";
  }
  SqliteOptions options;
  options.data_dir = not_a_dir;
  auto opened = open_sqlite_storage(options);
  ASSERT_FALSE(opened.ok());
  EXPECT_FALSE(opened.error().message().empty());
}

TEST_F(SqliteStorageTest, NewerSchemaVersionIsRefused) {
  {
    auto storage = open();
    ASSERT_TRUE(storage);
  }
  {
    auto db = sqlite::Connection::open(db_path().string(), sqlite::Connection::Mode::kReadWrite);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->exec("UPDATE schema_version SET version = 999").ok());
  }
  SqliteOptions options;
  options.data_dir = dir_.path() / "data";
  auto opened = open_sqlite_storage(options);
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.error().message().find("newer"), std::string::npos) << opened.error().message();
}

}  // namespace
}  // namespace secchats::server
