// What only PgBlobStore does: several relays (store instances) on one database, pieces read
// from chunk rows, the purge lock, and a database that goes away. The BlobStore contract
// itself runs over every store in blob_store_contract_test.cpp.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "blob/blob_store_test_support.hpp"
#include "blob/pg_blob_schema.hpp"
#include "pg/pg_connection.hpp"
#include "secchats/common/clock.hpp"
#include "storage/postgres/pg_storage.hpp"

namespace secchats::server {
namespace {

using testing::pattern;
using testing::PgBacking;
using testing::read_all;

std::unique_ptr<BlobStore> open_store(PgBacking& backing) {
  auto store = backing.open();
  EXPECT_TRUE(store.ok()) << store.error().message();
  return store.ok() ? std::move(*store) : nullptr;
}

class PgBlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    relay_a_ = open_store(backing_);
    relay_b_ = open_store(backing_);
    ASSERT_TRUE(relay_a_ && relay_b_);
  }

  PgBacking backing_;
  std::unique_ptr<BlobStore> relay_a_;  // two relays on one database
  std::unique_ptr<BlobStore> relay_b_;
};

TEST_F(PgBlobStoreTest, UploadResumesThroughAnotherRelayAndDownloadsAnywhere) {
  // 3 MiB + a bit: the appends are split into chunk rows, and a row boundary falls inside
  // the first append and between the two.
  const std::size_t length = 3 * kPgBlobChunkBytes + 12345;
  const std::size_t half = length / 2 + 7;
  const std::string content = pattern(0, length);
  auto id = relay_a_->create("alice", length);
  ASSERT_TRUE(id.ok()) << id.error().message();
  ASSERT_TRUE(relay_a_->append(*id, 0, std::string_view(content).substr(0, half))->accepted);

  // Relay A is gone (say); the client asks relay B where to resume.
  auto state = relay_b_->state(*id);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->offset, half);
  EXPECT_FALSE(state->complete);
  EXPECT_FALSE(relay_a_->open(*id).ok()) << "no relay serves half a blob";
  auto rest = relay_b_->append(*id, half, std::string_view(content).substr(half));
  ASSERT_TRUE(rest.ok()) << rest.error().message();
  EXPECT_TRUE(rest->accepted);
  EXPECT_EQ(rest->offset, length);

  for (BlobStore* relay : {relay_a_.get(), relay_b_.get()}) {
    auto reader = relay->open(*id);
    ASSERT_TRUE(reader.ok()) << reader.error().message();
    EXPECT_EQ(reader->fd(), -1) << "a database blob is a range source";
    EXPECT_EQ(reader->length(), length);
    const std::string got = read_all(*reader);
    ASSERT_EQ(got.size(), content.size());
    EXPECT_TRUE(got == content) << "byte-exact through either relay";
  }
  EXPECT_TRUE(relay_a_->state(*id)->complete);
  EXPECT_EQ(relay_b_->usage("alice").bytes, length);
}

