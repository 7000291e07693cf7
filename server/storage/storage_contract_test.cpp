// The storage contract (storage/storage.hpp) on every backend: round trips, cursors, one
// global strictly increasing timestamp sequence under concurrent writers, group commit,
// close() semantics and durability across close-and-reopen. Each test gets a fresh store:
// SQLite in a temporary directory, PostgreSQL in a fresh database of the shared throwaway
// cluster. Acknowledgement and retention deletes are in storage_contract_retention_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "secchats/common/clock.hpp"
#include "storage/storage_contract_fixture.hpp"

namespace secchats::server::contract {
namespace {

TEST_P(StorageContractTest, UserRoundTrip) {
  auto storage = open();
  ASSERT_TRUE(storage);
  must_write(*storage, CreateUser{"alice", hash_of(1)});

  auto hash = storage->user_token_hash("alice");
  ASSERT_TRUE(hash.ok()) << hash.error().message();
  ASSERT_TRUE(hash->has_value());
  EXPECT_EQ(**hash, hash_of(1));

  auto unknown = storage->user_token_hash("bob");
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(unknown->has_value());

  auto counts = storage->counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->users, 1);
  EXPECT_EQ(counts->groups, 0);
}

TEST_P(StorageContractTest, GroupRoundTrip) {
  auto storage = open();
  ASSERT_TRUE(storage);
  must_write(*storage, CreateGroup{"g1"});
  auto exists = storage->group_exists("g1");
  ASSERT_TRUE(exists.ok());
  EXPECT_TRUE(*exists);
  auto missing = storage->group_exists("g2");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(*missing);
  auto counts = storage->counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->groups, 1);
}

TEST_P(StorageContractTest, DuplicateCreateFailsWithoutHarmingTheStorage) {
  auto storage = open();
  ASSERT_TRUE(storage);
  must_write(*storage, CreateUser{"alice", hash_of(1)});
  must_write(*storage, CreateGroup{"g1"});

  WriteOutcome dup_user = write(*storage, CreateUser{"alice", hash_of(2)});
  EXPECT_FALSE(dup_user.ok);
  EXPECT_EQ(dup_user.code, ErrorCode::kAlreadyExists);
  WriteOutcome dup_group = write(*storage, CreateGroup{"g1"});
  EXPECT_FALSE(dup_group.ok);
  EXPECT_EQ(dup_group.code, ErrorCode::kAlreadyExists);

  // The original token survives and the writer keeps working.
  auto hash = storage->user_token_hash("alice");
  ASSERT_TRUE(hash.ok());
  ASSERT_TRUE(hash->has_value());
  EXPECT_EQ(**hash, hash_of(1));
  EXPECT_GT(must_enqueue(*storage, message_to("alice", "x", "after")), 0);
}

TEST_P(StorageContractTest, FailedOpDoesNotFailTheOtherOpsOfItsBatch) {
  auto storage = open();
  ASSERT_TRUE(storage);
  must_write(*storage, CreateUser{"alice", hash_of(1)});
  must_write(*storage, CreateGroup{"g1"});

  // Submitted back to back so that most land in the same transaction as the failing ones.
  constexpr int kOps = 200;
  std::vector<WriteOutcome> outcomes(kOps);
  std::vector<int> calls(kOps, 0);
  CallbackLatch latch;
  for (int i = 0; i < kOps; ++i) {
    WriteOp op;
    switch (i % 10) {
      case 3:
        op = CreateUser{"alice", hash_of(9)};
        break;  // duplicate
      case 5:
        op = CreateGroup{"g1"};
        break;  // duplicate
      case 7:
        op = EnqueueItem{message_to("nobody", "alice", "x")};
        break;  // unknown
      case 8:
        op = AppendGroupMessage{group_message("g-none", "alice", "x")};
        break;
      default:
        op = EnqueueItem{message_to("alice", "x", std::to_string(i))};
        break;
    }
    storage->submit(std::move(op), [&, i](WriteOutcome outcome) {
      ++calls[static_cast<std::size_t>(i)];
      outcomes[static_cast<std::size_t>(i)] = std::move(outcome);
      latch.arrive();
    });
  }
  ASSERT_TRUE(latch.wait_for(kOps));
  storage->close();  // joins the writer: every callback has returned

  int good = 0;
  for (int i = 0; i < kOps; ++i) {
    const auto& o = outcomes[static_cast<std::size_t>(i)];
    EXPECT_EQ(calls[static_cast<std::size_t>(i)], 1) << "op " << i;
    switch (i % 10) {
      case 3:
      case 5:
        EXPECT_FALSE(o.ok) << "op " << i;
        EXPECT_EQ(o.code, ErrorCode::kAlreadyExists) << "op " << i;
        break;
      case 7:
      case 8:
        EXPECT_FALSE(o.ok) << "op " << i;
        EXPECT_EQ(o.code, ErrorCode::kNotFound) << "op " << i;
        break;
      default:
        EXPECT_TRUE(o.ok) << "op " << i << ": " << o.message;
        ++good;
        break;
    }
  }
  auto items = storage->queue_items_after("alice", 0, 1000);
  ASSERT_TRUE(items.ok());
  EXPECT_EQ(static_cast<int>(items->size()), good);
}

