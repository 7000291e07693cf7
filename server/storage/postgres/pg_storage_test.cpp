// The PostgreSQL backend on a throwaway cluster: per-op outcomes inside one batch, migrations
// raced by two relays, commit notifications, retention purged once across relays, and the
// behaviour while the database is down and after it is back. (The shared Storage contract
// suite runs against this backend too.)
#include <gtest/gtest.h>
#include <poll.h>

#include <atomic>
#include <chrono>
#include <future>
#include <set>
#include <sstream>
#include <thread>

#include "storage/postgres/pg_migrations.hpp"
#include "storage/postgres/pg_test_helpers.hpp"
#include "support/pg_cluster.hpp"

namespace secchats::server {
namespace {

using namespace pgtest;
using pg::PgConnection;
using secchats::testing::PgCluster;
using Clock = std::chrono::steady_clock;

// Submits every op at once (so they share batches) and returns the outcomes in order.
std::vector<WriteOutcome> submit_all(Storage& s, std::vector<WriteOp> ops) {
  std::vector<std::promise<WriteOutcome>> promises(ops.size());
  std::vector<std::future<WriteOutcome>> futures;
  for (auto& p : promises)
    futures.push_back(p.get_future());
  for (std::size_t i = 0; i < ops.size(); ++i) {
    s.submit(std::move(ops[i]), [&promises, i](WriteOutcome o) { promises[i].set_value(o); });
  }
  std::vector<WriteOutcome> out;
  for (auto& f : futures)
    out.push_back(f.get());
  return out;
}

TEST(PgStorageTest, PerOpFailuresDoNotAbortTheirBatch) {
  auto storage = open_storage(PgCluster::shared().create_database());
  ASSERT_TRUE(storage);
  QueueItem invite;
  invite.kind = ItemKind::kGroupInvite;
  invite.recipient_id = "alice";
  invite.sender_id = "bob";
  invite.group_id = "no-such-group";
  std::vector<WriteOp> ops;
  ops.push_back(CreateUser{"alice", hash_of(7)});
  ops.push_back(CreateUser{"alice", hash_of(8)});              // taken (earlier in the same batch)
  ops.push_back(message_to("nobody-here", "x"));               // unknown recipient
  ops.push_back(EnqueueItem{invite});                          // unknown group
  ops.push_back(message_to("alice", std::string("a\0b", 3)));  // NUL: refused before SQL
  ops.push_back(message_to("alice", "\xff\xfe"));              // not UTF-8
  ops.push_back(CreateGroup{"g1"});
  ops.push_back(group_message("g1", "hello group"));
  ops.push_back(group_message("g2", "nobody"));  // unknown group
  ops.push_back(message_to("alice", "hello alice"));
  auto out = submit_all(*storage, std::move(ops));
  ASSERT_EQ(out.size(), 10u);
  EXPECT_TRUE(out[0].ok);
  EXPECT_EQ(out[1].code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(out[2].code, ErrorCode::kNotFound);
  EXPECT_EQ(out[3].code, ErrorCode::kNotFound);
  EXPECT_EQ(out[3].message, "unknown group");
  EXPECT_EQ(out[4].code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(out[5].code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(out[6].ok);
  ASSERT_TRUE(out[7].ok);
  EXPECT_FALSE(out[8].ok);
  ASSERT_TRUE(out[9].ok);
  EXPECT_LT(out[7].timestamp, out[9].timestamp);

  auto hash = storage->user_token_hash("alice");
  ASSERT_TRUE(hash.ok() && hash->has_value());
  EXPECT_EQ(**hash, hash_of(7));
  auto items = storage->queue_items_after("alice", 0, 10);
  ASSERT_TRUE(items.ok());
  ASSERT_EQ(items->size(), 1u);
  EXPECT_EQ((*items)[0].payload, "hello alice");
  EXPECT_EQ((*items)[0].timestamp, out[9].timestamp);
  const std::vector<std::string> groups = {"g1", "g\"2\\"};
  auto messages = storage->group_messages_after(groups, 0, 10);
  ASSERT_TRUE(messages.ok()) << messages.error().message();
  ASSERT_EQ(messages->size(), 1u);
  EXPECT_EQ((*messages)[0].group_id, "g1");
  EXPECT_EQ(storage->newest_group_timestamp("g1").value(), out[7].timestamp);
  EXPECT_EQ(storage->newest_queue_timestamp("alice").value(), out[9].timestamp);
  auto counts = storage->counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->users, 1);
  EXPECT_EQ(counts->groups, 1);
  EXPECT_EQ(counts->queued_items, 1);
  EXPECT_EQ(counts->group_messages, 1);
}

TEST(PgStorageTest, TwoRelaysMigratingAFreshDatabaseTogetherBothStartAndApplyV1Once) {
  const std::string uri = PgCluster::shared().create_database();
  std::promise<void> go;
  std::shared_future<void> start = go.get_future().share();
  auto open_after_go = [&] {
    start.wait();
    PgOptions o;
    o.uri = uri;
    return open_postgres_storage(o);
  };
  auto a = std::async(std::launch::async, open_after_go);
  auto b = std::async(std::launch::async, open_after_go);
  go.set_value();
  auto ra = a.get();
  auto rb = b.get();
  ASSERT_TRUE(ra.ok()) << ra.error().message();
  ASSERT_TRUE(rb.ok()) << rb.error().message();
  auto c = connect(uri);
  ASSERT_TRUE(c);
  EXPECT_EQ(scalar(*c, "SELECT count(*) FROM schema_version"), 1);
  EXPECT_EQ(scalar(*c, "SELECT version FROM schema_version"), latest_postgres_schema_version());
  EXPECT_EQ(scalar(*c, "SELECT count(*) FROM clock"), 1);  // v1's INSERT ran once
  // Both work on the one schema.
  ASSERT_TRUE(submit_sync(**ra, CreateUser{"u", hash_of(1)}).ok);
  EXPECT_EQ(submit_sync(**rb, CreateUser{"u", hash_of(1)}).code, ErrorCode::kAlreadyExists);
}

// Collects the keys of every notification on `listener` until `want` arrived (bounded).
bool wait_for_key(PgConnection& listener, const std::string& want, std::set<std::string>& keys) {
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < deadline) {
    auto notes = listener.take_notifications();
    if (!notes.ok()) return false;
    for (const auto& [channel, payload] : *notes) {
      EXPECT_EQ(channel, kWakeChannel);
      std::istringstream lines(payload);
      for (std::string key; std::getline(lines, key);)
        keys.insert(key);
    }
    if (keys.count(want) != 0) return true;
    pollfd p{listener.socket(), POLLIN, 0};
    (void)::poll(&p, 1, 100);
  }
  return false;
}

TEST(PgStorageTest, ListenersGetTheKeysOfCommittedBatchesOnly) {
  const std::string uri = PgCluster::shared().create_database();
  auto storage = open_storage(uri);
  ASSERT_TRUE(storage);
  auto listener = connect(uri);
  ASSERT_TRUE(listener);
  must(*listener, "LISTEN " + std::string(kWakeChannel));
  auto setup = submit_all(*storage, {CreateUser{"u1", hash_of(1)}, CreateUser{"u2", hash_of(2)},
                                     CreateUser{"u3", hash_of(3)}, CreateGroup{"g1"}});
  for (const auto& o : setup)
    ASSERT_TRUE(o.ok);
  // A trigger makes any insert with payload 'boom' fail inside the batch's transaction.
  auto admin = connect(uri);
  ASSERT_TRUE(admin);
  must(*admin,
       "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
       "IF NEW.payload = 'boom' THEN RAISE EXCEPTION 'refused by test'; END IF; "
       "RETURN NEW; END $$; "
       "CREATE TRIGGER boom BEFORE INSERT ON queue_items FOR EACH ROW EXECUTE FUNCTION boom()");

  auto committed = submit_all(*storage, {message_to("u1", "hi"), group_message("g1", "all")});
  ASSERT_TRUE(committed[0].ok && committed[1].ok);
  std::set<std::string> keys;
  ASSERT_TRUE(wait_for_key(*listener, "g:g1", keys));
  EXPECT_TRUE(keys.count("u:u1"));

  keys.clear();
  auto failed = submit_sync(*storage, message_to("u2", "boom"));
  EXPECT_FALSE(failed.ok);
  EXPECT_EQ(failed.code, ErrorCode::kUnavailable);
  // Notifications arrive in commit order: once u3's arrived, u2's would have come before it.
  ASSERT_TRUE(submit_sync(*storage, message_to("u3", "after")).ok);
  ASSERT_TRUE(wait_for_key(*listener, "u:u3", keys));
  EXPECT_EQ(keys.count("u:u2"), 0u);
  auto u2 = storage->queue_items_after("u2", 0, 10);
  ASSERT_TRUE(u2.ok());
  EXPECT_TRUE(u2->empty());
}

TEST(PgStorageTest, TwoRelaysPurgingTogetherDeleteEachRowOnce) {
  const std::string uri = PgCluster::shared().create_database();
  auto relay_a = open_storage(uri);
  auto relay_b = open_storage(uri);
  ASSERT_TRUE(relay_a && relay_b);
  std::vector<WriteOp> ops;
  ops.push_back(CreateUser{"old", hash_of(4)});
  ops.push_back(CreateGroup{"oldgroup"});
  for (int i = 0; i < 600; ++i)
    ops.push_back(message_to("old", "m" + std::to_string(i)));
  for (int i = 0; i < 200; ++i)
    ops.push_back(group_message("oldgroup", "g" + std::to_string(i)));
  std::int64_t newest = 0;
  for (const auto& o : submit_all(*relay_a, std::move(ops))) {
    ASSERT_TRUE(o.ok);
    newest = std::max(newest, o.timestamp);
  }
  constexpr int kTotal = 800;

  std::atomic<std::int64_t> deleted{0};
  auto purger = [&](Storage& relay) {
    // Rounds until one deletes nothing and nothing old is left.
    for (int round = 0; round < 10000; ++round) {
      auto o = submit_sync(relay, PurgeExpired{newest + 1, 37});
      ASSERT_TRUE(o.ok) << o.message;
      deleted.fetch_add(o.rows);
      if (o.rows == 0) {
        auto c = relay.counts();
        ASSERT_TRUE(c.ok());
        if (c->queued_items + c->group_messages == 0) return;
      }
    }
  };
  std::thread a([&] { purger(*relay_a); });
  std::thread b([&] { purger(*relay_b); });
  a.join();
  b.join();
  EXPECT_EQ(deleted.load(), kTotal);
  const auto sa = relay_a->writer_stats(), sb = relay_b->writer_stats();
  EXPECT_EQ(sa.purged_queue_items + sb.purged_queue_items, 600u);
  EXPECT_EQ(sa.purged_group_messages + sb.purged_group_messages, 200u);
  // Users, groups and the clock stay: a new item still gets a larger timestamp.
  auto next = submit_sync(*relay_b, message_to("old", "new"));
  ASSERT_TRUE(next.ok);
  EXPECT_GT(next.timestamp, newest);
}

TEST(PgStorageTest, AckDeletesTheOldestUpToTheBoundInRounds) {
  auto storage = open_storage(PgCluster::shared().create_database());
  ASSERT_TRUE(storage);
  ASSERT_TRUE(submit_sync(*storage, CreateUser{"e", hash_of(5)}).ok);
  std::vector<std::int64_t> ts;
  for (int i = 0; i < 10; ++i)
    ts.push_back(submit_sync(*storage, message_to("e", "x")).timestamp);
  auto first = submit_sync(*storage, AckQueue{"e", ts[6], 4});
  ASSERT_TRUE(first.ok);
  EXPECT_EQ(first.rows, 4);
  auto second = submit_sync(*storage, AckQueue{"e", ts[6], 4});
  EXPECT_EQ(second.rows, 3);
  EXPECT_EQ(submit_sync(*storage, AckQueue{"unknown", ts[9], 4}).rows, 0);
  EXPECT_FALSE(storage->queue_has_items_up_to("e", ts[6]).value());
  EXPECT_TRUE(storage->queue_has_items_up_to("e", ts[7]).value());
  EXPECT_EQ(storage->writer_stats().acked_deletes, 7u);
  auto rest = storage->queue_items_after("e", 0, 100);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 3u);
  EXPECT_EQ(rest->front().timestamp, ts[7]);
}

TEST(PgStorageTest, WhileTheDatabaseIsDownCallsFailFastAndTheStorageRecoversByItself) {
  auto cluster = PgCluster::start();
  const std::string uri = cluster->create_database();
  PgOptions o;
  o.uri = uri;
  o.pool_size = 2;
  o.connect_timeout = std::chrono::milliseconds(2000);
  o.reconnect_backoff_min = std::chrono::milliseconds(20);
  o.reconnect_backoff_max = std::chrono::milliseconds(200);
  auto opened = open_postgres_storage(o);
  ASSERT_TRUE(opened.ok()) << opened.error().message();
  auto& storage = **opened;
  ASSERT_TRUE(submit_sync(storage, CreateUser{"f", hash_of(6)}).ok);
  std::set<std::string> acknowledged;
  for (int i = 0; i < 20; ++i) {
    std::string p = "before" + std::to_string(i);
    if (submit_sync(storage, message_to("f", p)).ok) acknowledged.insert(p);
  }
  ASSERT_EQ(acknowledged.size(), 20u);
  ASSERT_TRUE(storage.queue_items_after("f", 0, 1).ok());  // the pool holds a connection

  cluster->stop();
  // A bound, not a speed goal: nothing may wait much past connect_timeout.
  const auto bound = o.connect_timeout * 2;
  for (int i = 0; i < 5; ++i) {
    auto t0 = Clock::now();
    auto read = storage.queue_items_after("f", 0, 10);
    EXPECT_LT(Clock::now() - t0, bound);
    ASSERT_FALSE(read.ok());
    EXPECT_EQ(read.error().code(), ErrorCode::kUnavailable);
    EXPECT_TRUE(read.error().message().starts_with("storage unavailable"))
        << read.error().message();
    t0 = Clock::now();
    auto write = submit_sync(storage, message_to("f", "during" + std::to_string(i)));
    EXPECT_LT(Clock::now() - t0, bound);
    EXPECT_FALSE(write.ok);
    EXPECT_EQ(write.code, ErrorCode::kUnavailable);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(storage.group_exists("x").error().code(), ErrorCode::kUnavailable);

  cluster->restart_stopped();
  // The same object comes back once its backoff allows a new connection.
  bool recovered = false;
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  for (int i = 0; Clock::now() < deadline; ++i) {
    std::string p = "after" + std::to_string(i);
    if (submit_sync(storage, message_to("f", p)).ok) {
      acknowledged.insert(p);
      recovered = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(recovered);
  for (int i = 0; i < 5; ++i) {
    std::string p = "later" + std::to_string(i);
    ASSERT_TRUE(submit_sync(storage, message_to("f", p)).ok);
    acknowledged.insert(p);
  }
  std::set<std::string> stored;
  for (int attempt = 0; attempt < 100 && stored.empty(); ++attempt) {
    auto items = storage.queue_items_after("f", 0, 1000);
    if (!items.ok()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    for (const auto& item : *items)
      stored.insert(item.payload.value_or(""));
  }
  EXPECT_EQ(stored, acknowledged);  // every acknowledged write, and nothing that failed
}

}  // namespace
}  // namespace secchats::server
