// Test helpers shared by the blob store tests: where a store under test keeps its data (a
// temp dir, or a fresh database on the shared throwaway PostgreSQL cluster), and readers.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <ostream>
#include <string>

#include "blob/blob_store.hpp"
#include "blob/fs_blob_store.hpp"
#include "blob/pg_blob_store.hpp"
#include "support/pg_cluster.hpp"
#include "support/temp_dir.hpp"

namespace secchats::testing {

enum class StoreKind { kFileSystem, kPostgres };

inline std::string store_name(StoreKind kind) {
  return kind == StoreKind::kFileSystem ? "FileSystem" : "Postgres";
}
// For gtest's test names and messages (instead of the enum's bytes).
inline void PrintTo(StoreKind kind, std::ostream* os) {
  *os << store_name(kind);
}

// The data behind a store; open() may be called again for a restarted relay or another one.
class StoreBacking {
 public:
  virtual ~StoreBacking() = default;
  virtual Result<std::unique_ptr<server::BlobStore>> open() = 0;
};

class FsBacking final : public StoreBacking {
 public:
  Result<std::unique_ptr<server::BlobStore>> open() override {
    auto store = server::FsBlobStore::open(dir_.path() / "blobs");
    if (!store.ok()) return std::move(store).error();
    return std::unique_ptr<server::BlobStore>(std::move(*store));
  }
  std::filesystem::path directory() const { return dir_.path() / "blobs"; }

 private:
  TempDir dir_{"secchats-blobs"};
};

class PgBacking final : public StoreBacking {
 public:
  PgBacking() : uri_(PgCluster::shared().create_database()) {}
  Result<std::unique_ptr<server::BlobStore>> open() override {
    server::PgBlobOptions options;
    options.uri = uri_;
    return server::open_pg_blob_store(options);
  }
  const std::string& uri() const { return uri_; }

 private:
  std::string uri_;
};

inline std::unique_ptr<StoreBacking> make_backing(StoreKind kind) {
  if (kind == StoreKind::kFileSystem) return std::make_unique<FsBacking>();
  return std::make_unique<PgBacking>();
}

// The whole blob through BlobReader::read, in 64 KiB pieces.
inline std::string read_all(const server::BlobReader& reader) {
  std::string out;
  while (out.size() < reader.length()) {
    auto piece = reader.read(out.size(), 64 << 10);
    if (!piece.ok() || piece->empty()) break;
    out += *piece;
  }
  return out;
}

// Deterministic bytes: byte i of a test blob is pattern_byte(i), so a test can check any
// range of a large blob without keeping a copy.
inline char pattern_byte(std::uint64_t i) {
  return static_cast<char>((i * 2654435761u >> 13) & 0xff);
}
inline std::string pattern(std::uint64_t offset, std::size_t length) {
  std::string out(length, '\0');
  for (std::size_t i = 0; i < length; ++i)
    out[i] = pattern_byte(offset + i);
  return out;
}

}  // namespace secchats::testing