TEST_P(StorageContractTest, QueueItemRoundTripKeepsEveryField) {
  auto storage = open();
  ASSERT_TRUE(storage);
  must_write(*storage, CreateUser{"bob", hash_of(2)});
  must_write(*storage, CreateGroup{"g1"});

  const std::int64_t before = unix_millis_now();
  QueueItem invite;
  invite.kind = ItemKind::kGroupInvite;
  invite.recipient_id = "bob";
  invite.sender_id = "alice";
  invite.group_id = "g1";
  invite.protocol = "AES_256";
  invite.payload = "sealed-key";
  invite.timestamp = 42;  // ignored: the backend assigns timestamps
  const std::int64_t ts1 = must_enqueue(*storage, invite);

  QueueItem request;
  request.kind = ItemKind::kFriendRequest;
  request.recipient_id = "bob";
  request.sender_id = "carol";
  request.protocol = "DH_512/AES_256";
  request.payload = std::nullopt;
  const std::int64_t ts2 = must_enqueue(*storage, request);

  EXPECT_GE(ts1, before);
  EXPECT_GT(ts2, ts1);

  auto items = storage->queue_items_after("bob", 0, 10);
  ASSERT_TRUE(items.ok()) << items.error().message();
  ASSERT_EQ(items->size(), 2u);
  const QueueItem& a = (*items)[0];
  EXPECT_EQ(a.kind, ItemKind::kGroupInvite);
  EXPECT_EQ(a.recipient_id, "bob");
  EXPECT_EQ(a.sender_id, "alice");
  EXPECT_EQ(a.group_id, OptString("g1"));
  EXPECT_EQ(a.protocol, OptString("AES_256"));
  EXPECT_EQ(a.payload, OptString("sealed-key"));
  EXPECT_EQ(a.timestamp, ts1);
  const QueueItem& b = (*items)[1];
  EXPECT_EQ(b.kind, ItemKind::kFriendRequest);
  EXPECT_EQ(b.sender_id, "carol");
  EXPECT_FALSE(b.group_id.has_value());
  EXPECT_EQ(b.protocol, OptString("DH_512/AES_256"));
  EXPECT_FALSE(b.payload.has_value());
  EXPECT_EQ(b.timestamp, ts2);

  auto newest = storage->newest_queue_timestamp("bob");
  ASSERT_TRUE(newest.ok());
  EXPECT_EQ(*newest, ts2);
  auto none = storage->newest_queue_timestamp("nobody");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 0);

  auto counts = storage->counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->queued_items, 2);
}

TEST_P(StorageContractTest, GroupMessageRoundTrip) {
  auto storage = open();
  ASSERT_TRUE(storage);
  must_write(*storage, CreateGroup{"g1"});
  const std::int64_t ts1 = must_append(*storage, group_message("g1", "alice", "hello"));
  GroupMessage no_payload{"g1", "bob", std::nullopt, 0};
  const std::int64_t ts2 = must_append(*storage, no_payload);
  EXPECT_GT(ts2, ts1);

  const std::vector<std::string> ids = {"g1"};
  auto messages = storage->group_messages_after(ids, 0, 10);
  ASSERT_TRUE(messages.ok()) << messages.error().message();
  ASSERT_EQ(messages->size(), 2u);
  EXPECT_EQ((*messages)[0].group_id, "g1");
  EXPECT_EQ((*messages)[0].sender_id, "alice");
  EXPECT_EQ((*messages)[0].payload, OptString("hello"));
  EXPECT_EQ((*messages)[0].timestamp, ts1);
  EXPECT_EQ((*messages)[1].sender_id, "bob");
  EXPECT_FALSE((*messages)[1].payload.has_value());
  EXPECT_EQ((*messages)[1].timestamp, ts2);

  auto newest = storage->newest_group_timestamp("g1");
  ASSERT_TRUE(newest.ok());
  EXPECT_EQ(*newest, ts2);
  auto counts = storage->counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->group_messages, 2);
}

