// Blobs in PostgreSQL (protocol-v2 §15.3), for several relays on one database: a blob
// uploaded through one relay downloads through any other, and an upload interrupted on one
// resumes through another. Stored as bytea chunks (each accepted append split into rows of at
// most kPgBlobChunkBytes, TOASTed uncompressed by PostgreSQL) beside a row of state per blob
// (tables: blob/pg_blob_schema.hpp); see docs/operations.md for why the database and not a
// shared directory.
//
// Same contract as BlobStore (blob_store.hpp): append() checks and moves the offset in one
// transaction holding the blob's row lock (a concurrent append to the same blob gets a
// refusal to retry, not a torn write); the append that completes a blob commits it as
// complete, and only complete blobs open. open() returns a range-source BlobReader that
// fetches only the chunk slices each piece needs, on a pooled connection per piece (a blob
// removed or purged during a download ends it with kNotFound, never wrong bytes).
// purge() runs on one relay at a time (pg_try_advisory_xact_lock(kBlobPurgeLockKey)); the
// others' rounds remove nothing. Errors: kNotFound, kInvalidArgument, kRefused (disk
// full on the database, 507), kUnavailable (database unreachable, 503).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "blob/blob_store.hpp"

namespace secchats::server {

// Bounds every statement of the blob store (statement_timeout), so no blob request waits on
// the database forever.
inline constexpr std::chrono::milliseconds kPgBlobStatementTimeout{60000};

struct PgBlobOptions {
  std::string uri;    // libpq connection URI, the same database as the storage backend
  int pool_size = 4;  // connections, opened on demand (pg/pg_pool.hpp)
  std::chrono::milliseconds connect_timeout{5000};
  // Most blobs one retention round deletes (their chunk rows go with them); purge() repeats
  // rounds, each its own transaction, while a round comes back full — as the queue purge.
  int purge_rows = 100;
};

// Connects and creates the blob tables if missing (under the migration advisory lock).
// kUnavailable when the database cannot be reached.
Result<std::unique_ptr<BlobStore>> open_pg_blob_store(const PgBlobOptions& options);

}  // namespace secchats::server
