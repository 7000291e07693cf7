// Why the PostgreSQL backend takes timestamps under the clock row lock (pg_storage.hpp):
// (a) a plain sequence loses an item for a cursor reader, deterministically; (b) the clock row
// makes the second writer wait for the first, so the reader sees both, in order; (c) two
// backends ("relays") on one database under load: every item seen once, in increasing order.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <semaphore>
#include <set>
#include <thread>

#include "secchats/common/clock.hpp"
#include "storage/postgres/pg_test_helpers.hpp"
#include "storage/postgres/schema.hpp"
#include "support/pg_cluster.hpp"

namespace secchats::server {
namespace {

using namespace pgtest;
using pg::PgConnection;
using secchats::testing::PgCluster;

std::vector<std::int64_t> read_after(PgConnection& c, const std::string& sql_prefix,
                                     std::int64_t cursor) {
  auto r = must(c, sql_prefix + std::to_string(cursor) + " ORDER BY ts");
  std::vector<std::int64_t> out;
  for (int i = 0; i < r.rows(); ++i)
    out.push_back(*r.int64(i, 0));
  return out;
}

// Waits (bounded) until another backend is blocked on a lock, as pg_stat_activity reports it.
bool some_backend_waits_on_lock(PgConnection& observer) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    auto n = scalar(observer,
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()");
    if (n > 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST(PgOrderingTest, NaiveSequenceLosesAnItemForACursorReader) {
  const std::string uri = PgCluster::shared().create_database();
  auto setup = connect(uri);
  auto t1 = connect(uri);
  auto t2 = connect(uri);
  auto reader = connect(uri);
  ASSERT_TRUE(setup && t1 && t2 && reader);
  must(*setup, "CREATE SEQUENCE seq START 1004; CREATE TABLE items (ts BIGINT PRIMARY KEY)");

  must(*t1, "BEGIN; INSERT INTO items VALUES (nextval('seq'))");          // takes 1004
  must(*t2, "BEGIN; INSERT INTO items VALUES (nextval('seq')); COMMIT");  // takes 1005
  std::set<std::int64_t> seen;
  std::int64_t cursor = 0;
  for (auto ts : read_after(*reader, "SELECT ts FROM items WHERE ts > ", cursor)) {
    seen.insert(ts);
    cursor = ts;
  }
  EXPECT_EQ(cursor, 1005);
  must(*t1, "COMMIT");
  for (auto ts : read_after(*reader, "SELECT ts FROM items WHERE ts > ", cursor)) {
    seen.insert(ts);
    cursor = ts;
  }
  // Both rows are committed, but the cursor reader never saw 1004: it is lost to it.
  EXPECT_EQ(scalar(*setup, "SELECT count(*) FROM items"), 2);
  EXPECT_EQ(seen, (std::set<std::int64_t>{1005}));
}

TEST(PgOrderingTest, ClockRowMakesTheSecondWriterWaitSoTheReaderSeesBothInOrder) {
  const std::string uri = PgCluster::shared().create_database();
  auto storage = open_storage(uri);  // applies the schema
  ASSERT_TRUE(storage);
  ASSERT_TRUE(submit_sync(*storage, CreateUser{"bob", hash_of(1)}).ok);
  storage->close();
  auto t1 = connect(uri);
  auto t2 = connect(uri);
  auto reader = connect(uri);
  auto observer = connect(uri);
  ASSERT_TRUE(t1 && t2 && reader && observer);
  const std::string lock_clock(postgres::sql::kBeginAndLockClock);
  auto insert = [](PgConnection& c, std::int64_t ts) {
    must(c, "INSERT INTO queue_items (recipient_id, ts, kind, sender_id) VALUES ('bob', " +
                std::to_string(ts) + ", 4, 'x'); UPDATE clock SET last_ts = " + std::to_string(ts) +
                " WHERE id = 1");
  };

  // T1 locks the clock row and takes its timestamp.
  const std::int64_t last1 = *must(*t1, lock_clock).int64(0, 0);
  const std::int64_t ts1 = std::max(unix_millis_now(), last1 + 1);
  insert(*t1, ts1);
  // T2 asks for the row too and is blocked on T1's row lock.
  ASSERT_EQ(PQsendQuery(t2->raw(), lock_clock.c_str()), 1);
  ASSERT_TRUE(some_backend_waits_on_lock(*observer));
  ASSERT_EQ(PQconsumeInput(t2->raw()), 1);
  EXPECT_EQ(PQisBusy(t2->raw()), 1);
  // Nothing is visible yet.
  const std::string query = "SELECT ts FROM queue_items WHERE ts > ";
  std::vector<std::int64_t> seen;
  std::int64_t cursor = 0;
  for (auto ts : read_after(*reader, query, cursor))
    seen.push_back(cursor = ts);
  EXPECT_TRUE(seen.empty());

  must(*t1, "COMMIT");
  // T2 now gets the row, with T1's timestamp as last_ts.
  std::int64_t last2 = -1;
  while (PGresult* r = PQgetResult(t2->raw())) {
    if (PQresultStatus(r) == PGRES_TUPLES_OK) last2 = std::atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
  }
  EXPECT_EQ(last2, ts1);
  for (auto ts : read_after(*reader, query, cursor))
    seen.push_back(cursor = ts);
  const std::int64_t ts2 = std::max(unix_millis_now(), last2 + 1);
  insert(*t2, ts2);
  must(*t2, "COMMIT");
  for (auto ts : read_after(*reader, query, cursor))
    seen.push_back(cursor = ts);
  EXPECT_EQ(seen, (std::vector<std::int64_t>{ts1, ts2}));
  EXPECT_LT(ts1, ts2);
}

TEST(PgOrderingTest, TwoRelaysFourWritersOneCursorReaderSeesEveryItemOnceInOrder) {
  const std::string uri = PgCluster::shared().create_database();
  auto relay_a = open_storage(uri, 64);
  auto relay_b = open_storage(uri, 64);
  ASSERT_TRUE(relay_a && relay_b);
  ASSERT_TRUE(submit_sync(*relay_a, CreateUser{"carol", hash_of(2)}).ok);
  constexpr int kWriters = 4, kPerWriter = 500, kTotal = kWriters * kPerWriter;

  std::atomic<int> failures{0}, acknowledged{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      Storage& relay = w % 2 == 0 ? *relay_a : *relay_b;
      // At most 16 writes in flight per writer, so batches of several sizes form.
      std::counting_semaphore<16> window(16);
      std::atomic<int> done{0};
      for (int i = 0; i < kPerWriter; ++i) {
        window.acquire();
        relay.submit(message_to("carol", std::to_string(w) + ":" + std::to_string(i)),
                     [&](WriteOutcome o) {
                       if (o.ok) {
                         acknowledged.fetch_add(1);
                       } else {
                         failures.fetch_add(1);
                       }
                       window.release();
                       done.fetch_add(1);  // last: the writer thread may return after it
                     });
      }
      while (done.load() < kPerWriter)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    });
  }

  // The reader moves its cursor like a client: to the last timestamp it was given.
  std::map<std::string, int> seen;
  std::int64_t cursor = 0;
  bool ordered = true;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
  int total_seen = 0;
  while (total_seen < kTotal && std::chrono::steady_clock::now() < deadline) {
    Storage& relay = total_seen % 2 == 0 ? *relay_b : *relay_a;
    auto items = relay.queue_items_after("carol", cursor, 100);
    ASSERT_TRUE(items.ok()) << items.error().message();
    for (const auto& item : *items) {
      ordered = ordered && item.timestamp > cursor;
      cursor = item.timestamp;
      ++seen[item.payload.value_or("")];
      ++total_seen;
    }
    if (items->empty()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  for (auto& t : writers)
    t.join();
  // Anything still unseen after the writers finished would have been skipped for good.
  auto rest = relay_a->queue_items_after("carol", cursor, kTotal);
  ASSERT_TRUE(rest.ok());
  for (const auto& item : *rest)
    ++seen[item.payload.value_or("")];

  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(acknowledged.load(), kTotal);
  EXPECT_TRUE(ordered);
  EXPECT_EQ(total_seen, kTotal);
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kTotal));
  for (const auto& [payload, count] : seen)
    EXPECT_EQ(count, 1) << payload;
  EXPECT_TRUE(rest->empty());
  // Both relays group-committed.
  EXPECT_GT(relay_a->writer_stats().max_batch, 1u);
  EXPECT_GT(relay_b->writer_stats().max_batch, 1u);
}

}  // namespace
}  // namespace secchats::server
