// Attachments end to end (docs/protocol-v2.md §15): libsecchats clients against the real
// relay binary on loopback. Files go up as encrypted blobs and come down verified; uploads and
// downloads stopped half way resume; a tampered or cut blob is refused with nothing saved; a
// v1 friend gets a clear refusal; the relay's data directory never holds the plaintext or the
// file name.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "image_test_inputs.hpp"
#include "secchats/client.hpp"
#include "support/server_process.hpp"
#include "support/tampering_proxy.hpp"
#include "support/temp_dir.hpp"

namespace secchats::testing {
namespace {
namespace fs = std::filesystem;
using Phase = TransferProgress::Phase;

constexpr std::string_view kMarker = "PLAINTEXT-MARKER-7f3a9c-never-on-the-relay";
constexpr std::string_view kSecretName = "quarterly-report-zebra-42.pdf";

// A file of `size` bytes: a xorshift stream (so chunks differ) with kMarker near the start.
void write_file(const fs::path& path, std::size_t size) {
  std::ofstream out(path, std::ios::binary);
  std::uint64_t x = 0x9E3779B97F4A7C15ull ^ size;
  std::vector<char> buffer(1 << 20);
  std::size_t written = 0;
  while (written < size) {
    const std::size_t n = std::min(buffer.size(), size - written);
    for (std::size_t i = 0; i < n; ++i) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      buffer[i] = static_cast<char>(x);
    }
    if (written == 0 && n > 100 + kMarker.size()) {
      std::copy(kMarker.begin(), kMarker.end(), buffer.begin() + 100);
    }
    out.write(buffer.data(), static_cast<std::streamsize>(n));
    written += n;
  }
}

// The partial downloads (".secchats-part" files) in `dir`.
std::vector<fs::path> part_files(const fs::path& dir) {
  std::vector<fs::path> found;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().string().ends_with(".secchats-part")) found.push_back(entry.path());
  }
  return found;
}

bool same_contents(const fs::path& a, const fs::path& b) {
  std::ifstream x(a, std::ios::binary), y(b, std::ios::binary);
  if (!x || !y || fs::file_size(a) != fs::file_size(b)) return false;
  std::vector<char> p(1 << 20), q(1 << 20);
  while (x && y) {
    x.read(p.data(), static_cast<std::streamsize>(p.size()));
    y.read(q.data(), static_cast<std::streamsize>(q.size()));
    if (x.gcount() != y.gcount() || !std::equal(p.begin(), p.begin() + x.gcount(), q.begin())) {
      return false;
    }
  }
  return true;
}

// True if any file under `dir` contains `needle`.
bool tree_contains(const fs::path& dir, std::string_view needle) {
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.find(needle) != std::string::npos) return true;
  }
  return false;
}

class ClientAttachments : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<TempDir>("secchats-client-attachments");
    relay_dir_ = dir_->path() / "relay";
    server_ = std::make_unique<ServerProcess>(ServerProcess::Options{
        relay_dir_,
        {"--ip-rate-per-sec", "0", "--user-rate-per-sec", "0", "--register-rate-per-min", "0"},
        0});
    alice_ = make_client("alice");
    bob_ = make_client("bob");
    ASSERT_TRUE(alice_ && bob_);
    befriend(*alice_, *bob_);
    auto friends = alice_->friends();
    ASSERT_TRUE(friends.ok());
    ASSERT_EQ(friends->front().protocol, "v2");
    files_ = dir_->path() / "files";
    downloads_ = dir_->path() / "downloads";
    fs::create_directories(files_);
    fs::create_directories(downloads_);
  }

  std::unique_ptr<Client> make_client(const std::string& name) {
    auto c = Client::create_account(dir_->path() / name, SecretString("pw " + name),
                                    server_->base_url(), name);
    EXPECT_TRUE(c.ok()) << c.error().message();
    return c.ok() ? std::move(c).value() : nullptr;
  }

  static void befriend(Client& a, Client& b) {
    ASSERT_TRUE(a.add_friend(b.user_id()).ok());
    ASSERT_TRUE(b.sync().ok());
    ASSERT_TRUE(b.accept(a.user_id()).ok());
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(a.sync().ok());
      ASSERT_TRUE(b.sync().ok());
    }
  }

  // Bob's copy of the newest message from alice (after a sync).
  MessageInfo received_file(const std::string& chat_id) {
    EXPECT_TRUE(bob_->sync().ok());
    auto history = bob_->history(chat_id);
    EXPECT_TRUE(history.ok());
    for (auto it = history->rbegin(); it != history->rend(); ++it) {
      if (it->type == "FILE") return *it;
    }
    ADD_FAILURE() << "no FILE message arrived";
    return {};
  }

  // The one complete blob in the relay's data directory.
  fs::path relay_blob() const {
    for (const auto& entry : fs::directory_iterator(relay_dir_ / "blobs")) {
      if (entry.path().extension() == ".blob") return entry.path();
    }
    ADD_FAILURE() << "no blob on the relay";
    return {};
  }

  std::unique_ptr<TempDir> dir_;
  fs::path relay_dir_, files_, downloads_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<Client> alice_, bob_;
};

