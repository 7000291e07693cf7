// GET /blobs/<id> over real HTTP on loopback, in process, for a range-source reader (the kind
// PgBlobStore returns): the transport asks for the body piece by piece (never more than
// kBodyPieceBytes at once), with the same Range/206/416 answers as for a file, and a source
// that fails mid-body ends the connection short, never with wrong bytes.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "api/router.hpp"
#include "blob/blob_store.hpp"
#include "net/http_server.hpp"
#include "net/io_context_pool.hpp"
#include "service/blob_service.hpp"
#include "service/notification_hub.hpp"
#include "service/relay_service.hpp"
#include "storage/sqlite/sqlite_storage.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

namespace secchats::server {
namespace {

using testing::HttpClient;

char byte_at(std::uint64_t i) {
  return static_cast<char>((i * 7 + i / 251) & 0xff);
}

// Complete blobs held in memory and served as range sources; records every piece asked for.
class MemoryBlobStore final : public BlobStore {
 public:
  std::string add(std::uint64_t length) {
    const std::string id = make_blob_id();
    std::string bytes(length, '\0');
    for (std::uint64_t i = 0; i < length; ++i)
      bytes[i] = byte_at(i);
    std::lock_guard lock(mutex_);
    blobs_[id] = std::move(bytes);
    return id;
  }
  // Reads from byte `offset` on fail (kUnavailable), as if the database went away.
  void fail_from(std::uint64_t offset) { fail_from_ = offset; }
  std::vector<std::size_t> asked() {
    std::lock_guard lock(mutex_);
    return asked_;
  }

  Result<std::string> create(const std::string&, std::uint64_t) override {
    return Error(ErrorCode::kRefused, "read-only");
  }
  Result<BlobState> state(const std::string&) override {
    return Error(ErrorCode::kNotFound, "no such blob");
  }
  Result<AppendOutcome> append(const std::string&, std::uint64_t, std::string_view) override {
    return Error(ErrorCode::kNotFound, "no such blob");
  }
  Result<BlobReader> open(const std::string& id) override {
    std::lock_guard lock(mutex_);
    auto it = blobs_.find(id);
    if (it == blobs_.end()) return Error(ErrorCode::kNotFound, "no such blob");
    const std::string* bytes = &it->second;
    BlobRangeSource source = [this, bytes](std::uint64_t offset,
                                           std::size_t max_bytes) -> Result<std::string> {
      std::lock_guard reading(mutex_);
      asked_.push_back(max_bytes);
      if (offset + max_bytes > fail_from_) return Error(ErrorCode::kUnavailable, "gone");
      return bytes->substr(offset, max_bytes);
    };
    return BlobReader(std::move(source), it->second.size());
  }
  Status remove(const std::string&) override { return Error(ErrorCode::kNotFound, "no"); }
  BlobUsage usage(const std::string&) override { return {}; }
  BlobTotals totals() override { return {}; }
  BlobPurgeResult purge(std::int64_t, std::int64_t) override { return {}; }

 private:
  std::mutex mutex_;
  std::map<std::string, std::string> blobs_;
  std::vector<std::size_t> asked_;
  std::uint64_t fail_from_ = UINT64_MAX;
};

class BlobRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto storage = open_sqlite_storage({dir_.path()});
    ASSERT_TRUE(storage.ok()) << storage.error().message();
    storage_ = std::move(*storage);
    service_ = std::make_unique<RelayService>(*storage_, hub_, RelayLimits{});
    // No blob directory: the disk reserve is not checked (the PostgreSQL store's case).
    blobs_ = std::make_unique<BlobService>(store_, *storage_, BlobLimits{}, "");
    router_ = std::make_unique<ApiRouter>(*service_, RouterLimits{}, blobs_.get());
    HttpServerOptions options;
    options.listen = {"127.0.0.1:0"};
    auto server = HttpServer::create(pool_, options, *router_);
    ASSERT_TRUE(server.ok()) << server.error().message();
    server_ = std::move(*server);
    server_->start();
    port_ = server_->local_endpoints().front().port();
    runner_ = std::thread([this] { pool_.run(); });
  }
  void TearDown() override {
    if (server_) server_->begin_shutdown();
    pool_.stop();
    if (runner_.joinable()) runner_.join();
  }

