// The BlobStore contract (blob/blob_store.hpp), run against every store: the file-system one
// (a temp dir) and the PostgreSQL one (a fresh database per test on the shared throwaway
// cluster). What only one store does is tested beside it (fs_blob_store_test.cpp,
// pg_blob_store_test.cpp).
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "blob/blob_store_test_support.hpp"
#include "secchats/common/clock.hpp"

namespace secchats::server {
namespace {

using testing::read_all;

class BlobStoreContract : public ::testing::TestWithParam<testing::StoreKind> {
 protected:
  void SetUp() override {
    backing_ = testing::make_backing(GetParam());
    reopen();
  }
  // A new store on the same data: a restarted relay, or another relay on the database.
  void reopen() {
    store_.reset();
    auto s = backing_->open();
    ASSERT_TRUE(s.ok()) << s.error().message();
    store_ = std::move(*s);
  }

  std::unique_ptr<testing::StoreBacking> backing_;
  std::unique_ptr<BlobStore> store_;
};

TEST_P(BlobStoreContract, UploadInPiecesCompletes) {
  auto id = store_->create("alice", 10);
  ASSERT_TRUE(id.ok()) << id.error().message();
  EXPECT_TRUE(is_blob_id(*id));
  auto s = store_->state(*id);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->owner, "alice");
  EXPECT_EQ(s->length, 10u);
  EXPECT_EQ(s->offset, 0u);
  EXPECT_FALSE(s->complete);
  EXPECT_GT(s->created_ms, 0);

  auto first = store_->append(*id, 0, "hello");
  ASSERT_TRUE(first.ok()) << first.error().message();
  EXPECT_TRUE(first->accepted);
  EXPECT_EQ(first->offset, 5u);
  // Half a blob is never served.
  auto reader = store_->open(*id);
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.error().code(), ErrorCode::kNotFound);

  auto second = store_->append(*id, 5, "world");
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->accepted);
  EXPECT_EQ(second->offset, 10u);
  reader = store_->open(*id);
  ASSERT_TRUE(reader.ok()) << reader.error().message();
  EXPECT_EQ(reader->length(), 10u);
  EXPECT_EQ(read_all(*reader), "helloworld");
  s = store_->state(*id);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->complete);
  EXPECT_EQ(s->offset, 10u);
}

TEST_P(BlobStoreContract, WrongOffsetIsAConflictWithTheRightOffset) {
  auto id = *store_->create("alice", 8);
  ASSERT_TRUE(store_->append(id, 0, "abc")->accepted);
  for (std::uint64_t wrong : {0u, 2u, 4u, 8u}) {
    auto r = store_->append(id, wrong, "x");
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->accepted);
    EXPECT_EQ(r->offset, 3u);
  }
  EXPECT_EQ(store_->state(id)->offset, 3u) << "a refused append changes nothing";
  // Past the declared length: refused, nothing written.
  auto over = store_->append(id, 3, "123456");
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_->state(id)->offset, 3u);
  ASSERT_TRUE(store_->append(id, 3, "defgh")->accepted);
  EXPECT_EQ(read_all(*store_->open(id)), "abcdefgh") << "the refusals left no trace";
  // A complete blob takes nothing more; an empty append at its end is a no-op.
  auto more = store_->append(id, 8, "x");
  ASSERT_TRUE(more.ok());
  EXPECT_FALSE(more->accepted);
  EXPECT_EQ(more->offset, 8u);
  auto empty = store_->append(id, 8, "");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->accepted);
  // Unknown ids.
  auto unknown = store_->append(make_blob_id(), 0, "x");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->state(make_blob_id()).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->open(make_blob_id()).error().code(), ErrorCode::kNotFound);
  EXPECT_FALSE(store_->create("alice", 0).ok()) << "a blob has at least one byte";
}

TEST_P(BlobStoreContract, ReaderServesAnyRangeExactly) {
  std::string content = testing::pattern(0, 3000);
  auto id = *store_->create("alice", content.size());
  ASSERT_TRUE(store_->append(id, 0, std::string_view(content).substr(0, 1000))->accepted);
  ASSERT_TRUE(store_->append(id, 1000, std::string_view(content).substr(1000))->accepted);
  auto reader = store_->open(id);
  ASSERT_TRUE(reader.ok());
  struct Case {
    std::uint64_t offset;
    std::size_t max;
  };
  // Within one append, across the appends' boundary, clipped at the end.
  for (Case c : {Case{0, 1}, Case{10, 500}, Case{990, 20}, Case{999, 2}, Case{1000, 1},
                 Case{2500, 4096}, Case{2999, 10}}) {
    auto piece = reader->read(c.offset, c.max);
    ASSERT_TRUE(piece.ok()) << c.offset << ": " << piece.error().message();
    EXPECT_EQ(*piece, content.substr(c.offset, c.max)) << c.offset << "+" << c.max;
  }
  EXPECT_EQ(reader->read(3000, 1).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(reader->read(0, 0).error().code(), ErrorCode::kInvalidArgument);
}

TEST_P(BlobStoreContract, ReopenKeepsStateAndTheUploadResumes) {
  auto done = *store_->create("alice", 4);
  ASSERT_TRUE(store_->append(done, 0, "full")->accepted);
  auto half = *store_->create("bob", 6);
  ASSERT_TRUE(store_->append(half, 0, "abc")->accepted);
  auto empty = *store_->create("bob", 2);

  reopen();
  auto s = store_->state(done);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->complete);
  EXPECT_EQ(s->owner, "alice");
  EXPECT_EQ(read_all(*store_->open(done)), "full");
  s = store_->state(half);
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->complete);
  EXPECT_EQ(s->offset, 3u);
  EXPECT_EQ(s->length, 6u);
  EXPECT_EQ(store_->state(empty)->offset, 0u);
  EXPECT_FALSE(store_->open(half).ok());

  ASSERT_TRUE(store_->append(half, 3, "def")->accepted);
  EXPECT_EQ(read_all(*store_->open(half)), "abcdef");
}