TEST_F(PgBlobStoreTest, ConcurrentAppendsFromTwoRelaysOneWinsNoTornData) {
  // Blocks larger than a chunk row, so a torn write would show inside a block.
  constexpr int kWriters = 6;
  const std::size_t block = kPgBlobChunkBytes + 4096;
  auto id = *relay_a_->create("alice", kWriters * block);
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kWriters; ++t) {
    BlobStore* relay = t % 2 == 0 ? relay_a_.get() : relay_b_.get();
    threads.emplace_back([&, relay, t] {
      const std::string bytes(block, static_cast<char>('a' + t));
      std::uint64_t offset = 0;
      for (;;) {
        auto r = relay->append(id, offset, bytes);
        ASSERT_TRUE(r.ok()) << r.error().message();
        if (r->accepted) return;
        refused.fetch_add(1);
        offset = r->offset;
        std::this_thread::yield();
      }
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_GT(refused.load(), 0) << "writers raced for the same offsets";
  auto reader = relay_b_->open(id);
  ASSERT_TRUE(reader.ok());
  const std::string got = read_all(*reader);
  ASSERT_EQ(got.size(), kWriters * block);
  std::set<char> seen;
  for (int b = 0; b < kWriters; ++b) {
    const std::string_view piece = std::string_view(got).substr(b * block, block);
    EXPECT_EQ(piece.find_first_not_of(piece[0]), std::string_view::npos) << "block " << b;
    EXPECT_TRUE(seen.insert(piece[0]).second) << "block " << b << " written twice";
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kWriters));
}

TEST_F(PgBlobStoreTest, StreamingA100MiBBlobReadsBoundedPieces) {
  constexpr std::size_t kLength = std::size_t{100} << 20;
  constexpr std::size_t kPatch = std::size_t{8} << 20;    // the largest PATCH the relay takes
  constexpr std::size_t kPiece = std::size_t{256} << 10;  // the HTTP layer's piece
  auto id = *relay_a_->create("alice", kLength);
  for (std::size_t at = 0; at < kLength; at += kPatch) {
    const std::string bytes = pattern(at, std::min(kPatch, kLength - at));
    auto r = relay_a_->append(id, at, bytes);
    ASSERT_TRUE(r.ok() && r->accepted) << at;
  }
  auto reader = relay_b_->open(id);
  ASSERT_TRUE(reader.ok());
  ASSERT_EQ(reader->length(), kLength);
  // Each piece is exactly what was asked for: the reader never hands back (so never holds)
  // more than a piece, whatever the blob's size. Pieces start off the chunk grid.
  std::uint64_t offset = 1000;
  std::size_t pieces = 0;
  while (offset < kLength) {
    auto piece = reader->read(offset, kPiece);
    ASSERT_TRUE(piece.ok()) << offset << ": " << piece.error().message();
    const std::size_t want = std::min<std::uint64_t>(kPiece, kLength - offset);
    ASSERT_EQ(piece->size(), want) << offset;
    ASSERT_TRUE(*piece == pattern(offset, want)) << "wrong bytes at " << offset;
    offset += piece->size();
    ++pieces;
  }
  EXPECT_EQ(pieces, (kLength - 1000 + kPiece - 1) / kPiece);
}

TEST_F(PgBlobStoreTest, ABlobRemovedDuringADownloadEndsItWithNotFound) {
  const std::string content = pattern(0, 5000);
  auto id = *relay_a_->create("alice", content.size());
  ASSERT_TRUE(relay_a_->append(id, 0, content)->accepted);
  auto reader = relay_a_->open(id);
  ASSERT_TRUE(reader.ok());
  ASSERT_EQ(*reader->read(0, 100), content.substr(0, 100));
  ASSERT_TRUE(relay_b_->remove(id).ok());
  auto after = reader->read(100, 100);
  ASSERT_FALSE(after.ok()) << "never bytes of a removed blob, never wrong ones";
  EXPECT_EQ(after.error().code(), ErrorCode::kNotFound);
}

TEST_F(PgBlobStoreTest, PurgeRunsOnOneRelayAtATime) {
  auto old = *relay_a_->create("alice", 3);
  ASSERT_TRUE(relay_a_->append(old, 0, "abc")->accepted);
  const std::int64_t later = unix_millis_now() + 60000;
  // Another relay is purging: it holds the purge lock in its transaction.
  auto other = pg::PgConnection::open(backing_.uri(), std::chrono::seconds(5));
  ASSERT_TRUE(other.ok()) << other.error().message();
  ASSERT_TRUE((*other)->exec("BEGIN").ok());
  const std::string key = std::to_string(kBlobPurgeLockKey);
  auto locked =
      (*other)->exec("SELECT pg_advisory_xact_lock($1::bigint)", {pg::PgParam::text(key)});
  ASSERT_TRUE(locked.ok()) << locked.error().message();

  auto r = relay_b_->purge(later, later);
  EXPECT_EQ(r.complete_removed + r.unfinished_removed, 0u) << "the round is skipped";
  EXPECT_TRUE(relay_a_->state(old).ok());

  // The other relay's transaction ends (commit, or its death): the next round purges.
  ASSERT_TRUE((*other)->exec("COMMIT").ok());
  r = relay_b_->purge(later, later);
  EXPECT_EQ(r.complete_removed, 1u);
  EXPECT_EQ(relay_a_->state(old).error().code(), ErrorCode::kNotFound);
}

TEST_F(PgBlobStoreTest, PurgeDeletesABacklogInBoundedRounds) {
  // A statement-level trigger records how many blobs each DELETE statement removed.
  auto admin = pg::PgConnection::open(backing_.uri(), std::chrono::seconds(5));
  ASSERT_TRUE(admin.ok()) << admin.error().message();
  ASSERT_TRUE((*admin)
                  ->exec("CREATE TABLE purge_statements (n bigint); "
                         "CREATE FUNCTION count_purge() RETURNS trigger LANGUAGE plpgsql AS $$ "
                         "BEGIN INSERT INTO purge_statements SELECT count(*) FROM gone; "
                         "RETURN NULL; END $$; "
                         "CREATE TRIGGER count_purge AFTER DELETE ON blobs REFERENCING OLD "
                         "TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION count_purge()")
                  .ok());
  PgBlobOptions o;
  o.uri = backing_.uri();
  o.purge_rows = 2;
  auto opened = open_pg_blob_store(o);
  ASSERT_TRUE(opened.ok()) << opened.error().message();
  auto& store = **opened;
  for (int i = 0; i < 5; ++i) {
    auto id = store.create("alice", 3);
    ASSERT_TRUE(id.ok());
    ASSERT_TRUE(store.append(*id, 0, "abc")->accepted);
  }
  auto r = store.purge(unix_millis_now() + 60000, unix_millis_now() + 60000);
  EXPECT_EQ(r.complete_removed, 5u) << "the whole backlog, in rounds";
  auto most = (*admin)->exec("SELECT max(n), count(*) FROM purge_statements WHERE n > 0");
  ASSERT_TRUE(most.ok());
  EXPECT_EQ(*most->int64(0, 0), 2) << "no DELETE removed more than purge_rows blobs";
  EXPECT_EQ(*most->int64(0, 1), 3);
}

TEST_F(PgBlobStoreTest, SchemaCreationIsIdempotentAcrossRelaysStartingTogether) {
  // Several relays open the store at once on a fresh database: the migration lock makes
  // exactly one create the tables, and every one of them works.
  PgBacking fresh;
  constexpr int kRelays = 4;
  std::vector<std::unique_ptr<BlobStore>> relays(kRelays);
  std::vector<std::thread> threads;
  for (int i = 0; i < kRelays; ++i) {
    threads.emplace_back([&, i] {
      auto store = fresh.open();
      ASSERT_TRUE(store.ok()) << store.error().message();
      relays[i] = std::move(*store);
    });
  }
  for (auto& t : threads)
    t.join();
  for (auto& relay : relays) {
    ASSERT_TRUE(relay);
    auto id = relay->create("bob", 1);
    ASSERT_TRUE(id.ok()) << id.error().message();
  }
  EXPECT_EQ(relays[0]->usage("bob").unfinished, static_cast<std::size_t>(kRelays));
}

TEST(PgBlobStoreOutage, AnUnreachableDatabaseIsUnavailableThenRecovers) {
  auto cluster = testing::PgCluster::start();
  server::PgBlobOptions options;
  options.uri = cluster->create_database();
  options.connect_timeout = std::chrono::milliseconds(2000);
  auto store = open_pg_blob_store(options);
  ASSERT_TRUE(store.ok()) << store.error().message();
  auto id = (*store)->create("alice", 4);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE((*store)->append(*id, 0, "ab")->accepted);

  cluster->stop();
  auto append = (*store)->append(*id, 2, "cd");
  ASSERT_FALSE(append.ok()) << "never an acknowledgement without a commit";
  EXPECT_EQ(append.error().code(), ErrorCode::kUnavailable) << append.error().message();
  EXPECT_EQ((*store)->state(*id).error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ((*store)->open(*id).error().code(), ErrorCode::kUnavailable);

  cluster->restart_stopped();
  // Reconnects by itself (after its backoff, at most a few seconds).
  Result<BlobState> state = Error(ErrorCode::kUnavailable, "not yet");
  for (int i = 0; i < 100 && !state.ok(); ++i) {
    state = (*store)->state(*id);
    if (!state.ok()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(state.ok()) << state.error().message();
  EXPECT_EQ(state->offset, 2u) << "the failed append left nothing";
  ASSERT_TRUE((*store)->append(*id, 2, "cd")->accepted);
  EXPECT_EQ(read_all(*(*store)->open(*id)), "abcd");
}

}  // namespace
}  // namespace secchats::server
