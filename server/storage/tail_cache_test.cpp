// The tail cache's rules on their own (storage/tail_cache.hpp): what a fill may keep, how
// committed batches append and delete, and the bounds. The SQLite backend's use of it is
// tested end to end in storage/sqlite/sqlite_storage_test.cpp.
#include "storage/tail_cache.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace secchats::server {
namespace {

using Cache = TailCache<GroupMessage>;

GroupMessage at(std::int64_t ts) {
  return {"g", "sender", std::string("payload-") + std::to_string(ts), ts};
}

// Items newest first, as a fill reads them.
std::vector<GroupMessage> newest_first(std::initializer_list<std::int64_t> ts) {
  std::vector<GroupMessage> out;
  for (auto t : ts)
    out.push_back(at(t));
  return out;
}

std::vector<std::int64_t> stamps(const std::vector<GroupMessage>& items) {
  std::vector<std::int64_t> out;
  for (const auto& i : items)
    out.push_back(i.timestamp);
  return out;
}

Cache::Change append(std::int64_t ts) {
  return {"g", at(ts), 0, 0};
}

TEST(TailCacheTest, MissUntilFilledThenAnswersPagesExactly) {
  Cache cache({4, 1 << 20});
  cache.start(30);
  EXPECT_FALSE(cache.read("g", 0, 10));
  cache.fill("g", newest_first({30, 20, 10}), cache.generation(), 30);
  auto page = cache.read("g", 10, 10);
  ASSERT_TRUE(page);
  EXPECT_EQ(stamps(page->items), (std::vector<std::int64_t>{20, 30}));
  EXPECT_TRUE(page->older_left);
  page = cache.read("g", 0, 2);
  ASSERT_TRUE(page);
  EXPECT_EQ(stamps(page->items), (std::vector<std::int64_t>{10, 20}));
  EXPECT_FALSE(page->older_left);
  EXPECT_EQ(cache.newest("g"), 30);
}

TEST(TailCacheTest, AFillFromAnOlderOrNewerCutIsNotKept) {
  Cache cache({4, 1 << 20});
  cache.start(30);
  const auto started = cache.generation();
  // The snapshot holds a commit (ts 40) the cache has not applied yet: other keys would show
  // an older cut than this one.
  cache.fill("g", newest_first({40, 30}), started, 40);
  EXPECT_FALSE(cache.read("g", 0, 10));
  // A batch that changed keys here was applied after the read started.
  std::vector<Cache::Change> changes{{"other", at(50), 0, 0}};
  cache.apply_batch(changes, false, 50);
  cache.fill("g", newest_first({30}), started, 50);
  EXPECT_FALSE(cache.read("g", 0, 10));
  // From the current cut it is kept.
  cache.fill("g", newest_first({30}), cache.generation(), 50);
  EXPECT_TRUE(cache.read("g", 0, 10));
}

TEST(TailCacheTest, BatchesAppendOnceAndKeepTheNewestItems) {
  Cache cache({3, 1 << 20});
  cache.start(20);
  cache.fill("g", newest_first({20, 10}), cache.generation(), 20);
  // 20 again (a fill that already saw the commit), then 30 and 40: the oldest falls out.
  std::vector<Cache::Change> changes{append(20), append(30), append(40)};
  cache.apply_batch(changes, false, 40);
  auto page = cache.read("g", 10, 10);
  ASSERT_TRUE(page);
  EXPECT_EQ(stamps(page->items), (std::vector<std::int64_t>{20, 30, 40}));
  EXPECT_TRUE(page->older_left);
  // A cursor older than what is held cannot be answered.
  EXPECT_FALSE(cache.read("g", 0, 10));
  EXPECT_FALSE(cache.read("g", 9, 10));
}

TEST(TailCacheTest, AFillWithMoreThanTheLimitRemembersOlderItemsExist) {
  Cache cache({2, 1 << 20});
  cache.start(30);
  Cache probe({2, 1 << 20});
  auto tail = newest_first({30, 20, 10});
  EXPECT_FALSE(probe.covers(tail, 0));
  EXPECT_TRUE(probe.covers(tail, 10));
  cache.fill("g", std::move(tail), cache.generation(), 30);
  EXPECT_FALSE(cache.read("g", 5, 10));
  auto page = cache.read("g", 10, 10);
  ASSERT_TRUE(page);
  EXPECT_EQ(stamps(page->items), (std::vector<std::int64_t>{20, 30}));
  EXPECT_TRUE(page->older_left);
}

TEST(TailCacheTest, DeletesRemoveExactlyWhatTheDatabaseRemovedOrDropTheEntry) {
  Cache cache({8, 1 << 20});
  cache.start(30);
  cache.fill("g", newest_first({30, 20, 10}), cache.generation(), 30);
  std::vector<Cache::Change> acked{{"g", std::nullopt, 20, 2}};
  cache.apply_batch(acked, false, 30);
  auto page = cache.read("g", 0, 10);
  ASSERT_TRUE(page);
  EXPECT_EQ(stamps(page->items), (std::vector<std::int64_t>{30}));
  // The database deleted a different number of rows than the entry holds: drop it.
  std::vector<Cache::Change> odd{{"g", std::nullopt, 30, 5}};
  cache.apply_batch(odd, false, 30);
  EXPECT_FALSE(cache.read("g", 0, 10));
}

TEST(TailCacheTest, AnAppendThenADeleteInOneBatchApplyInOrder) {
  Cache cache({8, 1 << 20});
  cache.start(10);
  cache.fill("g", newest_first({10}), cache.generation(), 10);
  std::vector<Cache::Change> batch{append(20), {"g", std::nullopt, 25, 2}};
  cache.apply_batch(batch, false, 20);
  auto page = cache.read("g", 0, 10);
  ASSERT_TRUE(page);
  EXPECT_TRUE(page->items.empty());
  EXPECT_EQ(cache.newest("g"), 0);
}

TEST(TailCacheTest, RetentionAndTheByteBoundEmptyTheCache) {
  Cache cache({8, 1 << 20});
  cache.start(10);
  cache.fill("g", newest_first({10}), cache.generation(), 10);
  std::vector<Cache::Change> none;
  cache.apply_batch(none, true, 10);
  EXPECT_EQ(cache.size(), 0u);

  Cache small({8, 600});
  small.start(10);
  small.fill("a", newest_first({10}), small.generation(), 10);
  EXPECT_EQ(small.size(), 1u);
  EXPECT_LE(small.bytes(), 600u);
  small.fill("b", newest_first({10}), small.generation(), 10);
  small.fill("c", newest_first({10}), small.generation(), 10);
  EXPECT_LE(small.bytes(), 600u);
  EXPECT_LT(small.size(), 3u);
}

}  // namespace
}  // namespace secchats::server
