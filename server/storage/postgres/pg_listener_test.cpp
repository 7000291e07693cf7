// PgListener against a real throwaway PostgreSQL (tests/support/pg_cluster): keys split from
// NOTIFY payloads, delivery only on COMMIT, other channels ignored, and reconnection with a
// wake-everyone call after PostgreSQL restarts. Also what --storage URIs are logged as.
#include "storage/postgres/pg_listener.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pg/pg_connection.hpp"
#include "storage/postgres/pg_storage.hpp"
#include "storage/postgres/pg_target.hpp"
#include "support/pg_cluster.hpp"

namespace secchats::server {
namespace {

using namespace std::chrono_literals;
using testing::PgCluster;

// What the listener's callbacks saw; waits with a generous bound (a hang fails, no speed test).
class Recorder {
 public:
  void key(const std::string& k) {
    std::lock_guard lock(mutex_);
    keys_.push_back(k);
    cv_.notify_all();
  }
  void resumed() {
    std::lock_guard lock(mutex_);
    ++resumes_;
    cv_.notify_all();
  }
  bool wait_for_keys(std::size_t n, std::chrono::milliseconds bound = 20s) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, bound, [&] { return keys_.size() >= n; });
  }
  bool wait_for_resumes(int n, std::chrono::milliseconds bound = 30s) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, bound, [&] { return resumes_ >= n; });
  }
  std::vector<std::string> keys() {
    std::lock_guard lock(mutex_);
    return keys_;
  }
  int resumes() {
    std::lock_guard lock(mutex_);
    return resumes_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::string> keys_;
  int resumes_ = 0;
};

std::unique_ptr<PgListener> start_listener(const std::string& uri, Recorder& rec) {
  PgListenerOptions options;
  options.uri = uri;
  options.reconnect_backoff_min = 50ms;
  options.reconnect_backoff_max = 500ms;
  auto listener = PgListener::start(
      options, [&rec](const std::string& k) { rec.key(k); }, [&rec] { rec.resumed(); });
  EXPECT_TRUE(listener.ok()) << listener.error().message();
  return listener.ok() ? std::move(listener).value() : nullptr;
}

std::unique_ptr<pg::PgConnection> connect(const std::string& uri) {
  auto conn = pg::PgConnection::open(uri, 5s);
  EXPECT_TRUE(conn.ok()) << conn.error().message();
  return conn.ok() ? std::move(conn).value() : nullptr;
}

void notify(pg::PgConnection& conn, const std::string& payload,
            std::string_view channel = kWakeChannel) {
  auto r = conn.exec("SELECT pg_notify($1, $2)",
                     {pg::PgParam::text(channel), pg::PgParam::text(payload)});
  ASSERT_TRUE(r.ok()) << r.error().message();
}

TEST(PgListenerTest, SplitsEachPayloadIntoQueueKeys) {
  const std::string uri = PgCluster::shared().create_database();
  Recorder rec;
  auto listener = start_listener(uri, rec);
  ASSERT_TRUE(listener);
  auto writer = connect(uri);
  ASSERT_TRUE(writer);

  notify(*writer, queue_key_for_user("alice") + "\n" + queue_key_for_group("g1"));
  notify(*writer, queue_key_for_user("bob"));
  ASSERT_TRUE(rec.wait_for_keys(3));
  EXPECT_EQ(rec.keys(), (std::vector<std::string>{"u:alice", "g:g1", "u:bob"}));
  auto stats = listener->stats();
  EXPECT_EQ(stats.notifications, 2u);
  EXPECT_EQ(stats.keys, 3u);
  EXPECT_TRUE(stats.listening);
  EXPECT_EQ(stats.reconnects, 0u);
}

TEST(PgListenerTest, DeliversOnlyWhatCommitsAndOnlyOnItsChannel) {
  const std::string uri = PgCluster::shared().create_database();
  Recorder rec;
  auto listener = start_listener(uri, rec);
  ASSERT_TRUE(listener);
  auto writer = connect(uri);
  ASSERT_TRUE(writer);

  ASSERT_TRUE(writer->exec("BEGIN").ok());
  notify(*writer, "u:rolled-back");
  ASSERT_TRUE(writer->exec("ROLLBACK").ok());
  notify(*writer, "u:elsewhere", "some_other_channel");

  ASSERT_TRUE(writer->exec("BEGIN").ok());
  notify(*writer, "u:committed");
  ASSERT_TRUE(writer->exec("COMMIT").ok());

  // Notifications from one session arrive in commit order, so once the committed one is
  // here, the others would have been too.
  ASSERT_TRUE(rec.wait_for_keys(1));
  EXPECT_EQ(rec.keys(), std::vector<std::string>{"u:committed"});
}

