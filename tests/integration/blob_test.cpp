// The relay's blob endpoints (protocol-v2 §15.3) against the real binary: uploads in pieces,
// HEAD/GET/Range, authentication, limits, a crash in the middle of an upload, retention.
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "server_fixture.hpp"
#include "support/blob_http.hpp"

namespace secchats::testing {
namespace {
namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

class BlobTest : public ServerTest {
 protected:
  HttpResult create(const TestUser& u, std::uint64_t length) {
    return http().request("POST", "/blobs", "",
                          with_header(blob_auth(u), "Upload-Length", std::to_string(length)));
  }
  // Creates a blob and returns its id ("" on failure, with a test failure).
  std::string create_id(const TestUser& u, std::uint64_t length) {
    auto res = create(u, length);
    EXPECT_EQ(res.status, 201) << res.body;
    if (res.status != 201) return {};
    auto id = std::string(json::parse(res.body).at("blobId").as_string());
    EXPECT_EQ(res.header("Location"), "/blobs/" + id);
    return id;
  }
  HttpResult patch(const TestUser& u, const std::string& id, std::uint64_t offset,
                   std::string_view bytes) {
    return http().request("PATCH", "/blobs/" + id, bytes,
                          with_header(blob_auth(u), "Upload-Offset", std::to_string(offset)));
  }
  HttpResult head(const TestUser& u, const std::string& id) {
    return http().request("HEAD", "/blobs/" + id, "", blob_auth(u));
  }
  HttpResult get(const std::string& id, std::string range = "") {
    HttpHeaders h;
    if (!range.empty()) h.emplace_back("Range", std::move(range));
    return http().request("GET", "/blobs/" + id, "", h);
  }
  HttpResult remove(const TestUser& u, const std::string& id) {
    return http().request("DELETE", "/blobs/" + id, "", blob_auth(u));
  }
  std::int64_t varz(const char* name) {
    return json::parse(http().get("/varz").body).at(name).as_int64();
  }
};

TEST_F(BlobTest, UploadInPiecesThenDownloadWholeAndInRanges) {
  auto alice = register_user();
  // Over one 256 KiB transport piece, so the download streams in several.
  const std::string blob = random_bytes(600 * 1024 + 17, 1);
  const std::string id = create_id(alice, blob.size());
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(id.size(), 43u);

  auto h = head(alice, id);
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.header("Upload-Offset"), "0");
  EXPECT_EQ(h.header("Upload-Length"), std::to_string(blob.size()));
  EXPECT_TRUE(h.body.empty());

  const std::size_t cuts[] = {0, 100000, 400000, blob.size()};
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(get(id).status, 404) << "an unfinished blob is never served";
    auto p =
        patch(alice, id, cuts[i], std::string_view(blob).substr(cuts[i], cuts[i + 1] - cuts[i]));
    ASSERT_EQ(p.status, 204) << p.body;
    EXPECT_EQ(p.header("Upload-Offset"), std::to_string(cuts[i + 1]));
    EXPECT_TRUE(p.body.empty());
    EXPECT_EQ(head(alice, id).header("Upload-Offset"), std::to_string(cuts[i + 1]));
  }

  auto whole = get(id);
  ASSERT_EQ(whole.status, 200);
  EXPECT_EQ(whole.content_type, "application/octet-stream");
  EXPECT_EQ(whole.body.size(), blob.size());
  EXPECT_TRUE(whole.body == blob) << "the download is byte-exact";

  auto tail = get(id, "bytes=500000-");
  ASSERT_EQ(tail.status, 206);
  EXPECT_EQ(tail.header("Content-Range"),
            "bytes 500000-" + std::to_string(blob.size() - 1) + "/" + std::to_string(blob.size()));
  EXPECT_TRUE(tail.body == blob.substr(500000));
  auto middle = get(id, "bytes=10-19");
  ASSERT_EQ(middle.status, 206);
  EXPECT_EQ(middle.header("Content-Range"), "bytes 10-19/" + std::to_string(blob.size()));
  EXPECT_EQ(middle.body, blob.substr(10, 10));
  auto suffix = get(id, "bytes=-5");
  ASSERT_EQ(suffix.status, 206);
  EXPECT_EQ(suffix.body, blob.substr(blob.size() - 5));
  auto past = get(id, "bytes=" + std::to_string(blob.size()) + "-");
  EXPECT_EQ(past.status, 416);
  EXPECT_EQ(past.header("Content-Range"), "bytes */" + std::to_string(blob.size()));

