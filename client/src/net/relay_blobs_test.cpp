// RelayClient's blob calls (docs/protocol-v2.md §15.3) against the real secchats-server.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "secchats/net/relay_client.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace secchats::net {
namespace {
using secchats::testing::ServerProcess;
using secchats::testing::TempDir;

class RelayBlobsTest : public ::testing::Test {
 protected:
  void SetUp() override { start({}); }

  void start(std::vector<std::string> extra) {
    extra.insert(extra.end(), {"--ip-rate-per-sec", "0", "--user-rate-per-sec", "0"});
    server_ = std::make_unique<ServerProcess>(ServerProcess::Options{dir_.path(), extra});
    auto client = RelayClient::create(server_->base_url());
    ASSERT_TRUE(client.ok()) << client.error().message();
    client_ = std::move(client).value();
    auto user = client_->register_user();
    ASSERT_TRUE(user.ok()) << user.error().message();
    me_ = {user->user_id.value_or(""), SecretString(user->auth_token.value_or(""))};
  }

  static std::vector<std::uint8_t> bytes(std::size_t n, std::uint8_t seed) {
    std::vector<std::uint8_t> v(n);
    for (std::size_t i = 0; i < n; ++i)
      v[i] = static_cast<std::uint8_t>(i * 31 + seed);
    return v;
  }

  TempDir dir_{"secchats-relay-blobs"};
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<RelayClient> client_;
  Credentials me_;
};

TEST_F(RelayBlobsTest, UploadRealignDownloadRangeAndDelete) {
  const auto data = bytes(300000, 3);
  auto id = client_->create_blob(me_, data.size());
  ASSERT_TRUE(id.ok()) << id.error().message();
  EXPECT_EQ(id->size(), 43u);

  auto first = client_->upload_blob_chunk(me_, *id, 0, std::span(data).subspan(0, 100000));
  ASSERT_TRUE(first.ok()) << first.error().message();
  EXPECT_FALSE(first->conflict);
  EXPECT_EQ(first->offset, 100000u);
  auto head = client_->blob_offset(me_, *id);
  ASSERT_TRUE(head.ok()) << head.error().message();
  EXPECT_EQ(head->offset, 100000u);
  EXPECT_EQ(head->length, data.size());

  // A PATCH at the wrong offset: 409 with the relay's offset, for the caller to realign.
  auto wrong = client_->upload_blob_chunk(me_, *id, 50000, std::span(data).subspan(50000, 10));
  ASSERT_TRUE(wrong.ok()) << wrong.error().message();
  EXPECT_TRUE(wrong->conflict);
  EXPECT_EQ(wrong->offset, 100000u);

  // Not downloadable until complete.
  auto early =
      client_->download_blob(*id, 0, [](std::span<const std::uint8_t>) { return ok_status(); });
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().code(), ErrorCode::kNotFound);

  auto rest = client_->upload_blob_chunk(me_, *id, 100000, std::span(data).subspan(100000));
  ASSERT_TRUE(rest.ok()) << rest.error().message();
  EXPECT_EQ(rest->offset, data.size());

  std::vector<std::uint8_t> whole;
  int pieces = 0;
  auto got = client_->download_blob(*id, 0, [&](std::span<const std::uint8_t> piece) {
    ++pieces;
    EXPECT_LE(piece.size(), 65536u);
    whole.insert(whole.end(), piece.begin(), piece.end());
    return ok_status();
  });
  ASSERT_TRUE(got.ok()) << got.error().message();
  EXPECT_EQ(got->start, 0u);
  EXPECT_EQ(whole, data);
  EXPECT_GT(pieces, 1);

  std::vector<std::uint8_t> tail;
  std::uint64_t announced = 1;
  auto ranged = client_->download_blob(
      *id, 250000,
      [&](std::span<const std::uint8_t> piece) {
        tail.insert(tail.end(), piece.begin(), piece.end());
        return ok_status();
      },
      [&](const RelayClient::BlobDownload& start) {
        announced = start.start;
        return ok_status();
      });
  ASSERT_TRUE(ranged.ok()) << ranged.error().message();
  EXPECT_EQ(ranged->start, 250000u);
  EXPECT_EQ(announced, 250000u);
  EXPECT_EQ(tail, std::vector<std::uint8_t>(data.begin() + 250000, data.end()));

  // A sink error ends the download with it.
  auto stopped = client_->download_blob(*id, 0, [](std::span<const std::uint8_t>) -> Status {
    return Error(ErrorCode::kUnavailable, "stop");
  });
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.error().message(), "stop");

  ASSERT_TRUE(client_->delete_blob(me_, *id).ok());
  auto gone =
      client_->download_blob(*id, 0, [](std::span<const std::uint8_t>) { return ok_status(); });
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code(), ErrorCode::kNotFound);
}

TEST_F(RelayBlobsTest, LimitsAndBadInput) {
  auto huge = client_->create_blob(me_, std::uint64_t{1} << 40);
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.error().code(), ErrorCode::kTooLarge);

  Credentials stranger{me_.user_id, SecretString(std::string(64, '0'))};
  auto unauthenticated = client_->create_blob(stranger, 10);
  ASSERT_FALSE(unauthenticated.ok());
  EXPECT_EQ(unauthenticated.error().code(), ErrorCode::kUnauthenticated);

  auto malformed = client_->blob_offset(me_, "../etc");
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.error().code(), ErrorCode::kInvalidArgument);
  auto unknown = client_->blob_offset(me_, std::string(43, 'A'));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code(), ErrorCode::kNotFound);
}

TEST_F(RelayBlobsTest, QuotaIs507AsUnavailableWithTheReason) {
  server_.reset();
  start({"--blob-quota-bytes", "1000"});
  auto id = client_->create_blob(me_, 5000);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(id.error().message().rfind("relay storage full or quota exceeded: ", 0), 0u)
      << id.error().message();
}

}  // namespace
}  // namespace secchats::net
