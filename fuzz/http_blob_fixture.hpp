// The /blobs side of fuzz_http_handler: a real FsBlobStore and BlobService in the fixture's
// temp dir, two seed blobs with fixed ids that the committed corpus names, and the checks a
// /blobs reply must pass (protocol-v2 §15.3).
//
// Every input starts from the same blob state: after each one, the blobs it created are
// removed and the seeds are put back if it deleted or advanced them. That keeps runs
// deterministic (libFuzzer's coverage stays meaningful) and the disk use bounded by what a
// single input can create (at most the quota, a few MiB).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/router.hpp"
#include "blob/fs_blob_store.hpp"
#include "service/blob_service.hpp"
#include "storage/storage.hpp"

namespace secchats::fuzz {

// 43 base64url characters each (a valid blob id), owned by the fixture's seed user.
inline constexpr std::string_view kSeedCompleteId = "fuzz-seed-complete-blob-0000000000000000000";
inline constexpr std::string_view kSeedUploadId = "fuzz-seed-upload-blob-000000000000000000000";
inline constexpr std::uint64_t kSeedCompleteLength = 1000;  // bytes, downloadable
inline constexpr std::uint64_t kSeedUploadLength = 300;     // bytes declared (Upload-Length)
inline constexpr std::uint64_t kSeedUploadOffset = 100;     // bytes stored so far

// Byte `i` of the seed blobs' content (the complete blob, and the upload's first bytes).
char seed_byte(std::uint64_t i);

// A BlobStore that forwards to an FsBlobStore which can be replaced between inputs, so that
// the BlobService (and its thread pool) and the router outlive a reset.
class ResettableBlobStore final : public server::BlobStore {
 public:
  void replace(std::unique_ptr<server::FsBlobStore> store) { inner_ = std::move(store); }
  server::FsBlobStore& inner() { return *inner_; }

  Result<std::string> create(const std::string& owner, std::uint64_t length) override;
  Result<server::BlobState> state(const std::string& id) override;
  Result<server::AppendOutcome> append(const std::string& id, std::uint64_t offset,
                                       std::string_view bytes) override;
  Result<server::BlobReader> open(const std::string& id) override;
  Status remove(const std::string& id) override;
  server::BlobUsage usage(const std::string& owner) override;
  server::BlobTotals totals() override;
  server::BlobPurgeResult purge(std::int64_t complete_before_ms,
                                std::int64_t unfinished_before_ms) override;

 private:
  std::unique_ptr<server::FsBlobStore> inner_;
};

class BlobFixture {
 public:
  // Small limits: 1 MiB per blob, a 4 MiB quota, 8 unfinished uploads, disk always plenty.
  static constexpr std::uint64_t kMaxBlobBytes = std::uint64_t{1} << 20;
  static constexpr std::uint64_t kQuotaBytes = std::uint64_t{4} << 20;

  // The store lives in `directory` (created; its contents are the fixture's). Failures abort.
  BlobFixture(std::filesystem::path directory, server::Storage& storage, std::string seed_owner);
  ~BlobFixture();

  server::BlobService& service() { return *service_; }

  // Notes a reply to `method` `path`: a 201 from POST /blobs names a blob to remove later.
  void note_reply(std::string_view method, std::string_view path, const server::HttpReply& reply);
  // After an input: removes the blobs it created and puts the seeds back if it changed them.
  void restore();

 private:
  // Empties the directory, writes the seed files and opens a fresh FsBlobStore on them.
  void reset();
  bool seeds_intact();

  std::filesystem::path dir_;
  std::string owner_;
  ResettableBlobStore store_;
  std::unique_ptr<server::BlobService> service_;
  std::vector<std::string> created_;
};

// The checks on a /blobs reply beyond the status: "" when it passes, else what is wrong.
// 201 names a valid id in JSON and Location; 206 has a Content-Range that matches its file
// body; a GET file body can be read back whole from its descriptor (its length is what the
// transport sends as Content-Length); the seed blob's bytes are its known content; 204 has no
// body; 409 and PATCH's 204 carry Upload-Offset; HEAD's 200 Upload-Offset <= Upload-Length;
// 416 carries "bytes */<length>".
std::string check_blob_reply(std::string_view method, std::string_view path,
                             const server::HttpReply& reply);

}  // namespace secchats::fuzz
