// Which storage the relay runs on, chosen by its flags (docs/operations.md "Several relays"):
// SQLite and blob files in --data-dir (the default, one relay), or PostgreSQL for both when
// --storage names a database (several stateless relays on one database).
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "blob/blob_store.hpp"
#include "secchats/common/result.hpp"
#include "storage/storage.hpp"

namespace secchats::server {

struct BackendFlags {
  std::filesystem::path data_dir;  // SQLite database and blobs/ when storage_uri is empty
  std::string storage_uri;         // "" or a postgresql:// / postgres:// libpq URI
  int pg_pool_size = 8;            // read connections of the PostgreSQL storage
};

struct RelayBackend {
  std::unique_ptr<Storage> storage;
  std::unique_ptr<BlobStore> blobs;
  bool postgres = false;
  // The FsBlobStore's directory, for the disk reserve; empty on PostgreSQL, where the
  // database itself answers "disk full" (507).
  std::filesystem::path blob_directory;
  // For the start-up log line: "sqlite DIR" or "postgresql host:port/db" (never credentials).
  std::string description;
};

// Opens storage and the blob store. Errors are one line: kInvalidArgument for a malformed
// --storage (a usage error), kUnavailable naming host:port/db when PostgreSQL cannot be
// reached, else the backend's own error.
Result<RelayBackend> open_relay_backend(const BackendFlags& flags);

// The check for --storage: "" when `uri` is usable, else the one-line reason.
std::string check_storage_uri(const std::string& uri);

}  // namespace secchats::server
