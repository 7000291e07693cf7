// The PostgreSQL blob store's tables (docs/operations.md "Several relays").
// Created by open_pg_blob_store() with CREATE ... IF NOT EXISTS inside
// pg_advisory_xact_lock(kMigrationLockKey), so relays starting together (and the storage
// backend's own migrations, which take the same lock) never race on the catalog. Kept apart
// from the storage backend's versioned migrations: these tables are the blob store's alone.
//
//   blobs        one row per blob or upload: owner's user id, declared length (bytes),
//                bytes stored so far, complete flag, created/updated epoch ms. Sizes and
//                times only, like the file store's sidecar.
//   blob_chunks  the ciphertext in rows of at most kPgBlobChunkBytes, keyed by the byte
//                offset they start at; contiguous from 0 up to blobs.stored. Deleted with
//                their blob (ON DELETE CASCADE). STORAGE EXTERNAL: ciphertext does not
//                compress, and uncompressed TOAST lets substring() fetch only the slices a
//                download piece needs (PostgreSQL docs, "TOAST", §73.2).
#pragma once

#include <cstddef>
#include <string_view>

namespace secchats::server {

// The largest chunk row, bytes: an append is split into rows of this size, which bounds what
// a ranged read touches beyond the bytes it returns.
inline constexpr std::size_t kPgBlobChunkBytes = std::size_t{1} << 20;

inline constexpr std::string_view kPgBlobSchema = R"sql(
CREATE TABLE IF NOT EXISTS blobs (
  id         text PRIMARY KEY,
  owner      text NOT NULL,
  length     bigint NOT NULL CHECK (length > 0),
  stored     bigint NOT NULL DEFAULT 0 CHECK (stored >= 0 AND stored <= length),
  complete   boolean NOT NULL DEFAULT false,
  created_ms bigint NOT NULL,
  updated_ms bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS blobs_by_owner ON blobs (owner);
CREATE INDEX IF NOT EXISTS blobs_by_age ON blobs (complete, updated_ms);
CREATE TABLE IF NOT EXISTS blob_chunks (
  blob_id text NOT NULL REFERENCES blobs (id) ON DELETE CASCADE,
  pos     bigint NOT NULL CHECK (pos >= 0),
  data    bytea NOT NULL,
  PRIMARY KEY (blob_id, pos)
);
ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
)sql";

}  // namespace secchats::server
