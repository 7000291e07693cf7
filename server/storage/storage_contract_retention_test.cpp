// Forget-after-ack (AckQueue) and retention (PurgeExpired) on every backend: exactly the
// acknowledged items go, bounded rounds, concurrent acknowledgements never delete newer
// items, and no delete ever resets the timestamp sequence (storage/storage.hpp).
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "secchats/common/clock.hpp"
#include "storage/storage_contract_fixture.hpp"

namespace secchats::server::contract {
namespace {

constexpr std::int64_t kDayMs = 24 * 60 * 60 * 1000;

class RetentionContractTest : public StorageContractTest {
 protected:
  static void must(Storage& storage, WriteOp op) { must_write(storage, std::move(op)); }
  static std::int64_t enqueue(Storage& storage, const std::string& to, const std::string& text) {
    return must_enqueue(storage, message_to(to, "sender", text));
  }
  static std::int64_t append(Storage& storage, const std::string& group, const std::string& text) {
    return must_append(storage, group_message(group, "sender", text));
  }
};

TEST_P(RetentionContractTest, AckDeletesExactlyTheItemsAtOrBelowTheCursor) {
  auto storage = open();
  ASSERT_TRUE(storage);
  must(*storage, CreateUser{"alice", {}});
  must(*storage, CreateUser{"bob", {}});
  std::vector<std::int64_t> ts;
  for (int i = 0; i < 5; ++i)
    ts.push_back(enqueue(*storage, "bob", "b" + std::to_string(i)));
  enqueue(*storage, "alice", "a0");

  EXPECT_TRUE(*storage->queue_has_items_up_to("bob", ts[2]));
  EXPECT_EQ(deleted(*storage, AckQueue{"bob", ts[2], 5000}), 3);
  EXPECT_EQ(payloads(*storage, "bob"), (std::vector<std::string>{"b3", "b4"}));
  EXPECT_EQ(payloads(*storage, "alice"), (std::vector<std::string>{"a0"})) << "other queues stay";
  EXPECT_FALSE(*storage->queue_has_items_up_to("bob", ts[2]));
  EXPECT_TRUE(*storage->queue_has_items_up_to("bob", ts[3]));

  // Repeating the same acknowledgement, or one for an unknown user, deletes nothing.
  EXPECT_EQ(deleted(*storage, AckQueue{"bob", ts[2], 5000}), 0);
  EXPECT_EQ(deleted(*storage, AckQueue{"nobody", ts[4], 5000}), 0);
  // A cursor between two items keeps the later one.
  EXPECT_EQ(deleted(*storage, AckQueue{"bob", ts[4] - 1, 5000}), 1);
  EXPECT_EQ(payloads(*storage, "bob"), (std::vector<std::string>{"b4"}));

  auto stats = storage->writer_stats();
  EXPECT_EQ(stats.acked_deletes, 4u);
  EXPECT_EQ(stats.purged_queue_items, 0u);
  auto counts = storage->counts();
  EXPECT_EQ(counts->queued_items, 2);
  EXPECT_EQ(counts->users, 2) << "acks never delete accounts";
}

TEST_P(RetentionContractTest, AckIsBoundedPerRoundAndOldestFirst) {
  auto storage = open();
  ASSERT_TRUE(storage);
  must(*storage, CreateUser{"bob", {}});
  std::int64_t last = 0;
  for (int i = 0; i < 7; ++i)
    last = enqueue(*storage, "bob", std::to_string(i));
  EXPECT_EQ(deleted(*storage, AckQueue{"bob", last, 3}), 3);
  EXPECT_EQ(payloads(*storage, "bob"), (std::vector<std::string>{"3", "4", "5", "6"}));
  EXPECT_EQ(deleted(*storage, AckQueue{"bob", last, 3}), 3);
  EXPECT_EQ(deleted(*storage, AckQueue{"bob", last, 3}), 1);
  EXPECT_TRUE(payloads(*storage, "bob").empty());
}

TEST_P(RetentionContractTest, AckLeavesGroupMessagesAlone) {
  auto storage = open();
  ASSERT_TRUE(storage);
  must(*storage, CreateUser{"bob", {}});
  must(*storage, CreateGroup{"g"});
  append(*storage, "g", "in the group");
  auto last = enqueue(*storage, "bob", "direct");
  EXPECT_EQ(deleted(*storage, AckQueue{"bob", last, 5000}), 1);
  std::vector<std::string> groups{"g"};
  auto log = storage->group_messages_after(groups, 0, 10);
  ASSERT_TRUE(log.ok());
  ASSERT_EQ(log->size(), 1u);
  EXPECT_EQ((*log)[0].payload, "in the group");
}

TEST_P(RetentionContractTest, ConcurrentAcksNeverDeleteNewerItems) {
  auto storage = open();
  ASSERT_TRUE(storage);
  must(*storage, CreateUser{"bob", {}});
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    std::vector<std::future<void>> pending;
    while (!stop) {
      QueueItem item;
      item.recipient_id = "bob";
      item.sender_id = "s";
      item.payload = "x";
      auto promise = std::make_shared<std::promise<void>>();
      pending.push_back(promise->get_future());
      storage->submit(EnqueueItem{item}, [promise, &written](WriteOutcome o) {
        if (o.ok) ++written;
        promise->set_value();
      });
      if (pending.size() >= 64) {
        for (auto& f : pending)
          f.wait();
        pending.clear();
      }
    }
    for (auto& f : pending)
      f.wait();
  });
  // Acknowledge whatever is newest at each moment, exactly as a polling client would.
  std::int64_t cursor = 0;
  std::int64_t acked_total = 0;
  for (int round = 0; round < 200; ++round) {
    auto items = storage->queue_items_after("bob", cursor, 50);
    ASSERT_TRUE(items.ok());
    for (const auto& i : *items)
      EXPECT_GT(i.timestamp, cursor) << "an item at or below an acknowledged cursor is gone";
    if (!items->empty()) cursor = items->back().timestamp;
    acked_total += deleted(*storage, AckQueue{"bob", cursor, 5000});
  }
  stop = true;
  writer.join();
  auto rest = storage->queue_items_after("bob", 0, 1000000);
  ASSERT_TRUE(rest.ok());
  for (const auto& i : *rest)
    EXPECT_GT(i.timestamp, cursor);
  EXPECT_EQ(acked_total + static_cast<std::int64_t>(rest->size()), written.load())
      << "every item is either acknowledged-and-deleted or still there";
}

