// Two relays in one process, each with its own HTTP server, blob service and PgBlobStore, on
// one PostgreSQL database (the shared throwaway cluster) and one user store: the /blobs
// protocol (protocol-v2 §15.3) across relays over real HTTP. An upload started through one
// relay resumes through the other, and the blob downloads, whole and in ranges, through
// either. (The real-binary version with `--storage` lives with the two-relay integration
// tests.)
#include <gtest/gtest.h>

#include <thread>

#include "api/router.hpp"
#include "blob/blob_store_test_support.hpp"
#include "blob/pg_blob_store.hpp"
#include "net/http_server.hpp"
#include "net/io_context_pool.hpp"
#include "secchats/protocol/json_codec.hpp"
#include "service/blob_service.hpp"
#include "service/notification_hub.hpp"
#include "service/relay_service.hpp"
#include "storage/sqlite/sqlite_storage.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

namespace secchats::server {
namespace {

using testing::HttpClient;
using testing::HttpHeaders;
using testing::pattern;

// One relay: its blob store, services and HTTP server on a loopback port.
class InProcessRelay {
 public:
  InProcessRelay(const std::string& uri, Storage& storage, RelayService& service) {
    PgBlobOptions options;
    options.uri = uri;
    auto store = open_pg_blob_store(options);
    EXPECT_TRUE(store.ok()) << store.error().message();
    if (!store.ok()) return;
    store_ = std::move(*store);
    // No blob directory: the database's disk is the PostgreSQL store's concern.
    blobs_ = std::make_unique<BlobService>(*store_, storage, BlobLimits{}, "");
    router_ = std::make_unique<ApiRouter>(service, RouterLimits{}, blobs_.get());
    HttpServerOptions net;
    net.listen = {"127.0.0.1:0"};
    auto server = HttpServer::create(pool_, net, *router_);
    EXPECT_TRUE(server.ok()) << server.error().message();
    if (!server.ok()) return;
    server_ = std::move(*server);
    server_->start();
    port_ = server_->local_endpoints().front().port();
    runner_ = std::thread([this] { pool_.run(); });
  }
  ~InProcessRelay() {
    if (server_) server_->begin_shutdown();
    pool_.stop();
    if (runner_.joinable()) runner_.join();
  }
  InProcessRelay(const InProcessRelay&) = delete;
  InProcessRelay& operator=(const InProcessRelay&) = delete;

  unsigned short port() const { return port_; }

 private:
  std::unique_ptr<BlobStore> store_;
  std::unique_ptr<BlobService> blobs_;
  std::unique_ptr<ApiRouter> router_;
  IoContextPool pool_{1};
  std::unique_ptr<HttpServer> server_;
  std::thread runner_;
  unsigned short port_ = 0;
};

class PgBlobRelaysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto storage = open_sqlite_storage({dir_.path()});
    ASSERT_TRUE(storage.ok()) << storage.error().message();
    storage_ = std::move(*storage);
    service_ = std::make_unique<RelayService>(*storage_, hub_, RelayLimits{});
    relay_a_ = std::make_unique<InProcessRelay>(backing_.uri(), *storage_, *service_);
    relay_b_ = std::make_unique<InProcessRelay>(backing_.uri(), *storage_, *service_);
    ASSERT_NE(relay_a_->port(), 0);
    ASSERT_NE(relay_b_->port(), 0);
  }
  void TearDown() override {
    relay_a_.reset();
    relay_b_.reset();
  }

  testing::TempDir dir_{"secchats-pg-blob-relays"};
  testing::PgBacking backing_;
  std::unique_ptr<Storage> storage_;
  NotificationHub hub_;
  std::unique_ptr<RelayService> service_;
  std::unique_ptr<InProcessRelay> relay_a_;
  std::unique_ptr<InProcessRelay> relay_b_;
};

TEST_F(PgBlobRelaysTest, UploadThroughOneRelayResumeThroughTheOtherDownloadThroughBoth) {
  HttpClient a(relay_a_->port());
  HttpClient b(relay_b_->port());
  auto registered = a.post("/register", "");
  ASSERT_EQ(registered.status, 200) << registered.body;
  auto user = protocol::decode_user(registered.body);
  ASSERT_TRUE(user.ok());
  const HttpHeaders auth = {{"X-Secchats-User", user->user_id.value_or("")},
                            {"Authorization", "Bearer " + user->auth_token.value_or("")}};
  auto with = [&auth](std::string name, std::string value) {
    HttpHeaders h = auth;
    h.emplace_back(std::move(name), std::move(value));
    return h;
  };

  // Over several 256 KiB transport pieces and a 1 MiB chunk row.
  const std::size_t length = 1300 * 1024 + 17;
  const std::size_t half = 600 * 1024 + 3;
  const std::string content = pattern(0, length);
  auto created = a.request("POST", "/blobs", "", with("Upload-Length", std::to_string(length)));
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string path = created.header("Location");
  ASSERT_EQ(path.size(), 7u + 43u) << path;

  auto first = a.request("PATCH", path, content.substr(0, half), with("Upload-Offset", "0"));
  ASSERT_EQ(first.status, 204) << first.body;
  // Relay A went away: the client asks relay B where to resume, and resumes there.
  auto head = b.request("HEAD", path, "", auth);
  ASSERT_EQ(head.status, 200);
  EXPECT_EQ(head.header("Upload-Offset"), std::to_string(half));
  EXPECT_EQ(head.header("Upload-Length"), std::to_string(length));
  auto stale = b.request("PATCH", path, "x", with("Upload-Offset", "0"));
  EXPECT_EQ(stale.status, 409);
  EXPECT_EQ(stale.header("Upload-Offset"), std::to_string(half));
  auto early = b.get(path);
  EXPECT_EQ(early.status, 404) << "half a blob is served by no relay";
  auto rest =
      b.request("PATCH", path, content.substr(half), with("Upload-Offset", std::to_string(half)));
  ASSERT_EQ(rest.status, 204) << rest.body;
  EXPECT_EQ(rest.header("Upload-Offset"), std::to_string(length));

  for (HttpClient* relay : {&a, &b}) {
    auto whole = relay->get(path);
    ASSERT_EQ(whole.status, 200);
    ASSERT_EQ(whole.body.size(), length);
    EXPECT_TRUE(whole.body == content) << "byte-exact";
    const std::size_t from = 1024 * 1024 - 10;  // across the chunk rows' boundary
    auto range = relay->request(
        "GET", path, "",
        {{"Range", "bytes=" + std::to_string(from) + "-" + std::to_string(from + 99)}});
    ASSERT_EQ(range.status, 206);
    EXPECT_EQ(range.body, content.substr(from, 100));
  }

  auto removed = b.request("DELETE", path, "", auth);
  EXPECT_EQ(removed.status, 204);
  EXPECT_EQ(a.get(path).status, 404) << "removed through B, gone on A";
}

}  // namespace
}  // namespace secchats::server