TEST_F(ClientAttachments, FiftyMegabytesRoundTripBetweenV2Friends) {
  const fs::path original = files_ / kSecretName;
  write_file(original, 50u * 1000 * 1000);
  int upload_reports = 0;
  auto sent = alice_->send_file(bob_->user_id(), original, {}, [&](const TransferProgress& p) {
    if (p.phase == Phase::kUploading) ++upload_reports;
    return true;
  });
  ASSERT_TRUE(sent.ok()) << sent.error().message();
  EXPECT_EQ(sent->type, "FILE");
  EXPECT_EQ(sent->delivery, "sent");
  ASSERT_TRUE(sent->attachment.has_value());
  EXPECT_EQ(sent->attachment->kind, "file");
  EXPECT_EQ(sent->attachment->file_name, kSecretName);
  EXPECT_EQ(sent->attachment->media_type, "application/pdf");
  EXPECT_EQ(sent->attachment->size, 50u * 1000 * 1000);
  EXPECT_GT(upload_reports, 1);

  MessageInfo got = received_file(alice_->user_id());
  ASSERT_TRUE(got.attachment.has_value());
  EXPECT_EQ(got.message_id, sent->message_id);
  EXPECT_EQ(got.attachment->file_name, kSecretName);
  EXPECT_EQ(got.attachment->size, 50u * 1000 * 1000);
  EXPECT_TRUE(got.attachment->saved_path.empty());
  EXPECT_TRUE(got.text.empty());  // the descriptor (with its key) never shows

  auto saved = bob_->download(alice_->user_id(), got.message_id, downloads_);
  ASSERT_TRUE(saved.ok()) << saved.error().message();
  EXPECT_EQ(*saved, downloads_ / kSecretName);
  EXPECT_TRUE(same_contents(original, *saved));
  EXPECT_TRUE(part_files(downloads_).empty());
  auto history = bob_->history(alice_->user_id());
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->back().attachment->saved_path, saved->string());

  // A second download to the same place never replaces the file.
  auto again = bob_->download(alice_->user_id(), got.message_id, downloads_);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);

  // The relay holds ciphertext only: neither the plaintext nor the file name.
  EXPECT_FALSE(tree_contains(relay_dir_, kMarker));
  EXPECT_FALSE(tree_contains(relay_dir_, kSecretName));
}

TEST_F(ClientAttachments, GroupV2RoundTrip) {
  auto group = alice_->create_group("files club");
  ASSERT_TRUE(group.ok()) << group.error().message();
  ASSERT_TRUE(alice_->invite_to_group(group->group_id, bob_->user_id()).ok());
  ASSERT_TRUE(bob_->sync().ok());
  ASSERT_TRUE(bob_->join_group(group->group_id).ok());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(alice_->sync().ok());
    ASSERT_TRUE(bob_->sync().ok());
  }
  auto found = alice_->find_group(group->group_id);
  ASSERT_TRUE(found.ok());
  auto groups = alice_->groups();
  ASSERT_TRUE(groups.ok());
  ASSERT_EQ(groups->front().protocol, "v2") << groups->front().protocol_reason;

  const fs::path original = files_ / "notes.txt";
  write_file(original, 300000);
  auto sent = alice_->send_group_file(group->group_id, original);
  ASSERT_TRUE(sent.ok()) << sent.error().message();
  EXPECT_EQ(sent->chat_kind, ChatKind::kGroup);

  MessageInfo got = received_file(group->group_id);
  ASSERT_TRUE(got.attachment.has_value());
  EXPECT_EQ(got.from_user_id, alice_->user_id());
  auto saved = bob_->download(group->group_id, got.message_id, downloads_ / "mine.txt");
  ASSERT_TRUE(saved.ok()) << saved.error().message();
  EXPECT_TRUE(same_contents(original, *saved));
}

