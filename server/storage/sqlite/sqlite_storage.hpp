// Embedded SQLite backend: WAL mode, synchronous=FULL, one writer thread that commits
// concurrent submissions together (group commit), and a pool of read-only connections.
#pragma once

#include <filesystem>
#include <memory>

#include "storage/storage.hpp"

namespace secchats::server {

struct SqliteOptions {
  std::filesystem::path data_dir;
  // Most write operations one transaction may carry; bounds the latency one fsync adds.
  int max_batch = 512;
  // FULL: a 200 means the item survives power loss. NORMAL is only for benchmarks.
  bool synchronous_full = true;
  // Log size (4 KiB pages) that triggers a checkpoint on the checkpointer thread: 32 MiB.
  // Larger than SQLite's default so a page written by many commits is copied back once.
  int checkpoint_pages = 8192;
};

// Creates the data directory if needed, applies pending schema migrations, starts the writer.
Result<std::unique_ptr<Storage>> open_sqlite_storage(const SqliteOptions& options);

}  // namespace secchats::server