  EXPECT_EQ(varz("blobs"), 1);
  EXPECT_EQ(varz("blob_bytes"), static_cast<std::int64_t>(blob.size()));
  EXPECT_EQ(varz("blob_uploads_unfinished"), 0);
  EXPECT_EQ(varz("blob_bytes_uploaded"), static_cast<std::int64_t>(blob.size()));
  EXPECT_GE(varz("blob_bytes_downloaded"), static_cast<std::int64_t>(blob.size()));

  // The owner deletes it: gone for everyone.
  EXPECT_EQ(remove(alice, id).status, 204);
  EXPECT_EQ(get(id).status, 404);
  EXPECT_EQ(head(alice, id).status, 404);
  EXPECT_EQ(varz("blobs"), 0);
}

TEST_F(BlobTest, WrongOffsetIs409WithTheRightOneAndNothingChanges) {
  auto alice = register_user();
  const std::string id = create_id(alice, 10);
  ASSERT_EQ(patch(alice, id, 0, "hello").status, 204);
  for (std::uint64_t wrong : {0u, 3u, 7u}) {
    auto res = patch(alice, id, wrong, "xx");
    EXPECT_EQ(res.status, 409) << wrong;
    EXPECT_EQ(res.header("Upload-Offset"), "5");
    EXPECT_EQ(res.body.find('\n'), res.body.size() - 1) << "a one-line reason";
  }
  auto over = patch(alice, id, 5, "too many bytes");
  EXPECT_EQ(over.status, 400) << over.body;
  EXPECT_EQ(http().request("PATCH", "/blobs/" + id, "x", blob_auth(alice)).status, 400)
      << "no Upload-Offset";
  EXPECT_EQ(http()
                .request("PATCH", "/blobs/" + id, "x",
                         with_header(blob_auth(alice), "Upload-Offset", "-1"))
                .status,
            400);
  EXPECT_EQ(head(alice, id).header("Upload-Offset"), "5");
  ASSERT_EQ(patch(alice, id, 5, "world").status, 204);
  EXPECT_EQ(get(id).body, "helloworld");

  // Creation needs a sane Upload-Length and no body.
  EXPECT_EQ(http().request("POST", "/blobs", "", blob_auth(alice)).status, 400);
  EXPECT_EQ(
      http()
          .request("POST", "/blobs", "", with_header(blob_auth(alice), "Upload-Length", "ten"))
          .status,
      400);
  EXPECT_EQ(create(alice, 0).status, 400);
  EXPECT_EQ(
      http()
          .request("POST", "/blobs", "{}", with_header(blob_auth(alice), "Upload-Length", "5"))
          .status,
      400);
  EXPECT_EQ(http().request("PUT", "/blobs/" + id, "x", blob_auth(alice)).status, 405);
}