TEST_F(ClientAttachments, StoppedUploadResumesFromTheRelaysOffset) {
  const fs::path original = files_ / "video.bin";
  write_file(original, 20u * 1000 * 1000);
  auto stop_at_60 = [](const TransferProgress& p) {
    return !(p.phase == Phase::kUploading && p.done_bytes * 10 >= p.total_bytes * 6);
  };
  auto first = alice_->send_file(bob_->user_id(), original, {}, stop_at_60);
  ASSERT_FALSE(first.ok());

  EXPECT_EQ(first.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(first.error().message().find("resume"), std::string::npos);

  auto pending = alice_->pending();
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ(pending->front().message.delivery, "pending");
  ASSERT_TRUE(pending->front().message.attachment.has_value());
  EXPECT_EQ(pending->front().message.attachment->upload_state, "uploading");
  // Nothing reached bob yet.
  ASSERT_TRUE(bob_->sync().ok());
  EXPECT_TRUE(bob_->history(alice_->user_id())->empty());

  std::uint64_t resumed_from = 0, total = 0;
  auto second = alice_->send_file(bob_->user_id(), original, {}, [&](const TransferProgress& p) {
    if (p.phase == Phase::kUploading) {
      resumed_from = p.resumed_from;
      total = p.total_bytes;
    }
    return true;
  });
  ASSERT_TRUE(second.ok()) << second.error().message();
  EXPECT_EQ(second->message_id, pending->front().message.message_id);
  EXPECT_GT(resumed_from, 0u);
  EXPECT_LT(total - resumed_from, total);  // the second run uploaded less than the whole
  EXPECT_TRUE(alice_->pending()->empty());

  MessageInfo got = received_file(alice_->user_id());
  auto saved = bob_->download(alice_->user_id(), got.message_id, downloads_);
  ASSERT_TRUE(saved.ok()) << saved.error().message();
  EXPECT_TRUE(same_contents(original, *saved));
}

TEST_F(ClientAttachments, CancelledUploadLeavesNothingBehind) {
  const fs::path original = files_ / "big.bin";
  write_file(original, 10u * 1000 * 1000);
  auto first = alice_->send_file(bob_->user_id(), original, {}, [](const TransferProgress& p) {
    return p.phase != Phase::kUploading || p.done_bytes == 0;
  });
  ASSERT_FALSE(first.ok());

  auto pending = alice_->pending();
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  ASSERT_TRUE(alice_->cancel_pending(pending->front().message.message_id).ok());
  EXPECT_TRUE(alice_->pending()->empty());
  EXPECT_TRUE(alice_->history(bob_->user_id())->empty());
  // The partial blob is gone from the relay too.
  for (const auto& entry : fs::directory_iterator(relay_dir_ / "blobs")) {
    EXPECT_NE(entry.path().extension(), ".part") << entry.path();
  }
}

TEST_F(ClientAttachments, StoppedDownloadResumesFromThePartFile) {
  const fs::path original = files_ / "album.zip";
  write_file(original, 12u * 1000 * 1000);
  auto sent = alice_->send_file(bob_->user_id(), original);
  ASSERT_TRUE(sent.ok()) << sent.error().message();
  MessageInfo got = received_file(alice_->user_id());

  auto first =
      bob_->download(alice_->user_id(), got.message_id, downloads_, [](const TransferProgress& p) {
        return !(p.phase == Phase::kDownloading && p.done_bytes * 10 >= p.total_bytes * 6);
      });
  ASSERT_FALSE(first.ok());

  EXPECT_EQ(first.error().code(), ErrorCode::kUnavailable);
  const fs::path target = downloads_ / "album.zip";
  EXPECT_FALSE(fs::exists(target));
  const auto parts = part_files(downloads_);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_TRUE(parts[0].filename().string().starts_with("album.zip."));
  EXPECT_GT(fs::file_size(parts[0]), 0u);

  std::uint64_t resumed_from = 0;
  auto second =
      bob_->download(alice_->user_id(), got.message_id, downloads_, [&](const TransferProgress& p) {
        if (p.phase == Phase::kDownloading) resumed_from = p.resumed_from;
        return true;
      });
  ASSERT_TRUE(second.ok()) << second.error().message();
  EXPECT_GT(resumed_from, 0u);
  EXPECT_TRUE(same_contents(original, *second));
  EXPECT_TRUE(part_files(downloads_).empty());
}

// A partial download is tied to its blob: another attachment with the same file name, fetched
// into the same directory, neither resumes from it (which would fail the hash check and
// look like tampering) nor deletes it.
TEST_F(ClientAttachments, APartialDownloadIsNeverResumedIntoAnotherAttachment) {
  const fs::path first_dir = dir_->path() / "first";
  const fs::path second_dir = dir_->path() / "second";
  fs::create_directories(first_dir);
  fs::create_directories(second_dir);
  write_file(first_dir / "report.bin", 3u * 1000 * 1000);
  write_file(second_dir / "report.bin", 2u * 1000 * 1000);
  auto first = alice_->send_file(bob_->user_id(), first_dir / "report.bin");
  ASSERT_TRUE(first.ok()) << first.error().message();
  auto second = alice_->send_file(bob_->user_id(), second_dir / "report.bin");
  ASSERT_TRUE(second.ok()) << second.error().message();
  ASSERT_TRUE(bob_->sync().ok());
  auto history = bob_->history(alice_->user_id());
  ASSERT_TRUE(history.ok());
  std::vector<std::int64_t> ids;
  for (const auto& m : *history) {
    if (m.type == "FILE") ids.push_back(m.message_id);
  }
  ASSERT_EQ(ids.size(), 2u);

  auto stopped =
      bob_->download(alice_->user_id(), ids[0], downloads_, [](const TransferProgress& p) {
        return !(p.phase == Phase::kDownloading && p.done_bytes * 10 >= p.total_bytes * 6);
      });
  ASSERT_FALSE(stopped.ok());
  ASSERT_EQ(part_files(downloads_).size(), 1u);

  auto other = bob_->download(alice_->user_id(), ids[1], downloads_);
  ASSERT_TRUE(other.ok()) << other.error().message();
  EXPECT_TRUE(same_contents(second_dir / "report.bin", *other));
  EXPECT_EQ(part_files(downloads_).size(), 1u);  // the first one's, kept for its resume
}

TEST_F(ClientAttachments, TamperedBlobIsRefusedAndNothingSaved) {
  const fs::path original = files_ / "contract.pdf";
  write_file(original, 500000);
  ASSERT_TRUE(alice_->send_file(bob_->user_id(), original).ok());
  MessageInfo got = received_file(alice_->user_id());
  {
    const fs::path blob = relay_blob();
    std::fstream f(blob, std::ios::binary | std::ios::in | std::ios::out);
    f.seekg(200000);
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x01);
    f.seekp(200000);
    f.write(&c, 1);
  }
  auto saved = bob_->download(alice_->user_id(), got.message_id, downloads_);
  ASSERT_FALSE(saved.ok());
  EXPECT_EQ(saved.error().code(), ErrorCode::kCorrupt) << saved.error().message();
  EXPECT_FALSE(fs::exists(downloads_ / "contract.pdf"));
  EXPECT_TRUE(fs::is_empty(downloads_));  // no partial file either
}