TEST_P(StorageContractTest, UnknownTargetsFailWithNotFoundAndStoreNothing) {
  auto storage = open();
  ASSERT_TRUE(storage);
  must_write(*storage, CreateUser{"bob", hash_of(2)});

  WriteOutcome to_nobody = write(*storage, EnqueueItem{message_to("nobody", "bob", "x")});
  EXPECT_FALSE(to_nobody.ok);
  EXPECT_EQ(to_nobody.code, ErrorCode::kNotFound);

  QueueItem invite;
  invite.kind = ItemKind::kGroupInvite;
  invite.recipient_id = "bob";
  invite.sender_id = "alice";
  invite.group_id = "no-such-group";
  WriteOutcome bad_invite = write(*storage, EnqueueItem{invite});
  EXPECT_FALSE(bad_invite.ok);
  EXPECT_EQ(bad_invite.code, ErrorCode::kNotFound);

  WriteOutcome to_no_group =
      write(*storage, AppendGroupMessage{group_message("no-such-group", "bob", "x")});
  EXPECT_FALSE(to_no_group.ok);
  EXPECT_EQ(to_no_group.code, ErrorCode::kNotFound);

  auto counts = storage->counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->queued_items, 0);
  EXPECT_EQ(counts->group_messages, 0);
}

TEST_P(StorageContractTest, QueueCursorAndLimit) {
  auto storage = open();
  ASSERT_TRUE(storage);
  must_write(*storage, CreateUser{"alice", hash_of(1)});
  must_write(*storage, CreateUser{"bob", hash_of(2)});
  std::vector<std::int64_t> ts;
  for (int i = 0; i < 10; ++i) {
    ts.push_back(must_enqueue(*storage, message_to("alice", "bob", "m" + std::to_string(i))));
    must_enqueue(*storage, message_to("bob", "alice", "other"));  // must never show up
  }

  auto all = storage->queue_items_after("alice", 0, 100);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 10u);
  for (std::size_t i = 0; i < all->size(); ++i) {
    EXPECT_EQ((*all)[i].timestamp, ts[i]);
    EXPECT_EQ((*all)[i].payload, OptString("m" + std::to_string(i)));
  }

  auto page = storage->queue_items_after("alice", ts[4], 3);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 3u);
  EXPECT_EQ((*page)[0].timestamp, ts[5]);
  EXPECT_EQ((*page)[1].timestamp, ts[6]);
  EXPECT_EQ((*page)[2].timestamp, ts[7]);

  // A cursor between two timestamps behaves like the lower one.
  auto between = storage->queue_items_after("alice", ts[8] - 1, 100);
  ASSERT_TRUE(between.ok());
  ASSERT_EQ(between->size(), 2u);
  EXPECT_EQ((*between)[0].timestamp, ts[8]);

  auto tail = storage->queue_items_after("alice", ts[9], 100);
  ASSERT_TRUE(tail.ok());
  EXPECT_TRUE(tail->empty());

  // Paging with a small limit visits every item exactly once.
  std::vector<std::int64_t> paged;
  std::int64_t cursor = 0;
  for (int guard = 0; guard < 100; ++guard) {
    auto chunk = storage->queue_items_after("alice", cursor, 4);
    ASSERT_TRUE(chunk.ok());
    if (chunk->empty()) break;
    EXPECT_LE(chunk->size(), 4u);
    for (const auto& item : *chunk)
      paged.push_back(item.timestamp);
    cursor = chunk->back().timestamp;
  }
  EXPECT_EQ(paged, ts);
}