TEST_F(BlobTest, CredentialsAndOwnership) {
  auto alice = register_user();
  auto mallory = register_user();
  const std::string id = create_id(alice, 4);
  ASSERT_FALSE(id.empty());

  // No or wrong credentials: 401, for every owner-only request.
  HttpHeaders none;
  HttpHeaders wrong_token = {{"X-Secchats-User", alice.id},
                             {"Authorization", "Bearer " + mallory.token}};
  HttpHeaders no_bearer = {{"X-Secchats-User", alice.id}, {"Authorization", alice.token}};
  HttpHeaders no_user = {{"Authorization", "Bearer " + alice.token}};
  for (const auto& h : {none, wrong_token, no_bearer, no_user}) {
    EXPECT_EQ(http().request("POST", "/blobs", "", with_header(h, "Upload-Length", "4")).status,
              401);
    EXPECT_EQ(http().request("HEAD", "/blobs/" + id, "", h).status, 401);
    EXPECT_EQ(
        http().request("PATCH", "/blobs/" + id, "ab", with_header(h, "Upload-Offset", "0")).status,
        401);
    EXPECT_EQ(http().request("DELETE", "/blobs/" + id, "", h).status, 401);
  }
  // Another user's blob is answered like an unknown one.
  EXPECT_EQ(head(mallory, id).status, 404);
  EXPECT_EQ(patch(mallory, id, 0, "evil").status, 404);
  EXPECT_EQ(remove(mallory, id).status, 404);
  EXPECT_EQ(head(alice, id).header("Upload-Offset"), "0") << "nothing changed";
  // Unknown and malformed ids.
  const std::string unknown(43, 'A');
  EXPECT_EQ(head(alice, unknown).status, 404);
  EXPECT_EQ(get(unknown).status, 404);
  EXPECT_EQ(get("..%2f..%2fdb").status, 404);
  EXPECT_EQ(get("../blobs").status, 404);
  EXPECT_EQ(get("").status, 404);

  // Downloads need the id only (it is the capability).
  ASSERT_EQ(patch(alice, id, 0, "data").status, 204);
  EXPECT_EQ(get(id).body, "data");
}

TEST_F(BlobTest, ExistingEndpointsGetNoNewHeaders) {
  auto res = http().post("/register", "");
  ASSERT_EQ(res.status, 200);
  std::vector<std::string> names;
  for (const auto& [name, value] : res.headers)
    names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"cache-control", "content-length", "content-type",
                                             "server"}));
  auto bad = http().post("/receive", "{");
  EXPECT_EQ(bad.status, 400);
  EXPECT_FALSE(bad.has_header("Upload-Offset"));
}

TEST_F(BlobTest, PatchBodiesUpTo8MiB) {
  restart({"--max-blob-bytes", std::to_string(20 << 20)});
  auto alice = register_user();
  const std::string id = create_id(alice, (8 << 20) + 1);
  const std::string big(8 << 20, 'x');
  EXPECT_EQ(patch(alice, id, 0, big + "y").status, 413) << "over the per-PATCH limit";
  ASSERT_EQ(patch(alice, id, 0, big).status, 204);
  ASSERT_EQ(patch(alice, id, big.size(), "y").status, 204);
  // Larger than the socket buffers: the download waits for the client to take more.
  EXPECT_TRUE(get(id).body == big + "y");
  // The JSON endpoints keep their 1 MiB.
  EXPECT_EQ(http().post("/postmsg", std::string(2 << 20, ' ')).status, 413);
}

TEST_F(BlobTest, LimitsAnswer413And429And507) {
  restart(
      {"--max-blob-bytes", "1000", "--blob-quota-bytes", "2500", "--max-unfinished-uploads", "2"});
  auto alice = register_user();
  EXPECT_EQ(create(alice, 1001).status, 413);
  const std::string a = create_id(alice, 1000);
  const std::string b = create_id(alice, 1000);
  auto third = create(alice, 10);
  EXPECT_EQ(third.status, 429) << third.body;
  ASSERT_EQ(patch(alice, a, 0, std::string(1000, 'a')).status, 204);
  auto over_quota = create(alice, 1000);
  EXPECT_EQ(over_quota.status, 507) << over_quota.body;
  EXPECT_EQ(over_quota.body.find('\n'), over_quota.body.size() - 1);
  EXPECT_EQ(create(alice, 500).status, 201) << "exactly the quota is fine";
  // Another user has a quota of their own.
  auto bob = register_user();
  EXPECT_EQ(create(bob, 1000).status, 201);
  // Giving up an upload frees its share.
  EXPECT_EQ(remove(alice, b).status, 204);
  EXPECT_EQ(create(alice, 900).status, 201);
  EXPECT_EQ(varz("blob_too_large"), 1);
  EXPECT_EQ(varz("blob_insufficient_storage"), 1);
}

TEST_F(BlobTest, DiskReserveAnswers507) {
  restart({"--blob-min-free-bytes", std::to_string(std::uint64_t{1} << 50)});
  auto alice = register_user();
  auto res = create(alice, 10);
  EXPECT_EQ(res.status, 507) << res.body;
  EXPECT_EQ(varz("blob_insufficient_storage"), 1);
}

