// The relay's blob store (protocol-v2 §15.3): opaque ciphertext uploaded in pieces at an
// upload offset, readable only once complete. Transport-free and storage-agnostic, so that a
// shared backend (several relays, object storage) can replace the local-disk one later.
//
// The store learns sizes and times only: an owner's user id, the declared length, how far the
// upload got, and when it was created and last written. Never names, types or content.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "secchats/common/result.hpp"

namespace secchats::server {

// 32 random bytes as unpadded base64url: 43 characters. A blob id is a capability (anyone
// holding it may download), so it is unguessable.
std::string make_blob_id();
// True for exactly 43 characters of the base64url alphabet. Checked before an id reaches a
// path, so no id can name another file.
bool is_blob_id(std::string_view id);

struct BlobState {
  std::string owner;            // the uploading user's id
  std::uint64_t length = 0;     // declared ciphertext length (Upload-Length), bytes
  std::uint64_t offset = 0;     // bytes stored so far (Upload-Offset), bytes
  bool complete = false;        // offset == length and durably written: downloadable
  std::int64_t created_ms = 0;  // epoch ms
  std::int64_t updated_ms = 0;  // epoch ms of the last accepted append (completion time)
};

// What append() did. A wrong offset is not an error: the caller learns where to resume.
struct AppendOutcome {
  bool accepted = false;     // false: `offset` was not where the stored copy stops (409)
  std::uint64_t offset = 0;  // where the stored copy stops now, bytes
};

// Reads up to `max_bytes` (> 0) of a blob from byte `offset` (< its length); the bytes, or
// an error (kNotFound when the blob went away meanwhile, kUnavailable for I/O). Returns
// exactly min(max_bytes, length - offset) bytes on success. May block (disk, database): the
// HTTP layer calls it off its connection threads (BlobService::read_piece).
using BlobRangeSource =
    std::function<Result<std::string>(std::uint64_t offset, std::size_t max_bytes)>;

// A complete blob opened for reading, in one of two forms:
//  - a file descriptor (FsBlobStore), served with sendfile(2)/pread(2). Owns the descriptor
//    (closed on destruction); the blob stays readable through it even if it is removed
//    meanwhile.
//  - a range source (PgBlobStore): the HTTP layer asks it for the body in pieces, so memory
//    stays bounded by the piece size whatever the blob's length.
class BlobReader {
 public:
  BlobReader() = default;
  BlobReader(int fd, std::uint64_t length) : fd_(fd), length_(length) {}
  BlobReader(BlobRangeSource source, std::uint64_t length)
      : source_(std::move(source)), length_(length) {}
  ~BlobReader();
  BlobReader(BlobReader&& other) noexcept;
  BlobReader& operator=(BlobReader&& other) noexcept;
  BlobReader(const BlobReader&) = delete;
  BlobReader& operator=(const BlobReader&) = delete;

  // The descriptor, or -1 for a range source.
  int fd() const { return fd_; }
  std::uint64_t length() const { return length_; }
  // Gives up ownership of the descriptor (the caller closes it).
  int release();
  // Up to `max_bytes` from `offset`, from whichever form this reader has: exactly
  // min(max_bytes, length - offset) bytes, or an error (kInvalidArgument when `offset` is
  // not below the length or the reader is empty).
  Result<std::string> read(std::uint64_t offset, std::size_t max_bytes) const;

 private:
  int fd_ = -1;
  BlobRangeSource source_;
  std::uint64_t length_ = 0;
};

struct BlobUsage {
  std::uint64_t bytes = 0;     // complete lengths plus unfinished uploads' declared lengths
  std::size_t unfinished = 0;  // uploads not yet complete
};

// For /varz: counts only.
struct BlobTotals {
  std::uint64_t complete = 0;            // downloadable blobs
  std::uint64_t complete_bytes = 0;      // their bytes
  std::uint64_t unfinished = 0;          // uploads in progress
  std::uint64_t unfinished_bytes = 0;    // bytes those hold so far
  std::uint64_t unfinished_pending = 0;  // bytes those still announce (length - offset)
};

struct BlobPurgeResult {
  std::uint64_t complete_removed = 0;
  std::uint64_t unfinished_removed = 0;
};

// Thread-safe. Errors: kNotFound for an unknown id (or one whose upload was given up),
// kInvalidArgument for an append past the declared length, kRefused when the disk is full
// (the blob layer's "insufficient storage", HTTP 507), kUnavailable for other I/O failures.
class BlobStore {
 public:
  virtual ~BlobStore() = default;

  // A new, empty upload of `length` bytes (> 0) owned by `owner`. Returns its id.
  virtual Result<std::string> create(const std::string& owner, std::uint64_t length) = 0;
  virtual Result<BlobState> state(const std::string& id) = 0;
  // Writes `bytes` at `offset` if that is where the stored copy stops and no other append to
  // the same blob is running. The append that reaches the declared length returns only once
  // the blob is durable and readable.
  virtual Result<AppendOutcome> append(const std::string& id, std::uint64_t offset,
                                       std::string_view bytes) = 0;
  // A complete blob; kNotFound for unknown or unfinished ones.
  virtual Result<BlobReader> open(const std::string& id) = 0;
  virtual Status remove(const std::string& id) = 0;
  virtual BlobUsage usage(const std::string& owner) = 0;
  virtual BlobTotals totals() = 0;
  // Removes complete blobs completed before `complete_before_ms` and unfinished uploads last
  // written before `unfinished_before_ms` (epoch ms; 0 = none).
  virtual BlobPurgeResult purge(std::int64_t complete_before_ms,
                                std::int64_t unfinished_before_ms) = 0;
};

}  // namespace secchats::server