  static std::string expected(std::uint64_t first, std::uint64_t count) {
    std::string out(count, '\0');
    for (std::uint64_t i = 0; i < count; ++i)
      out[i] = byte_at(first + i);
    return out;
  }

  testing::TempDir dir_{"secchats-blob-routes"};
  MemoryBlobStore store_;
  std::unique_ptr<Storage> storage_;
  NotificationHub hub_;
  std::unique_ptr<RelayService> service_;
  std::unique_ptr<BlobService> blobs_;
  std::unique_ptr<ApiRouter> router_;
  IoContextPool pool_{1};
  std::unique_ptr<HttpServer> server_;
  std::thread runner_;
  unsigned short port_ = 0;
};

TEST_F(BlobRoutesTest, ARangeSourceIsStreamedInBoundedPieces) {
  const std::uint64_t length = 3 * kBodyPieceBytes + 1234;
  const std::string id = store_.add(length);
  HttpClient client(port_);
  auto res = client.get("/blobs/" + id);
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.header("Content-Length"), std::to_string(length));
  EXPECT_EQ(res.header("Accept-Ranges"), "bytes");
  ASSERT_EQ(res.body.size(), length);
  EXPECT_TRUE(res.body == expected(0, length)) << "byte-exact";
  const auto asked = store_.asked();
  ASSERT_EQ(asked.size(), 4u);
  for (std::size_t max : asked)
    EXPECT_LE(max, kBodyPieceBytes) << "the transport never asks for more than a piece";
}

TEST_F(BlobRoutesTest, RangesAnswer206And416AsForFiles) {
  const std::uint64_t length = kBodyPieceBytes + 100;
  const std::string id = store_.add(length);
  HttpClient client(port_);
  auto part = client.request("GET", "/blobs/" + id, "", {{"Range", "bytes=10-19"}});
  ASSERT_EQ(part.status, 206);
  EXPECT_EQ(part.header("Content-Range"), "bytes 10-19/" + std::to_string(length));
  EXPECT_EQ(part.body, expected(10, 10));

  // A resumed download across a piece boundary, to the end.
  const std::uint64_t from = kBodyPieceBytes - 50;
  auto tail =
      client.request("GET", "/blobs/" + id, "", {{"Range", "bytes=" + std::to_string(from) + "-"}});
  ASSERT_EQ(tail.status, 206);
  EXPECT_EQ(tail.body, expected(from, length - from));

  auto suffix = client.request("GET", "/blobs/" + id, "", {{"Range", "bytes=-5"}});
  ASSERT_EQ(suffix.status, 206);
  EXPECT_EQ(suffix.body, expected(length - 5, 5));

  auto past = client.request("GET", "/blobs/" + id, "",
                             {{"Range", "bytes=" + std::to_string(length) + "-"}});
  EXPECT_EQ(past.status, 416);
  EXPECT_EQ(past.header("Content-Range"), "bytes */" + std::to_string(length));

  auto unknown = client.get("/blobs/" + make_blob_id());
  EXPECT_EQ(unknown.status, 404);
  // The connection is still good after all that (keep-alive through piece streaming).
  auto again = client.request("GET", "/blobs/" + id, "", {{"Range", "bytes=0-0"}});
  ASSERT_EQ(again.status, 206);
  EXPECT_EQ(again.body, expected(0, 1));
}

TEST_F(BlobRoutesTest, ASourceFailingMidBodyEndsTheConnectionShort) {
  const std::uint64_t length = 2 * kBodyPieceBytes;
  const std::string id = store_.add(length);
  store_.fail_from(kBodyPieceBytes + 1);  // the second piece fails
  const std::string answer =
      HttpClient::raw_exchange(port_, "GET /blobs/" + id + " HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto end_of_head = answer.find("\r\n\r\n");
  ASSERT_NE(end_of_head, std::string::npos) << answer.substr(0, 200);
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_NE(answer.find("Content-Length: " + std::to_string(length)), std::string::npos);
  const std::string body = answer.substr(end_of_head + 4);
  EXPECT_EQ(body, expected(0, kBodyPieceBytes)) << "the first piece, then the connection closed";
}

}  // namespace
}  // namespace secchats::server