TEST(PgListenerTest, IgnoresEmptyLinesInAPayload) {
  const std::string uri = PgCluster::shared().create_database();
  Recorder rec;
  auto listener = start_listener(uri, rec);
  ASSERT_TRUE(listener);
  auto writer = connect(uri);
  ASSERT_TRUE(writer);
  notify(*writer, "\nu:a\n\ng:b\n");
  ASSERT_TRUE(rec.wait_for_keys(2));
  EXPECT_EQ(rec.keys(), (std::vector<std::string>{"u:a", "g:b"}));
}

TEST(PgListenerTest, StartFailsWithUnavailableWhenTheDatabaseIsUnreachable) {
  Recorder rec;
  PgListenerOptions options;
  // Port 1 on loopback: nothing listens there.
  options.uri = "postgresql://postgres:not-logged@127.0.0.1:1/none";
  options.connect_timeout = 2000ms;
  auto listener = PgListener::start(
      options, [&rec](const std::string& k) { rec.key(k); }, [&rec] { rec.resumed(); });
  ASSERT_FALSE(listener.ok());
  EXPECT_EQ(listener.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(listener.error().message().find("not-logged"), std::string::npos)
      << "the password must never show up: " << listener.error().message();
}

// PostgreSQL goes away and comes back: the listener reconnects by itself, LISTENs again and
// asks the relay to wake every long-poll (what was notified meanwhile is lost).
TEST(PgListenerTest, ReconnectsAfterPostgresRestartsAndAsksForARecheck) {
  auto cluster = PgCluster::start();
  const std::string uri = cluster->create_database();
  Recorder rec;
  auto listener = start_listener(uri, rec);
  ASSERT_TRUE(listener);

  cluster->stop(/*crash=*/true);
  // The listener notices (the server closed the socket) and keeps retrying.
  for (int i = 0; i < 200 && listener->stats().listening; ++i)
    std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(listener->stats().listening);
  EXPECT_EQ(rec.resumes(), 0);

  cluster->restart_stopped();
  ASSERT_TRUE(rec.wait_for_resumes(1)) << "never LISTENed again";
  EXPECT_EQ(listener->stats().reconnects, 1u);
  EXPECT_TRUE(listener->stats().listening);

  auto writer = connect(uri);
  ASSERT_TRUE(writer);
  notify(*writer, "u:after-restart");
  ASSERT_TRUE(rec.wait_for_keys(1));
  EXPECT_EQ(rec.keys(), std::vector<std::string>{"u:after-restart"});
  listener->stop();
  listener->stop();  // idempotent
}

TEST(PgTargetTest, DescribesHostPortAndDatabaseButNeverCredentials) {
  auto t = parse_pg_target("postgresql://relay:s3cret@db.internal:6543/chats?sslmode=require");
  ASSERT_TRUE(t.ok()) << t.error().message();
  EXPECT_EQ(t->describe(), "db.internal:6543/chats");
  auto defaults = parse_pg_target("postgres://");
  ASSERT_TRUE(defaults.ok()) << defaults.error().message();
  EXPECT_EQ(defaults->describe(), "localhost:5432");
}

TEST(PgTargetTest, RejectsOtherSchemesAndMalformedUrisWithoutEchoingThem) {
  for (const std::string bad : {"mysql://u:s3cret@h/db", "/var/lib/data", "",
                                "postgresql://u:s3cret@[::1/db", "postgresql://h/db?nosuch=1"}) {
    auto t = parse_pg_target(bad);
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_EQ(t.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(t.error().message().find("s3cret"), std::string::npos) << t.error().message();
    EXPECT_EQ(t.error().message().find('\n'), std::string::npos) << "one line";
  }
}

}  // namespace
}  // namespace secchats::server