TEST_P(BlobStoreContract, UsageAndTotalsCountSizesOnly) {
  auto done = *store_->create("alice", 4);
  ASSERT_TRUE(store_->append(done, 0, "full")->accepted);
  auto half = *store_->create("bob", 6);
  ASSERT_TRUE(store_->append(half, 0, "abc")->accepted);
  (void)*store_->create("bob", 2);

  const auto totals = store_->totals();
  EXPECT_EQ(totals.complete, 1u);
  EXPECT_EQ(totals.complete_bytes, 4u);
  EXPECT_EQ(totals.unfinished, 2u);
  EXPECT_EQ(totals.unfinished_bytes, 3u);
  EXPECT_EQ(totals.unfinished_pending, 5u);
  EXPECT_EQ(store_->usage("bob").bytes, 8u);
  EXPECT_EQ(store_->usage("bob").unfinished, 2u);
  EXPECT_EQ(store_->usage("alice").bytes, 4u);
  EXPECT_EQ(store_->usage("alice").unfinished, 0u);
  EXPECT_EQ(store_->usage("carol").bytes, 0u);

  ASSERT_TRUE(store_->append(half, 3, "def")->accepted);
  EXPECT_EQ(store_->usage("bob").unfinished, 1u);
  EXPECT_EQ(store_->totals().complete_bytes, 10u);
  EXPECT_EQ(store_->totals().unfinished_pending, 2u);
}

TEST_P(BlobStoreContract, RemoveAndPurge) {
  auto a = *store_->create("alice", 2);
  ASSERT_TRUE(store_->append(a, 0, "aa")->accepted);
  ASSERT_TRUE(store_->remove(a).ok());
  EXPECT_EQ(store_->open(a).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->state(a).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->remove(a).error().code(), ErrorCode::kNotFound);

  auto complete = *store_->create("alice", 1);
  ASSERT_TRUE(store_->append(complete, 0, "x")->accepted);
  auto unfinished = *store_->create("alice", 2);
  const std::int64_t now = unix_millis_now();
  // Nothing is old enough yet.
  auto r = store_->purge(now - 60000, now - 60000);
  EXPECT_EQ(r.complete_removed + r.unfinished_removed, 0u);
  // Unfinished uploads idle since before `now + 1 s`: only those go.
  r = store_->purge(0, now + 1000);
  EXPECT_EQ(r.unfinished_removed, 1u);
  EXPECT_EQ(r.complete_removed, 0u);
  EXPECT_FALSE(store_->state(unfinished).ok());
  EXPECT_TRUE(store_->open(complete).ok());
  r = store_->purge(now + 1000, 0);
  EXPECT_EQ(r.complete_removed, 1u);
  EXPECT_FALSE(store_->open(complete).ok());
  EXPECT_EQ(store_->usage("alice").bytes, 0u);
  EXPECT_EQ(store_->totals().complete + store_->totals().unfinished, 0u);
}

TEST_P(BlobStoreContract, ConcurrentAppendsToOneBlobNeverInterleave) {
  constexpr int kThreads = 8;
  constexpr std::size_t kBlock = 4096;
  auto id = *store_->create("alice", kThreads * kBlock);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Everyone tries to write its block at whatever offset it last saw.
      const std::string block(kBlock, static_cast<char>('a' + t));
      std::uint64_t offset = 0;
      for (;;) {
        auto r = store_->append(id, offset, block);
        if (!r.ok() || r->accepted) return;
        offset = r->offset;  // someone else got there first, or is writing now
        std::this_thread::yield();
      }
    });
  }
  for (auto& t : threads)
    t.join();
  auto s = store_->state(id);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(s->complete);
  const std::string got = read_all(*store_->open(id));
  ASSERT_EQ(got.size(), kThreads * kBlock);
  std::multiset<char> letters;
  for (std::size_t b = 0; b < kThreads; ++b) {
    const std::string block = got.substr(b * kBlock, kBlock);
    EXPECT_EQ(block, std::string(kBlock, block[0])) << "block " << b << " is torn";
    letters.insert(block[0]);
  }
  for (int t = 0; t < kThreads; ++t)
    EXPECT_EQ(letters.count(static_cast<char>('a' + t)), 1u);
}

INSTANTIATE_TEST_SUITE_P(Stores, BlobStoreContract,
                         ::testing::Values(testing::StoreKind::kFileSystem,
                                           testing::StoreKind::kPostgres),
                         [](const auto& param_info) {
                           return testing::store_name(param_info.param);
                         });

}  // namespace
}  // namespace secchats::server
