// migrate_sqlite_to_postgres at the library level: what the HTTP API cannot easily produce —
// a row PostgreSQL cannot store (the whole copy rolls back, the target stays empty), a target
// clock already ahead (kept), and an unknown source schema version (refused).
#include "migrate/migrate.hpp"

#include <gtest/gtest.h>

#include <future>
#include <string>

#include "pg/pg_connection.hpp"
#include "storage/postgres/pg_migrations.hpp"
#include "storage/sqlite/sqlite_db.hpp"
#include "storage/sqlite/sqlite_storage.hpp"
#include "support/pg_cluster.hpp"
#include "support/temp_dir.hpp"

namespace secchats::server {
namespace {

using secchats::testing::PgCluster;
using secchats::testing::TempDir;

WriteOutcome write(Storage& storage, WriteOp op) {
  std::promise<WriteOutcome> promise;
  auto future = promise.get_future();
  storage.submit(std::move(op), [&promise](WriteOutcome o) { promise.set_value(std::move(o)); });
  return future.get();
}

std::int64_t scalar(const std::string& uri, const std::string& sql) {
  auto conn = pg::PgConnection::open(uri, std::chrono::seconds(10));
  EXPECT_TRUE(conn.ok()) << conn.error().message();
  if (!conn.ok()) return -1;
  auto r = (*conn)->exec(sql);
  EXPECT_TRUE(r.ok()) << r.error().message();
  if (!r.ok()) return -1;
  auto v = r->int64(0, 0);
  return v.ok() ? *v : -1;
}

class MigrateLibraryTest : public ::testing::Test {
 protected:
  // A stopped SQLite relay with two users and `payload` queued for the second.
  void make_source(const std::string& payload) {
    auto storage = open_sqlite_storage({dir_.path()});
    ASSERT_TRUE(storage.ok()) << storage.error().message();
    ASSERT_TRUE(write(**storage, CreateUser{"alice", {}}).ok);
    ASSERT_TRUE(write(**storage, CreateUser{"bob", {}}).ok);
    QueueItem item;
    item.recipient_id = "bob";
    item.sender_id = "alice";
    item.payload = payload;
    auto o = write(**storage, EnqueueItem{item});
    ASSERT_TRUE(o.ok) << o.message;
    last_ts_ = o.timestamp;
  }

  MigrateOptions options(const std::string& uri) {
    MigrateOptions o;
    o.data_dir = dir_.path();
    o.target_uri = uri;
    return o;
  }

  TempDir dir_{"secchats-migrate-lib"};
  std::int64_t last_ts_ = 0;
};

TEST_F(MigrateLibraryTest, TextPostgresCannotStoreRollsBackEverything) {
  make_source(std::string("nul\0inside", 10));
  const std::string uri = PgCluster::shared().create_database();
  auto result = migrate_sqlite_to_postgres(options(uri));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument);
  // The users were copied before the item failed: the rollback took them back out.
  EXPECT_EQ(scalar(uri, "SELECT count(*) FROM users"), 0);
  EXPECT_EQ(scalar(uri, "SELECT last_ts FROM clock"), 0);
}

TEST_F(MigrateLibraryTest, TheTargetClockBecomesTheMaximumOfBothClocks) {
  make_source("hello");
  const std::string uri = PgCluster::shared().create_database();
  auto result = migrate_sqlite_to_postgres(options(uri));
  ASSERT_TRUE(result.ok()) << result.error().message();
  EXPECT_EQ(result->users, 2);
  EXPECT_EQ(result->queue_items, 1);
  EXPECT_EQ(result->newest_timestamp, last_ts_);
  EXPECT_EQ(result->target_clock, last_ts_);
  EXPECT_EQ(scalar(uri, "SELECT last_ts FROM clock"), last_ts_);
  EXPECT_EQ(scalar(uri, "SELECT ts FROM queue_items"), last_ts_);

  // An empty target whose clock already ran ahead (a relay used it, everything expired)
  // keeps its clock: timestamps never go back.
  const std::string ahead_uri = PgCluster::shared().create_database();
  const std::int64_t ahead = last_ts_ + 3600 * 1000;
  {
    auto conn = pg::PgConnection::open(ahead_uri, std::chrono::seconds(10));
    ASSERT_TRUE(conn.ok()) << conn.error().message();
    ASSERT_TRUE(apply_postgres_migrations(**conn).ok());
    ASSERT_TRUE((*conn)->exec("UPDATE clock SET last_ts = " + std::to_string(ahead)).ok());
  }
  auto kept = migrate_sqlite_to_postgres(options(ahead_uri));
  ASSERT_TRUE(kept.ok()) << kept.error().message();
  EXPECT_EQ(kept->target_clock, ahead);
  EXPECT_EQ(scalar(ahead_uri, "SELECT last_ts FROM clock"), ahead);
}

TEST_F(MigrateLibraryTest, UnknownSourceSchemaVersionIsRefused) {
  make_source("hello");
  {
    auto db = sqlite::Connection::open((dir_.path() / "relay.db").string(),
                                       sqlite::Connection::Mode::kReadWrite);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->exec("UPDATE schema_version SET version = 99").ok());
  }
  const std::string uri = PgCluster::shared().create_database();
  auto result = migrate_sqlite_to_postgres(options(uri));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), ErrorCode::kRefused);
  EXPECT_NE(result.error().message().find("schema version 99"), std::string::npos)
      << result.error().message();
}

TEST_F(MigrateLibraryTest, AMalformedUriIsAUsageErrorThatNeverRepeatsThePassword) {
  // No relay.db here: the URI is checked first, and its error never quotes the URI.
  MigrateOptions o = options("postgresql://relay:s3cret-pw@[::1/secchats");
  auto result = migrate_sqlite_to_postgres(o);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(result.error().message().find("malformed PostgreSQL URI"), std::string::npos)
      << result.error().message();
  EXPECT_EQ(result.error().message().find("s3cret-pw"), std::string::npos)
      << result.error().message();
}

// Counts the tables in the target's public schema.
std::int64_t table_count(const std::string& uri) {
  return scalar(uri, "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()");
}

TEST_F(MigrateLibraryTest, ATargetHoldingAnotherApplicationsTableIsRefusedUntouched) {
  make_source("hello");
  const std::string uri = PgCluster::shared().create_database();
  ASSERT_EQ(scalar(uri, "CREATE TABLE invoices (id int); SELECT 1"), 1);
  auto result = migrate_sqlite_to_postgres(options(uri));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), ErrorCode::kRefused);
  EXPECT_NE(result.error().message().find("invoices"), std::string::npos);
  EXPECT_EQ(table_count(uri), 1);  // not even schema_version was created
}

TEST_F(MigrateLibraryTest, ATargetWithAForeignUsersTableIsRefusedUntouched) {
  make_source("hello");
  const std::string uri = PgCluster::shared().create_database();
  ASSERT_EQ(scalar(uri, "CREATE TABLE users (name text); SELECT 1"), 1);
  auto result = migrate_sqlite_to_postgres(options(uri));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), ErrorCode::kRefused);
  EXPECT_EQ(table_count(uri), 1);
}

}  // namespace
}  // namespace secchats::server
