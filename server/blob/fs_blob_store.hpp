// BlobStore on the local file system, under <data-dir>/blobs/ (not in the database).
//
// Per blob, named by its id:
//   <id>.meta  owner id, declared length, creation time; written once (temp file, fsync,
//              rename, directory fsync) before the upload is announced
//   <id>.part  the upload so far; each append is fdatasync'ed before it is acknowledged
//   <id>.blob  the complete blob: the .part renamed after fsync, then the directory fsync'ed
// Only a .blob is ever served, so a crash (kill -9, power cut) never leaves a half blob
// readable; an upload that was cut off resumes from its .part's size after a restart.
//
// An in-memory index, rebuilt by scanning the directory at open(), answers state, usage and
// totals; its mutex is never held during a blob's file I/O.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "blob/blob_store.hpp"

namespace secchats::server {

class FsBlobStore final : public BlobStore {
 public:
  // Creates `directory` if needed and indexes what it holds: complete blobs, unfinished
  // uploads (offset = the .part's size), and removes debris (a .part or .blob without its
  // .meta, a .meta without either, temp files).
  static Result<std::unique_ptr<FsBlobStore>> open(const std::filesystem::path& directory);

  Result<std::string> create(const std::string& owner, std::uint64_t length) override;
  Result<BlobState> state(const std::string& id) override;
  Result<AppendOutcome> append(const std::string& id, std::uint64_t offset,
                               std::string_view bytes) override;
  Result<BlobReader> open(const std::string& id) override;
  Status remove(const std::string& id) override;
  BlobUsage usage(const std::string& owner) override;
  BlobTotals totals() override;
  BlobPurgeResult purge(std::int64_t complete_before_ms,
                        std::int64_t unfinished_before_ms) override;

  const std::filesystem::path& directory() const { return dir_; }

 private:
  struct Entry {
    BlobState state;
    bool appending = false;  // an append() is writing the .part
  };

  explicit FsBlobStore(std::filesystem::path dir) : dir_(std::move(dir)) {}
  Status scan();
  std::filesystem::path path(const std::string& id, const char* suffix) const;
  // Index bookkeeping; the caller holds mutex_.
  void add_locked(const std::string& id, const BlobState& state);
  void drop_locked(const std::string& id, const BlobState& state);
  void unlink_files(const std::string& id) const;

  std::filesystem::path dir_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  std::unordered_map<std::string, BlobUsage> usage_;  // by owner
  BlobTotals totals_;
};

}  // namespace secchats::server
