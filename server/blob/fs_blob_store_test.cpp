// What only FsBlobStore does, on a real directory: the file layout (.part until complete,
// then .blob), debris removed at start, the sidecar's contents, downloads that outlive a
// removal. The BlobStore contract itself runs over every store in blob_store_contract_test.cpp.
#include "blob/fs_blob_store.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>

#include "blob/blob_store_test_support.hpp"
#include "secchats/common/clock.hpp"
#include "support/temp_dir.hpp"

namespace secchats::server {
namespace {
namespace fs = std::filesystem;
using testing::read_all;
using testing::TempDir;

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

TEST_F(FsBlobStoreTest, OnlyACompleteBlobHasItsFinalName) {
  auto id = store_->create("alice", 10);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(store_->append(*id, 0, "hello")->accepted);
  // Half a blob is never under the final name, so nothing can serve it.
  EXPECT_FALSE(fs::exists(blob_dir() / (*id + ".blob")));
  EXPECT_TRUE(fs::exists(blob_dir() / (*id + ".part")));
  // Past the declared length: the .part keeps what it had.
  ASSERT_FALSE(store_->append(*id, 5, "world!").ok());
  EXPECT_EQ(fs::file_size(blob_dir() / (*id + ".part")), 5u);

  ASSERT_TRUE(store_->append(*id, 5, "world")->accepted);
  // Once append() returned, the blob exists under its final name only.
  EXPECT_TRUE(fs::exists(blob_dir() / (*id + ".blob")));
  EXPECT_FALSE(fs::exists(blob_dir() / (*id + ".part")));
  auto reader = store_->open(*id);
  ASSERT_TRUE(reader.ok());
  ASSERT_GE(reader->fd(), 0) << "file blobs are served from their descriptor (sendfile)";
  EXPECT_EQ(read_all(*reader), "helloworld");
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

TEST_F(FsBlobStoreTest, RemoveLeavesNothingButAnOpenDownloadFinishes) {
  auto a = *store_->create("alice", 2);
  ASSERT_TRUE(store_->append(a, 0, "aa")->accepted);
  auto reader = store_->open(a);
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE(store_->remove(a).ok());
  EXPECT_FALSE(store_->open(a).ok());
  EXPECT_EQ(read_all(*reader), "aa") << "a download in progress finishes";
  EXPECT_TRUE(fs::is_empty(blob_dir()));

  auto complete = *store_->create("alice", 1);
  ASSERT_TRUE(store_->append(complete, 0, "x")->accepted);
  (void)*store_->create("alice", 2);
  const std::int64_t now = unix_millis_now();
  auto r = store_->purge(now + 1000, now + 1000);
  EXPECT_EQ(r.complete_removed + r.unfinished_removed, 2u);
  EXPECT_TRUE(fs::is_empty(blob_dir())) << "purge removes the files too";
}

}  // namespace
}  // namespace secchats::server
