// The relay's blob endpoints without HTTP (protocol-v2 §15.3): authenticates the owner like
// the JSON endpoints, enforces the blob limits, and runs the store's file I/O on its own
// small thread pool so that fsync never stalls the connections' threads.
//
// Errors (ErrorCode -> the status the router answers):
//   kInvalidArgument 400 (a malformed header, an append past Upload-Length)
//   kUnauthenticated 401 (missing or wrong X-Secchats-User / Authorization: Bearer)
//   kNotFound        404 (unknown, expired, unfinished on open(), or not the caller's)
//   kTooLarge        413 (Upload-Length over --max-blob-bytes)
//   kRateLimited     429 (too many unfinished uploads)
//   kRefused         507 (the user's quota or the relay's disk reserve would be exceeded)
//   kUnavailable     503 (I/O failure)
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "blob/blob_store.hpp"
#include "secchats/common/result.hpp"
#include "storage/storage.hpp"

namespace secchats::server {

struct BlobLimits {
  std::uint64_t max_blob_bytes = std::uint64_t{100} << 20;  // per blob (Upload-Length), bytes
  std::uint64_t quota_bytes = std::uint64_t{1} << 30;       // per user, unfinished counted in full
  // Disk space kept free on the blob directory's file system, bytes (not checked without a
  // directory: see BlobService's constructor).
  std::uint64_t min_free_bytes = std::uint64_t{256} << 20;
  std::size_t max_unfinished_uploads = 8;                             // per user
  std::chrono::milliseconds unfinished_idle{std::chrono::hours(24)};  // then purged
  std::chrono::milliseconds max_age{std::chrono::hours(24 * 30)};     // 0 = keep forever
};

// The upload credentials as the request carried them (absent headers are nullopt).
struct BlobCredentials {
  std::optional<std::string> user_id;        // X-Secchats-User
  std::optional<std::string> authorization;  // Authorization: "Bearer <authToken>"
};

// Counts only, for /varz.
struct BlobStats {
  BlobTotals totals;
  std::uint64_t bytes_uploaded = 0;        // accepted by PATCH
  std::uint64_t bytes_downloaded = 0;      // handed to the transport by GET
  std::uint64_t too_large = 0;             // 413s
  std::uint64_t insufficient_storage = 0;  // 507s
  std::uint64_t purged = 0;                // blobs and uploads removed by retention
};

class BlobService {
 public:
  // Free bytes on the blob store's file system, or an error (then the reserve is not checked).
  using FreeSpace = std::function<Result<std::uint64_t>()>;

  // `free_space` defaults to statvfs(2) on `blob_directory`. With neither (an empty
  // directory and no `free_space`: a store without a directory, like PgBlobStore) the
  // min_free_bytes reserve is not checked; the store reports a full disk itself (kRefused,
  // 507; PostgreSQL's SQLSTATE 53100).
  BlobService(BlobStore& store, Storage& storage, BlobLimits limits, std::string blob_directory,
              FreeSpace free_space = {});
  ~BlobService();
  BlobService(const BlobService&) = delete;
  BlobService& operator=(const BlobService&) = delete;

  // POST /blobs with Upload-Length (decimal bytes). Returns the new blob id.
  boost::asio::awaitable<Result<std::string>> create(BlobCredentials credentials,
                                                     std::optional<std::string> upload_length);
  // HEAD /blobs/<id>: the caller's upload (its offset and length).
  boost::asio::awaitable<Result<BlobState>> state(BlobCredentials credentials, std::string id);
  // PATCH /blobs/<id> with Upload-Offset (decimal bytes) and the bytes from there. A wrong
  // offset is `accepted == false` with the right one (409); the completing PATCH returns
  // once the blob is durable.
  boost::asio::awaitable<Result<AppendOutcome>> append(BlobCredentials credentials, std::string id,
                                                       std::optional<std::string> upload_offset,
                                                       std::string bytes);
  // GET /blobs/<id>: anyone with the id; complete blobs only.
  boost::asio::awaitable<Result<BlobReader>> open(std::string id);
  // A piece of an opened blob for GET: BlobReader::read on the I/O pool (a range source may
  // query the database). Exactly min(max_bytes, length - offset) bytes, or its error.
  boost::asio::awaitable<Result<std::string>> read_piece(std::shared_ptr<const BlobReader> reader,
                                                         std::uint64_t offset,
                                                         std::size_t max_bytes);
  // DELETE /blobs/<id>: the caller's blob or upload.
  boost::asio::awaitable<Status> remove(BlobCredentials credentials, std::string id);

  void count_downloaded(std::uint64_t bytes);
  BlobStats stats();
  const BlobLimits& limits() const { return limits_; }

  // Removes expired blobs (max_age after completion) and idle uploads now (blocking).
  BlobPurgeResult purge_now();
  // purge_now() on the I/O pool every `interval`, the first time at once; stop() ends it.
  // The purger's timer lives on `executor`: its io_context must outlive this BlobService.
  void start_purging(boost::asio::any_io_executor executor, std::chrono::milliseconds interval);
  void stop();

 private:
  struct Purger;
  Result<std::string> authenticate(const BlobCredentials& credentials);
  Result<std::string> owned(const BlobCredentials& credentials, const std::string& id);
  Result<std::string> admit(const std::string& owner, std::uint64_t length);
  template <typename T>
  Result<T> counted(Result<T> result);

  BlobStore& store_;
  Storage& storage_;
  BlobLimits limits_;
  std::string directory_;
  FreeSpace free_space_;
  std::mutex admit_mutex_;  // makes create()'s checks and the creation one step
  boost::asio::thread_pool io_pool_{2};
  std::shared_ptr<Purger> purger_;
  std::atomic<std::uint64_t> bytes_uploaded_{0}, bytes_downloaded_{0}, too_large_{0},
      insufficient_storage_{0}, purged_{0};
};

}  // namespace secchats::server