TEST_P(RetentionContractTest, DeletesNeverResetTheTimestampSequence) {
  std::int64_t last = 0;
  {
    auto storage = open();
    ASSERT_TRUE(storage);
    must(*storage, CreateUser{"bob", {}});
    must(*storage, CreateGroup{"g"});
    enqueue(*storage, "bob", "1");
    last = append(*storage, "g", "2");
    // Empty every queue and log: by acknowledgement and by a purge that covers the future.
    EXPECT_EQ(deleted(*storage, AckQueue{"bob", last, 5000}), 1);
    EXPECT_EQ(deleted(*storage, PurgeExpired{unix_millis_now() + kDayMs, 5000}), 1);
    EXPECT_EQ(storage->counts()->queued_items + storage->counts()->group_messages, 0);
    auto next = enqueue(*storage, "bob", "3");
    EXPECT_GT(next, last);
    last = next;
    EXPECT_EQ(deleted(*storage, AckQueue{"bob", last, 5000}), 1);
  }
  EXPECT_EQ(backend().stored_clock(), last)
      << "the clock keeps the high-water mark when every row is gone";
  auto storage = open();
  ASSERT_TRUE(storage);
  auto after_restart = enqueue(*storage, "bob", "4");
  EXPECT_GT(after_restart, last);
  EXPECT_GT(append(*storage, "g", "5"), after_restart);
}

// Retention by age, expressed through the store's own timestamps: everything written before
// a marker is "expired" for PurgeExpired{before = marker}, so the test needs no back-dated
// rows inserted behind the backend's back.
TEST_P(RetentionContractTest, PurgeDeletesOnlyExpiredRowsInBoundedRounds) {
  constexpr int kItems = 1200;
  constexpr int kMessages = 300;
  auto storage = open();
  ASSERT_TRUE(storage);
  must(*storage, CreateUser{"bob", {}});
  must(*storage, CreateGroup{"g"});
  CallbackLatch latch;
  std::atomic<int> failed{0};
  for (int i = 0; i < kItems + kMessages; ++i) {
    WriteOp op = i < kItems ? WriteOp(EnqueueItem{message_to("bob", "old", "old")})
                            : WriteOp(AppendGroupMessage{group_message("g", "old", "old")});
    storage->submit(std::move(op), [&](WriteOutcome o) {
      if (!o.ok) failed.fetch_add(1);
      latch.arrive();
    });
  }
  ASSERT_TRUE(latch.wait_for(kItems + kMessages));
  ASSERT_EQ(failed.load(), 0);
  const std::int64_t fresh_item = enqueue(*storage, "bob", "fresh");
  const std::int64_t fresh_message = append(*storage, "g", "fresh");
  const WriterStats before_purge = storage->writer_stats();

  // Queue items go first; a round that runs out of them fills up with group messages.
  EXPECT_EQ(deleted(*storage, PurgeExpired{fresh_item, 500}), 500);
  EXPECT_EQ(deleted(*storage, PurgeExpired{fresh_item, 500}), 500);
  EXPECT_EQ(storage->counts()->group_messages, kMessages + 1) << "queue items go first";
  EXPECT_EQ(deleted(*storage, PurgeExpired{fresh_item, 500}), 500);
  EXPECT_EQ(deleted(*storage, PurgeExpired{fresh_item, 500}), 0);

  auto stats = storage->writer_stats();
  EXPECT_EQ(stats.purged_queue_items - before_purge.purged_queue_items,
            static_cast<std::uint64_t>(kItems));
  EXPECT_EQ(stats.purged_group_messages - before_purge.purged_group_messages,
            static_cast<std::uint64_t>(kMessages));
  EXPECT_EQ(stats.acked_deletes, 0u);
  auto counts = storage->counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->queued_items, 1);
  EXPECT_EQ(counts->group_messages, 1);
  EXPECT_EQ(counts->users, 1) << "users stay";
  EXPECT_EQ(counts->groups, 1) << "groups stay";
  EXPECT_TRUE(*storage->group_exists("g"));
  EXPECT_EQ(payloads(*storage, "bob"), (std::vector<std::string>{"fresh"}));
  EXPECT_EQ(*storage->newest_queue_timestamp("bob"), fresh_item);
  EXPECT_EQ(*storage->newest_group_timestamp("g"), fresh_message);
}

