// Two relays on one database, the parts beyond messages (issue 13): blobs uploaded through one
// relay download through the other, an interrupted upload resumes through the other, and the
// retention purge running on both relays deletes each expired row once.
#include <boost/json.hpp>

#include <chrono>
#include <thread>

#include "cluster_fixture.hpp"
#include "support/blob_http.hpp"

namespace secchats::testing {
namespace {
namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::string create_blob(HttpClient& http, const ClusterUser& u, std::size_t length) {
  auto res = http.request("POST", "/blobs", "",
                          with_header(blob_auth(u), "Upload-Length", std::to_string(length)));
  EXPECT_EQ(res.status, 201) << res.body;
  if (res.status != 201) return {};
  return std::string(json::parse(res.body).at("blobId").as_string());
}

HttpResult patch(HttpClient& http, const ClusterUser& u, const std::string& id, std::size_t offset,
                 std::string_view bytes) {
  return http.request("PATCH", "/blobs/" + id, bytes,
                      with_header(blob_auth(u), "Upload-Offset", std::to_string(offset)));
}

TEST_F(ClusterTest, ABlobUploadedThroughADownloadsThroughB) {
  HttpClient a(a_.port());
  HttpClient b(b_.port());
  auto alice = register_user(a);
  const std::string blob = random_bytes(300 * 1024 + 5, 7);
  const std::string id = create_blob(a, alice, blob.size());
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(patch(a, alice, id, 0, blob).status, 204);

  auto whole = b.get("/blobs/" + id);
  ASSERT_EQ(whole.status, 200) << whole.body.substr(0, 200);
  EXPECT_TRUE(whole.body == blob) << "different bytes through B";
  auto part = b.request("GET", "/blobs/" + id, "", {{"Range", "bytes=1000-1999"}});
  ASSERT_EQ(part.status, 206);
  EXPECT_TRUE(part.body == blob.substr(1000, 1000));
}

TEST_F(ClusterTest, AnUploadInterruptedThroughAResumesThroughB) {
  HttpClient a(a_.port());
  auto alice = register_user(a);
  const std::string blob = random_bytes(200 * 1024, 11);
  const std::string id = create_blob(a, alice, blob.size());
  ASSERT_FALSE(id.empty());
  const std::size_t half = 64 * 1024;
  ASSERT_EQ(patch(a, alice, id, 0, std::string_view(blob).substr(0, half)).status, 204);
  a_.process->kill_hard();  // the relay the upload started on is gone

  HttpClient b(b_.port());
  auto head = b.request("HEAD", "/blobs/" + id, "", blob_auth(alice));
  ASSERT_EQ(head.status, 200);
  ASSERT_EQ(head.header("Upload-Offset"), std::to_string(half)) << "B knows how far A got";
  EXPECT_EQ(head.header("Upload-Length"), std::to_string(blob.size()));
  EXPECT_EQ(b.get("/blobs/" + id).status, 404) << "not downloadable before it is complete";
  ASSERT_EQ(patch(b, alice, id, half, std::string_view(blob).substr(half)).status, 204);
  auto whole = b.get("/blobs/" + id);
  ASSERT_EQ(whole.status, 200);
  EXPECT_TRUE(whole.body == blob);
}

TEST_F(ClusterTest, RetentionOnBothRelaysDeletesEachExpiredRowOnce) {
  // Restart the pair with a short retention and a busy purge on both relays.
  a_ = {};
  b_ = {};
  start_pair(uri_, {"--retention-ms", "1500", "--purge-interval-ms", "100"});
  HttpClient a(a_.port());
  HttpClient b(b_.port());
  auto alice = register_user(a);
  auto bob = register_user(b);
  constexpr int kMessages = 40;
  for (int i = 0; i < kMessages; ++i)
    ASSERT_EQ(post_message(i % 2 ? a : b, alice, bob.id, "old " + std::to_string(i)).status, 200);
  EXPECT_EQ(varz(a_.port(), "queued_items"), kMessages);

  const auto deadline = Clock::now() + 60s;
  while (varz(a_.port(), "queued_items") > 0 && Clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  ASSERT_EQ(varz(b_.port(), "queued_items"), 0) << "expired messages were not purged";
  const std::int64_t purged_a = varz(a_.port(), "purged_queue_items");
  const std::int64_t purged_b = varz(b_.port(), "purged_queue_items");
  std::cout << "[ info ] purged by A: " << purged_a << ", by B: " << purged_b << "\n";
  EXPECT_EQ(purged_a + purged_b, kMessages) << "each expired row deleted exactly once";
  EXPECT_GT(varz(a_.port(), "purge_runs"), 1) << "both relays run the purge";
  EXPECT_GT(varz(b_.port(), "purge_runs"), 1);
}

}  // namespace
}  // namespace secchats::testing