TEST_P(StorageContractTest, GroupCursorAndLimitMergeSeveralGroups) {
  auto storage = open();
  ASSERT_TRUE(storage);
  for (const char* g : {"g1", "g2", "g3"})
    must_write(*storage, CreateGroup{g});
  // Interleaved traffic: expected holds what a poll of {g1, g3} must return, in order.
  std::vector<std::pair<std::string, std::int64_t>> expected;
  for (int i = 0; i < 12; ++i) {
    const std::string g = i % 3 == 0 ? "g1" : i % 3 == 1 ? "g2" : "g3";
    const std::int64_t ts = must_append(*storage, group_message(g, "alice", std::to_string(i)));
    if (g != "g2") expected.emplace_back(g, ts);
  }
  ASSERT_EQ(expected.size(), 8u);

  const std::vector<std::string> ids = {"g3", "g1", "unknown-group"};
  auto all = storage->group_messages_after(ids, 0, 100);
  ASSERT_TRUE(all.ok()) << all.error().message();
  ASSERT_EQ(all->size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ((*all)[i].group_id, expected[i].first) << i;
    EXPECT_EQ((*all)[i].timestamp, expected[i].second) << i;
  }

  auto page = storage->group_messages_after(ids, expected[2].second, 3);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*page)[i].timestamp, expected[3 + i].second);
    EXPECT_EQ((*page)[i].group_id, expected[3 + i].first);
  }

  std::vector<std::int64_t> paged;
  std::int64_t cursor = 0;
  for (int guard = 0; guard < 100; ++guard) {
    auto chunk = storage->group_messages_after(ids, cursor, 3);
    ASSERT_TRUE(chunk.ok());
    if (chunk->empty()) break;
    EXPECT_LE(chunk->size(), 3u);
    for (const auto& m : *chunk)
      paged.push_back(m.timestamp);
    cursor = chunk->back().timestamp;
  }
  ASSERT_EQ(paged.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i)
    EXPECT_EQ(paged[i], expected[i].second);

  auto none = storage->group_messages_after(std::span<const std::string>(), 0, 100);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