TEST_F(ClientAttachments, TruncatedBlobIsRefusedAndNothingSaved) {
  // Dave reaches the relay through a proxy that cuts every blob after two chunks (at a chunk
  // boundary, Content-Length adjusted): a relay that serves a shortened blob.
  TamperingProxy proxy(server_->port());
  proxy.set_response_rewriter([](std::string_view path, std::string_view,
                                 std::string_view body) -> std::optional<std::string> {
    if (!path.starts_with("/blobs/") || body.size() <= 2 * (65536 + 16)) return std::nullopt;
    return std::string(body.substr(0, 2 * (65536 + 16)));
  });
  auto dave = Client::create_account(dir_->path() / "dave", SecretString("pw dave"),
                                     "http://127.0.0.1:" + std::to_string(proxy.port()), "dave");
  ASSERT_TRUE(dave.ok()) << dave.error().message();
  befriend(*alice_, **dave);
  const fs::path original = files_ / "contract.pdf";
  write_file(original, 3 * 65536);
  auto sent = alice_->send_file((*dave)->user_id(), original);
  ASSERT_TRUE(sent.ok()) << sent.error().message();
  ASSERT_TRUE((*dave)->sync().ok());
  auto saved = (*dave)->download(alice_->user_id(), sent->message_id, downloads_);
  ASSERT_FALSE(saved.ok());
  EXPECT_EQ(saved.error().code(), ErrorCode::kCorrupt) << saved.error().message();
  EXPECT_TRUE(fs::is_empty(downloads_));
}

