// FsBlobStore on a real directory: uploads in pieces, atomic completion, restart, purge.
#include "blob/fs_blob_store.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "secchats/common/clock.hpp"
#include "support/temp_dir.hpp"

namespace secchats::server {
namespace {
namespace fs = std::filesystem;
using testing::TempDir;

std::string read_all(const BlobReader& reader) {
  std::string out(reader.length(), '\0');
  std::size_t done = 0;
  while (done < out.size()) {
    ssize_t n =
        ::pread(reader.fd(), out.data() + done, out.size() - done, static_cast<off_t>(done));
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  out.resize(done);
  return out;
}

std::string file_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class FsBlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }
  void reopen() {
    store_.reset();
    auto s = FsBlobStore::open(dir_.path() / "blobs");
    ASSERT_TRUE(s.ok()) << s.error().message();
    store_ = std::move(*s);
  }
  fs::path blob_dir() const { return dir_.path() / "blobs"; }

  TempDir dir_{"secchats-blobs"};
  std::unique_ptr<FsBlobStore> store_;
};

TEST(BlobId, IsUnguessableBase64Url) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string id = make_blob_id();
    EXPECT_EQ(id.size(), 43u);
    EXPECT_TRUE(is_blob_id(id)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 100u);
  EXPECT_FALSE(is_blob_id(""));
  EXPECT_FALSE(is_blob_id("../../../../etc/passwd"));
  EXPECT_FALSE(is_blob_id(std::string(42, 'a')));
  EXPECT_FALSE(is_blob_id(std::string(42, 'a') + "/"));
  EXPECT_FALSE(is_blob_id(std::string(42, 'a') + "."));
  EXPECT_TRUE(is_blob_id(std::string(42, 'a') + "-"));
}

TEST_F(FsBlobStoreTest, UploadInPiecesCompletesAtomically) {
  auto id = store_->create("alice", 10);
  ASSERT_TRUE(id.ok());
  auto s = store_->state(*id);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->owner, "alice");
  EXPECT_EQ(s->length, 10u);
  EXPECT_EQ(s->offset, 0u);
  EXPECT_FALSE(s->complete);

  auto first = store_->append(*id, 0, "hello");
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->accepted);
  EXPECT_EQ(first->offset, 5u);
  // Half a blob is never served, neither by open() nor under the final name.
  auto reader = store_->open(*id);
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.error().code(), ErrorCode::kNotFound);
  EXPECT_FALSE(fs::exists(blob_dir() / (*id + ".blob")));
  EXPECT_TRUE(fs::exists(blob_dir() / (*id + ".part")));

  auto second = store_->append(*id, 5, "world");
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->accepted);
  EXPECT_EQ(second->offset, 10u);
  // Once append() returned, the blob exists under its final name only.
  EXPECT_TRUE(fs::exists(blob_dir() / (*id + ".blob")));
  EXPECT_FALSE(fs::exists(blob_dir() / (*id + ".part")));
  reader = store_->open(*id);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ(reader->length(), 10u);
  EXPECT_EQ(read_all(*reader), "helloworld");
  EXPECT_TRUE(store_->state(*id)->complete);
}

TEST_F(FsBlobStoreTest, WrongOffsetIsAConflictWithTheRightOffset) {
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
  EXPECT_EQ(fs::file_size(blob_dir() / (id + ".part")), 3u);
  // Unknown ids.
  auto unknown = store_->append(make_blob_id(), 0, "x");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code(), ErrorCode::kNotFound);
}

TEST_F(FsBlobStoreTest, RestartRebuildsTheIndexAndTheUploadResumes) {
  auto done = *store_->create("alice", 4);
  ASSERT_TRUE(store_->append(done, 0, "full")->accepted);
  auto half = *store_->create("bob", 6);
  ASSERT_TRUE(store_->append(half, 0, "abc")->accepted);
  auto empty = *store_->create("bob", 2);
  const auto totals_before = store_->totals();

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

  const auto totals = store_->totals();
  EXPECT_EQ(totals.complete, totals_before.complete);
  EXPECT_EQ(totals.complete_bytes, 4u);
  EXPECT_EQ(totals.unfinished, 2u);
  EXPECT_EQ(totals.unfinished_bytes, 3u);
  EXPECT_EQ(totals.unfinished_pending, 5u);
  EXPECT_EQ(store_->usage("bob").bytes, 8u);
  EXPECT_EQ(store_->usage("bob").unfinished, 2u);
  EXPECT_EQ(store_->usage("alice").bytes, 4u);
  EXPECT_EQ(store_->usage("alice").unfinished, 0u);

  ASSERT_TRUE(store_->append(half, 3, "def")->accepted);
  EXPECT_EQ(read_all(*store_->open(half)), "abcdef");
}