// 8 threads x 300 writes to 4 queues and 4 group logs, all at once, while a reader follows
// one queue by cursor.
TEST_P(StorageContractTest, ConcurrentWritesGetStrictlyIncreasingTimestampsAndAreBatched) {
  auto storage = open();
  ASSERT_TRUE(storage);
  constexpr int kThreads = 8;
  constexpr int kOpsPerThread = 300;
  constexpr int kTotal = kThreads * kOpsPerThread;
  for (int i = 0; i < 4; ++i) {
    must_write(*storage,
               CreateUser{"u" + std::to_string(i), hash_of(static_cast<std::uint8_t>(i))});
    must_write(*storage, CreateGroup{"g" + std::to_string(i)});
  }
  const WriterStats before = storage->writer_stats();

  struct Slot {
    std::atomic<int> calls{0};
    WriteOutcome outcome;
  };
  std::vector<Slot> slots(kTotal);
  CallbackLatch latch;
  std::barrier start(kThreads + 1);
  std::atomic<bool> writers_done{false};

  // Follows u0's queue with a small limit while writes land: it must see every item exactly
  // once, in order (a cursor never skips or repeats).
  std::vector<std::int64_t> followed;
  std::thread follower([&] {
    std::int64_t cursor = 0;
    for (;;) {
      const bool last_round = writers_done.load();
      auto chunk = storage->queue_items_after("u0", cursor, 7);
      if (!chunk.ok()) {
        ADD_FAILURE() << chunk.error().message();
        return;
      }
      for (const auto& item : *chunk) {
        followed.push_back(item.timestamp);
        cursor = item.timestamp;
      }
      if (chunk->empty()) {
        if (last_round) return;
        std::this_thread::yield();
      }
    }
  });

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kOpsPerThread; ++i) {
        const int index = t * kOpsPerThread + i;
        const std::string payload = std::to_string(t) + ":" + std::to_string(i);
        WriteOp op;
        if (i % 2 == 0) {
          op =
              EnqueueItem{message_to(std::string("u").append(std::to_string(t % 4)), "s", payload)};
        } else {
          op = AppendGroupMessage{
              group_message(std::string("g").append(std::to_string(t % 4)), "s", payload)};
        }
        storage->submit(std::move(op), [&slots, &latch, index](WriteOutcome outcome) {
          auto& slot = slots[static_cast<std::size_t>(index)];
          slot.outcome = std::move(outcome);
          slot.calls.fetch_add(1);
          latch.arrive();
        });
      }
    });
  }
  start.arrive_and_wait();
  for (auto& th : threads)
    th.join();
  ASSERT_TRUE(latch.wait_for(kTotal));
  writers_done.store(true);
  follower.join();

  // Every callback exactly once, with success.
  std::set<std::int64_t> all_ts;
  for (int i = 0; i < kTotal; ++i) {
    const auto& slot = slots[static_cast<std::size_t>(i)];
    ASSERT_EQ(slot.calls.load(), 1) << "op " << i;
    ASSERT_TRUE(slot.outcome.ok) << "op " << i << ": " << slot.outcome.message;
    EXPECT_GT(slot.outcome.timestamp, 0);
    all_ts.insert(slot.outcome.timestamp);
  }
  // One global sequence: no two writes share a timestamp.
  EXPECT_EQ(all_ts.size(), static_cast<std::size_t>(kTotal));

  // Writes submitted in order by one thread are stamped in that order.
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 1; i < kOpsPerThread; ++i) {
      const auto prev = slots[static_cast<std::size_t>(t * kOpsPerThread + i - 1)].outcome;
      const auto cur = slots[static_cast<std::size_t>(t * kOpsPerThread + i)].outcome;
      ASSERT_LT(prev.timestamp, cur.timestamp) << "thread " << t << " op " << i;
    }
  }

  // Each queue and each group log reads back strictly ascending, with exactly the stamped
  // timestamps of the writes that targeted it.
  std::map<std::string, std::set<std::int64_t>> by_queue, by_group;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kOpsPerThread; ++i) {
      const auto ts = slots[static_cast<std::size_t>(t * kOpsPerThread + i)].outcome.timestamp;
      (i % 2 == 0 ? by_queue : by_group)[std::to_string(t % 4)].insert(ts);
    }
  }
  for (int q = 0; q < 4; ++q) {
    const std::string n = std::to_string(q);
    auto items = storage->queue_items_after("u" + n, 0, 100000);
    ASSERT_TRUE(items.ok());
    std::vector<std::int64_t> got;
    for (const auto& item : *items)
      got.push_back(item.timestamp);
    EXPECT_TRUE(std::is_sorted(got.begin(), got.end()));
    EXPECT_EQ(std::adjacent_find(got.begin(), got.end()), got.end()) << "duplicate timestamp";
    EXPECT_EQ(std::set<std::int64_t>(got.begin(), got.end()), by_queue[n]) << "queue u" << n;
    EXPECT_EQ(got.size(), by_queue[n].size());

    const std::vector<std::string> ids = {"g" + n};
    auto messages = storage->group_messages_after(ids, 0, 100000);
    ASSERT_TRUE(messages.ok());
    std::vector<std::int64_t> gts;
    for (const auto& m : *messages)
      gts.push_back(m.timestamp);
    EXPECT_TRUE(std::is_sorted(gts.begin(), gts.end()));
    EXPECT_EQ(std::adjacent_find(gts.begin(), gts.end()), gts.end()) << "duplicate timestamp";
    EXPECT_EQ(std::set<std::int64_t>(gts.begin(), gts.end()), by_group[n]) << "group g" << n;
  }
  EXPECT_EQ(followed, std::vector<std::int64_t>(by_queue["0"].begin(), by_queue["0"].end()));

  // Group commit: far fewer transactions than operations.
  const WriterStats after = storage->writer_stats();
  EXPECT_EQ(after.ops - before.ops, static_cast<std::uint64_t>(kTotal));
  const std::uint64_t batches = after.batches - before.batches;
  EXPECT_GE(batches, 1u);
  EXPECT_LT(batches, static_cast<std::uint64_t>(kTotal) / 2)
      << "concurrent writes were not committed together";
  EXPECT_GT(after.max_batch, 1u);
  EXPECT_LE(after.max_batch, 512u);
  EXPECT_GT(after.commit_micros, 0u);

  auto counts = storage->counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->queued_items, kTotal / 2);
  EXPECT_EQ(counts->group_messages, kTotal / 2);
}

TEST_P(StorageContractTest, MaxBatchBoundsEveryTransaction) {
  auto storage = open(/*max_batch=*/4);
  ASSERT_TRUE(storage);
  must_write(*storage, CreateUser{"alice", hash_of(1)});
  constexpr int kOps = 200;
  CallbackLatch latch;
  std::atomic<int> ok{0};
  for (int i = 0; i < kOps; ++i) {
    storage->submit(EnqueueItem{message_to("alice", "x", std::to_string(i))},
                    [&](WriteOutcome outcome) {
                      if (outcome.ok) ok.fetch_add(1);
                      latch.arrive();
                    });
  }
  ASSERT_TRUE(latch.wait_for(kOps));
  EXPECT_EQ(ok.load(), kOps);
  const WriterStats stats = storage->writer_stats();
  EXPECT_EQ(stats.ops, static_cast<std::uint64_t>(kOps) + 1);
  EXPECT_LE(stats.max_batch, 4u);
  EXPECT_GE(stats.batches, static_cast<std::uint64_t>(kOps) / 4 + 1);
}