TEST_F(ClientAttachments, V1FriendGetsAClearRefusal) {
  auto carol = make_client("carol");
  ASSERT_TRUE(carol);
  // Before any sync the friendship is still v1 on alice's side.
  ASSERT_TRUE(alice_->add_friend(carol->user_id()).ok());
  ASSERT_TRUE(carol->sync().ok());
  ASSERT_TRUE(carol->accept(alice_->user_id()).ok());
  auto found = carol->find_friend(alice_->user_id());
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->protocol, "v1");
  const fs::path original = files_ / "a.txt";
  write_file(original, 1000);
  auto sent = carol->send_file(alice_->user_id(), original);
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(sent.error().message().rfind("files need protocol v2", 0), 0u)
      << sent.error().message();
  EXPECT_TRUE(carol->pending()->empty());
  EXPECT_FALSE(fs::exists(relay_dir_ / "blobs") && !fs::is_empty(relay_dir_ / "blobs"));
}

TEST_F(ClientAttachments, PhotoIsReencodedWithoutMetadataAndHasAThumbnail) {
  namespace inputs = secchats::media::testing;
  const auto jpeg = inputs::add_phone_metadata(
      inputs::encode_jpeg(inputs::make_picture(1200, 800, 20, 16), 90), 6);
  const fs::path original = files_ / "IMG_0001.jpeg";
  {
    std::ofstream out(original, std::ios::binary);
    out.write(reinterpret_cast<const char*>(jpeg.data()),
              static_cast<std::streamsize>(jpeg.size()));
  }
  auto sent = alice_->send_file(bob_->user_id(), original);
  ASSERT_TRUE(sent.ok()) << sent.error().message();
  ASSERT_TRUE(sent->attachment.has_value());
  EXPECT_EQ(sent->attachment->kind, "image");
  EXPECT_EQ(sent->attachment->media_type, "image/jpeg");
  EXPECT_EQ(sent->attachment->width, 800u);  // orientation 6: turned upright
  EXPECT_EQ(sent->attachment->height, 1200u);
  EXPECT_FALSE(sent->attachment->thumbnail.empty());
  EXPECT_LE(sent->attachment->thumbnail.size(), 16u * 1024);

  MessageInfo got = received_file(alice_->user_id());
  ASSERT_TRUE(got.attachment.has_value());
  EXPECT_EQ(got.attachment->kind, "image");
  EXPECT_FALSE(got.attachment->thumbnail.empty());
  auto saved = bob_->download(alice_->user_id(), got.message_id, downloads_);
  ASSERT_TRUE(saved.ok()) << saved.error().message();
  EXPECT_EQ(saved->extension(), ".jpg");
  std::ifstream in(*saved, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto gps = inputs::gps_latitude_bytes();
  EXPECT_EQ(bytes.find(std::string(gps.begin(), gps.end())), std::string::npos);
  EXPECT_EQ(bytes.find("Exif"), std::string::npos);
  // The re-encoded copy in the account is gone once the message is sent.
  EXPECT_TRUE(!fs::exists(dir_->path() / "alice" / "uploads") ||
              fs::is_empty(dir_->path() / "alice" / "uploads"));
}

TEST_F(ClientAttachments, EmptyFileAndUnknownMessage) {
  const fs::path empty = files_ / "empty.txt";
  write_file(empty, 0);
  auto sent = alice_->send_file(bob_->user_id(), empty);
  ASSERT_TRUE(sent.ok()) << sent.error().message();
  MessageInfo got = received_file(alice_->user_id());
  auto saved = bob_->download(alice_->user_id(), got.message_id, downloads_);
  ASSERT_TRUE(saved.ok()) << saved.error().message();
  EXPECT_EQ(fs::file_size(*saved), 0u);

  auto unknown = bob_->download(alice_->user_id(), 12345, downloads_);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code(), ErrorCode::kNotFound);
  auto missing = alice_->send_file(bob_->user_id(), files_ / "nope.txt");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace secchats::testing
