#include "backend/relay_backend.hpp"

#include "blob/fs_blob_store.hpp"
#include "blob/pg_blob_store.hpp"
#include "storage/postgres/pg_storage.hpp"
#include "storage/postgres/pg_target.hpp"
#include "storage/sqlite/sqlite_storage.hpp"

namespace secchats::server {

namespace {

// The first line of a backend error, prefixed with where we tried to connect.
Error unreachable(const PgTarget& target, const Error& e) {
  std::string reason = e.message();
  reason = reason.substr(0, reason.find('\n'));
  if (e.code() == ErrorCode::kUnavailable) {
    return Error(ErrorCode::kUnavailable,
                 "cannot reach PostgreSQL at " + target.describe() + ": " + reason);
  }
  return Error(e.code(), "PostgreSQL at " + target.describe() + ": " + reason);
}

Result<RelayBackend> open_postgres(const BackendFlags& flags) {
  SC_ASSIGN_OR_RETURN(PgTarget target, parse_pg_target(flags.storage_uri));
  RelayBackend backend;
  backend.postgres = true;
  backend.description = "postgresql " + target.describe();

  PgOptions options;
  options.uri = flags.storage_uri;
  options.pool_size = flags.pg_pool_size;
  auto storage = open_postgres_storage(options);
  if (!storage.ok()) return unreachable(target, storage.error());
  backend.storage = std::move(storage).value();

  PgBlobOptions blob_options;
  blob_options.uri = flags.storage_uri;
  auto blobs = open_pg_blob_store(blob_options);
  if (!blobs.ok()) {
    backend.storage->close();
    return unreachable(target, blobs.error());
  }
  backend.blobs = std::move(blobs).value();
  return backend;
}

}  // namespace

std::string check_storage_uri(const std::string& uri) {
  auto target = parse_pg_target(uri);
  return target.ok() ? std::string() : target.error().message();
}

Result<RelayBackend> open_relay_backend(const BackendFlags& flags) {
  if (!flags.storage_uri.empty()) return open_postgres(flags);
  RelayBackend backend;
  SC_ASSIGN_OR_RETURN(backend.storage, open_sqlite_storage({flags.data_dir}));
  backend.blob_directory = flags.data_dir / "blobs";
  auto blobs = FsBlobStore::open(backend.blob_directory);
  if (!blobs.ok()) {
    backend.storage->close();
    return blobs.error();
  }
  backend.blobs = std::move(blobs).value();
  backend.description = "sqlite " + flags.data_dir.string();
  return backend;
}

}  // namespace secchats::server