TEST_P(StorageContractTest, CloseFinishesPendingWritesThenRefusesNewOnes) {
  auto storage = open();
  ASSERT_TRUE(storage);
  must_write(*storage, CreateUser{"alice", hash_of(1)});
  constexpr int kOps = 300;
  std::vector<int> calls(kOps, 0);
  std::atomic<int> ok{0};
  for (int i = 0; i < kOps; ++i) {
    storage->submit(EnqueueItem{message_to("alice", "x", std::to_string(i))},
                    [&, i](WriteOutcome outcome) {
                      ++calls[static_cast<std::size_t>(i)];
                      if (outcome.ok) ok.fetch_add(1);
                    });
  }
  storage->close();  // returns only once every submitted write has been finished
  EXPECT_EQ(ok.load(), kOps);
  for (int i = 0; i < kOps; ++i)
    EXPECT_EQ(calls[static_cast<std::size_t>(i)], 1) << "op " << i;

  int late_calls = 0;
  WriteOutcome late;
  storage->submit(EnqueueItem{message_to("alice", "x", "late")}, [&](WriteOutcome outcome) {
    ++late_calls;
    late = std::move(outcome);
  });
  EXPECT_EQ(late_calls, 1);
  EXPECT_FALSE(late.ok);
  EXPECT_EQ(late.code, ErrorCode::kUnavailable);

  storage->close();  // idempotent
  auto counts = storage->counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->queued_items, kOps);
}

TEST_P(StorageContractTest, ReopenKeepsDataAndTimestampsKeepIncreasing) {
  std::int64_t last = 0;
  {
    auto storage = open();
    ASSERT_TRUE(storage);
    must_write(*storage, CreateUser{"alice", hash_of(1)});
    must_write(*storage, CreateGroup{"g1"});
    // Many writes in a row run the clock ahead of the wall clock.
    CallbackLatch latch;
    std::mutex mutex;
    for (int i = 0; i < 500; ++i) {
      WriteOp op = i % 2 ? WriteOp(AppendGroupMessage{group_message("g1", "alice", "m")})
                         : WriteOp(EnqueueItem{message_to("alice", "x", "m")});
      storage->submit(std::move(op), [&](WriteOutcome outcome) {
        EXPECT_TRUE(outcome.ok);
        std::lock_guard lock(mutex);
        last = std::max(last, outcome.timestamp);
        latch.arrive();
      });
    }
    ASSERT_TRUE(latch.wait_for(500));
  }  // the destructor closes

  auto storage = open();
  ASSERT_TRUE(storage);
  auto hash = storage->user_token_hash("alice");
  ASSERT_TRUE(hash.ok());
  ASSERT_TRUE(hash->has_value());
  EXPECT_EQ(**hash, hash_of(1));
  auto group = storage->group_exists("g1");
  ASSERT_TRUE(group.ok());
  EXPECT_TRUE(*group);
  auto counts = storage->counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->queued_items, 250);
  EXPECT_EQ(counts->group_messages, 250);

  const std::int64_t next_item = must_enqueue(*storage, message_to("alice", "x", "after"));
  EXPECT_GT(next_item, last);
  const std::int64_t next_message = must_append(*storage, group_message("g1", "a", "after"));
  EXPECT_GT(next_message, next_item);
  auto items = storage->queue_items_after("alice", 0, 1000);
  ASSERT_TRUE(items.ok());
  ASSERT_EQ(items->size(), 251u);
  EXPECT_EQ(items->back().timestamp, next_item);
}

TEST_P(StorageContractTest, ClockTableSurvivesReopenEvenAheadOfTheWallClock) {
  {
    auto storage = open();
    ASSERT_TRUE(storage);
    must_write(*storage, CreateUser{"alice", hash_of(1)});
  }
  // Pretend an earlier run stamped items an hour into the future (a wall clock that later
  // stepped back): the next timestamp must still come after it.
  const std::int64_t future = unix_millis_now() + 3600 * 1000;
  backend().set_stored_clock(future);
  auto storage = open();
  ASSERT_TRUE(storage);
  const std::int64_t ts = must_enqueue(*storage, message_to("alice", "x", "m"));
  EXPECT_GT(ts, future);
  const std::int64_t ts2 = must_enqueue(*storage, message_to("alice", "x", "m"));
  EXPECT_GT(ts2, ts);
  storage.reset();

  // And the advanced clock is itself persisted.
  EXPECT_EQ(backend().stored_clock(), ts2);
}

INSTANTIATE_TEST_SUITE_P(Backends, StorageContractTest, ::testing::ValuesIn(backend_names()),
                         backend_param_name);

}  // namespace
}  // namespace secchats::server::contract