TEST_F(FsBlobStoreTest, StartRemovesDebrisAndFinishesAFullPart) {
  auto full = *store_->create("alice", 3);
  ASSERT_TRUE(store_->append(full, 0, "ab")->accepted);
  store_.reset();
  // A crash between the last append's fsync and its rename leaves a full .part.
  { std::ofstream(blob_dir() / (full + ".part"), std::ios::app) << "c"; }
  // Debris: data without a sidecar, a sidecar without data, a temp sidecar, a bad sidecar.
  const std::string orphan = make_blob_id();
  { std::ofstream(blob_dir() / (orphan + ".blob")) << "zzz"; }
  const std::string lonely = make_blob_id();
  {
    std::ofstream(blob_dir() / (lonely + ".meta"))
        << "secchats-blob 1\nowner x\nlength 3\ncreated 1\n";
  }
  const std::string temp = make_blob_id();
  { std::ofstream(blob_dir() / (temp + ".meta.tmp")) << "x"; }
  const std::string garbled = make_blob_id();
  { std::ofstream(blob_dir() / (garbled + ".meta")) << "not a sidecar"; }
  { std::ofstream(blob_dir() / (garbled + ".part")) << "x"; }
  { std::ofstream(blob_dir() / "README") << "not ours"; }

  reopen();
  EXPECT_EQ(read_all(*store_->open(full)), "abc");
  for (const auto& id : {orphan, lonely, temp, garbled}) {
    EXPECT_FALSE(store_->state(id).ok());
    for (const char* suffix : {".blob", ".part", ".meta", ".meta.tmp"})
      EXPECT_FALSE(fs::exists(blob_dir() / (id + suffix))) << id << suffix;
  }
  EXPECT_TRUE(fs::exists(blob_dir() / "README")) << "files that are not ours stay";
  EXPECT_EQ(store_->totals().complete, 1u);
}

TEST_F(FsBlobStoreTest, SidecarHoldsSizesAndTimesOnly) {
  auto id = *store_->create("owner-id", 5);
  const std::string meta = file_text(blob_dir() / (id + ".meta"));
  EXPECT_NE(meta.find("owner owner-id"), std::string::npos);
  EXPECT_NE(meta.find("length 5"), std::string::npos);
  EXPECT_NE(meta.find("created "), std::string::npos);
  std::istringstream lines(meta);
  std::string line;
  int count = 0;
  while (std::getline(lines, line))
    ++count;
  EXPECT_EQ(count, 4) << meta;
  struct stat st {};
  ASSERT_EQ(::stat((blob_dir() / (id + ".meta")).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0u) << "blob files are private to the relay's user";
}

TEST_F(FsBlobStoreTest, RemoveAndPurge) {
  auto a = *store_->create("alice", 2);
  ASSERT_TRUE(store_->append(a, 0, "aa")->accepted);
  auto reader = store_->open(a);
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE(store_->remove(a).ok());
  EXPECT_FALSE(store_->open(a).ok());
  EXPECT_EQ(store_->remove(a).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(read_all(*reader), "aa") << "a download in progress finishes";
  EXPECT_TRUE(fs::is_empty(blob_dir()));

  auto complete = *store_->create("alice", 1);
  ASSERT_TRUE(store_->append(complete, 0, "x")->accepted);
  auto unfinished = *store_->create("alice", 2);
  const std::int64_t now = unix_millis_now();
  // Nothing is old enough yet.
  auto r = store_->purge(now - 60000, now - 60000);
  EXPECT_EQ(r.complete_removed + r.unfinished_removed, 0u);
  // Unfinished uploads idle since before `now + 1`: only those go.
  r = store_->purge(0, now + 1000);
  EXPECT_EQ(r.unfinished_removed, 1u);
  EXPECT_EQ(r.complete_removed, 0u);
  EXPECT_FALSE(store_->state(unfinished).ok());
  EXPECT_TRUE(store_->open(complete).ok());
  r = store_->purge(now + 1000, 0);
  EXPECT_EQ(r.complete_removed, 1u);
  EXPECT_FALSE(store_->open(complete).ok());
  EXPECT_TRUE(fs::is_empty(blob_dir()));
  EXPECT_EQ(store_->usage("alice").bytes, 0u);
  EXPECT_EQ(store_->totals().complete + store_->totals().unfinished, 0u);
}

TEST_F(FsBlobStoreTest, ConcurrentAppendsToOneBlobNeverInterleave) {
  constexpr int kThreads = 8;
  auto id = *store_->create("alice", kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Everyone tries to write its letter at whatever offset it last saw.
      const std::string letter(1, static_cast<char>('a' + t));
      std::uint64_t offset = 0;
      for (;;) {
        auto r = store_->append(id, offset, letter);
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
  std::string got = read_all(*store_->open(id));
  std::multiset<char> letters(got.begin(), got.end());
  EXPECT_EQ(letters.size(), static_cast<std::size_t>(kThreads));
  for (int t = 0; t < kThreads; ++t)
    EXPECT_EQ(letters.count(static_cast<char>('a' + t)), 1u) << got;
}

}  // namespace
}  // namespace secchats::server