// kill -9 in the middle of an upload: no half blob is ever served, the upload resumes from
// the offset HEAD reports, and the blob then downloads byte-exact. No blob byte is in SQLite.
TEST_F(BlobTest, CrashMidUploadResumesAfterRestart) {
  auto alice = register_user();
  const std::string blob = random_bytes(300000, 7);
  const std::string id = create_id(alice, blob.size());
  ASSERT_EQ(patch(alice, id, 0, std::string_view(blob).substr(0, 120000)).status, 204);

  server().kill_hard();
  client_.reset();
  start();

  EXPECT_EQ(get(id).status, 404);
  auto h = head(alice, id);
  ASSERT_EQ(h.status, 200);
  const std::uint64_t offset = std::stoull(h.header("Upload-Offset"));
  EXPECT_EQ(offset, 120000u) << "an acknowledged PATCH survives the crash";
  EXPECT_EQ(varz("blob_uploads_unfinished"), 1);
  ASSERT_EQ(patch(alice, id, offset, std::string_view(blob).substr(offset)).status, 204);
  auto whole = get(id);
  ASSERT_EQ(whole.status, 200);
  EXPECT_TRUE(whole.body == blob);

  // Blobs live under blobs/, never in the database files.
  const std::string marker = blob.substr(150000, 64);
  for (const auto& entry : fs::directory_iterator(data_dir_.path())) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    EXPECT_EQ(content.str().find(marker), std::string::npos) << entry.path();
  }
  EXPECT_TRUE(fs::exists(data_dir_.path() / "blobs" / (id + ".blob")));
}

// kill -9 while a PATCH's body is still arriving: the relay never stored part of a request,
// so the offset is the last acknowledged one and the upload resumes from there.
TEST_F(BlobTest, CrashDuringAPatchKeepsTheAcknowledgedOffset) {
  auto alice = register_user();
  const std::string blob = random_bytes(3 << 20, 9);
  const std::string id = create_id(alice, blob.size());
  ASSERT_EQ(patch(alice, id, 0, std::string_view(blob).substr(0, 1000)).status, 204);
  {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::socket socket(ioc);
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), server().port()});
    const std::string head_text =
        "PATCH /blobs/" + id + " HTTP/1.1\r\nHost: t\r\nX-Secchats-User: " + alice.id +
        "\r\nAuthorization: Bearer " + alice.token +
        "\r\nUpload-Offset: 1000\r\nContent-Length: " + std::to_string(blob.size() - 1000) +
        "\r\n\r\n";
    boost::asio::write(socket, boost::asio::buffer(head_text));
    boost::asio::write(socket, boost::asio::buffer(blob.data() + 1000, 1 << 20));
    server().kill_hard();
  }
  client_.reset();
  start();
  auto h = head(alice, id);
  ASSERT_EQ(h.status, 200);
  EXPECT_EQ(h.header("Upload-Offset"), "1000");
  EXPECT_EQ(get(id).status, 404);
  ASSERT_EQ(patch(alice, id, 1000, std::string_view(blob).substr(1000)).status, 204);
  EXPECT_TRUE(get(id).body == blob);
}

TEST_F(BlobTest, RetentionPurgesBlobsAndIdleUploads) {
  restart(
      {"--retention-ms", "1500", "--purge-interval-ms", "100", "--blob-upload-idle-ms", "1500"});
  auto alice = register_user();
  const std::string done = create_id(alice, 3);
  ASSERT_EQ(patch(alice, done, 0, "abc").status, 204);
  const std::string idle = create_id(alice, 3);
  EXPECT_EQ(get(done).status, 200);
  // Generous: the purge runs every 100 ms once the 1.5 s are over.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while ((get(done).status != 404 || head(alice, idle).status != 404) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(get(done).status, 404);
  EXPECT_EQ(head(alice, idle).status, 404);
  EXPECT_EQ(varz("blobs_purged"), 2);
  EXPECT_TRUE(fs::is_empty(data_dir_.path() / "blobs"));
}

}  // namespace
}  // namespace secchats::testing