// queue_page_after (what /receive reads) answers exactly as queue_items_after and
// queue_has_items_up_to do, before and after an acknowledgement, every field included.
TEST_P(RetentionContractTest, QueuePageIsTheItemsAfterAndWhetherAnyAreLeftBelow) {
  auto storage = open();
  ASSERT_TRUE(storage);
  must(*storage, CreateUser{"bob", {}});
  must(*storage, CreateGroup{"g1"});
  QueueItem invite = message_to("bob", "alice", "sealed-key");
  invite.kind = ItemKind::kGroupInvite;
  invite.group_id = "g1";
  invite.protocol = "AES_256";
  std::vector<std::int64_t> ts{must_enqueue(*storage, invite)};
  for (int i = 1; i < 5; ++i)
    ts.push_back(enqueue(*storage, "bob", "b" + std::to_string(i)));

  auto same_as_two_reads = [&](std::int64_t after, int limit) {
    auto page = storage->queue_page_after("bob", after, limit);
    ASSERT_TRUE(page.ok()) << page.error().message();
    auto items = storage->queue_items_after("bob", after, limit);
    ASSERT_TRUE(items.ok());
    ASSERT_EQ(page->items.size(), items->size()) << "after " << after << " limit " << limit;
    for (std::size_t i = 0; i < items->size(); ++i) {
      const QueueItem &p = page->items[i], &q = (*items)[i];
      EXPECT_EQ(p.timestamp, q.timestamp);
      EXPECT_EQ(p.kind, q.kind);
      EXPECT_EQ(p.recipient_id, q.recipient_id);
      EXPECT_EQ(p.sender_id, q.sender_id);
      EXPECT_EQ(p.group_id, q.group_id);
      EXPECT_EQ(p.protocol, q.protocol);
      EXPECT_EQ(p.payload, q.payload);
    }
    EXPECT_EQ(page->acknowledged_left, after > 0 && *storage->queue_has_items_up_to("bob", after));
  };

  auto first = storage->queue_page_after("bob", 0, 10);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->items.size(), 5u);
  EXPECT_EQ(first->items[0].kind, ItemKind::kGroupInvite);
  EXPECT_EQ(first->items[0].group_id, OptString("g1"));
  EXPECT_EQ(first->items[0].protocol, OptString("AES_256"));
  EXPECT_EQ(first->items[4].timestamp, ts[4]);
  EXPECT_FALSE(first->acknowledged_left) << "cursor 0 acknowledges nothing";

  auto middle = storage->queue_page_after("bob", ts[1], 2);
  ASSERT_TRUE(middle.ok());
  ASSERT_EQ(middle->items.size(), 2u);
  EXPECT_EQ(middle->items[0].timestamp, ts[2]);
  EXPECT_EQ(middle->items[1].timestamp, ts[3]);
  EXPECT_TRUE(middle->acknowledged_left);
  same_as_two_reads(ts[1], 2);
  same_as_two_reads(ts[4], 10);  // nothing new, everything acknowledged
  same_as_two_reads(0, 3);

  EXPECT_EQ(deleted(*storage, AckQueue{"bob", ts[1], 5000}), 2);
  auto after_ack = storage->queue_page_after("bob", ts[1], 10);
  ASSERT_TRUE(after_ack.ok());
  EXPECT_EQ(after_ack->items.size(), 3u);
  EXPECT_FALSE(after_ack->acknowledged_left) << "the acknowledged items are gone";
  auto caught_up = storage->queue_page_after("bob", ts[4], 10);
  ASSERT_TRUE(caught_up.ok());
  EXPECT_TRUE(caught_up->items.empty());
  EXPECT_TRUE(caught_up->acknowledged_left);
  same_as_two_reads(ts[3] - 1, 1);

  auto unknown = storage->queue_page_after("nobody", ts[4], 10);
  ASSERT_TRUE(unknown.ok());
  EXPECT_TRUE(unknown->items.empty());
  EXPECT_FALSE(unknown->acknowledged_left);
}

INSTANTIATE_TEST_SUITE_P(Backends, RetentionContractTest, ::testing::ValuesIn(backend_names()),
                         backend_param_name);

}  // namespace
}  // namespace secchats::server::contract
