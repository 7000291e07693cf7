// `secchats-server migrate --from DATA_DIR --to postgresql://...`: moves a stopped SQLite
// relay's users, groups, queue items, group messages (with their timestamps), its clock and
// its complete blobs into an empty PostgreSQL database, for the PostgreSQL backend
// (storage/postgres/pg_storage.hpp) and blob store (blob/pg_blob_store.hpp). See
// docs/operations.md "Moving a relay from SQLite to PostgreSQL".
//
// Rules:
//  - Checks the URI's syntax first (kInvalidArgument; the message never repeats the URI).
//  - Refuses (ErrorCode::kRefused, nothing changed — not even schema tables) when the target
//    schema holds a table that is not a relay's, or relay-named tables without
//    schema_version (checked before anything is created).
//  - Refuses (ErrorCode::kRefused, nothing changed) while a relay holds DATA_DIR/relay.db
//    (a process holding SQLite's file locks on it), when the target already holds users,
//    groups, items, messages or blobs (no silent merge), and when relay.db carries a schema
//    version this binary does not know.
//  - Every row and blob is copied in ONE PostgreSQL transaction, counted and checked (row
//    counts, newest timestamps, blob bytes) before COMMIT: a failure at any point leaves the
//    target as it was (the schema migrations, applied first, aside).
//  - The target's clock becomes the maximum of both clocks and every copied timestamp, so a
//    relay on PostgreSQL stamps new items above everything migrated.
//  - Unfinished blob uploads are not moved (their clients restart them); they are counted.
//  - Progress and summary carry counts only: never ids, tokens or payloads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "secchats/common/result.hpp"

namespace secchats::server {

struct MigrateOptions {
  std::filesystem::path data_dir;  // the SQLite relay's --data-dir (relay.db, blobs/)
  std::string target_uri;          // libpq connection URI of the target database
  // One line of progress at a time (counts only); may be empty.
  std::function<void(std::string_view)> progress;
  // Rows between two progress lines.
  std::int64_t progress_every = 50000;
};

struct MigrateSummary {
  std::int64_t users = 0;
  std::int64_t groups = 0;
  std::int64_t queue_items = 0;
  std::int64_t group_messages = 0;
  std::int64_t blobs = 0;               // complete blobs copied
  std::int64_t blob_bytes = 0;          // their total length, bytes
  std::int64_t unfinished_uploads = 0;  // left behind
  std::int64_t newest_timestamp = 0;    // newest copied item/message timestamp (0: none)
  std::int64_t target_clock = 0;        // the target clock's last_ts after the copy
};

// Errors: kRefused (see above; nothing changed), kInvalidArgument (no relay.db under
// data_dir, or text PostgreSQL cannot store), kUnavailable (target unreachable or the
// connection broke: rolled back), kCorrupt (a count check failed: rolled back), kInternal.
Result<MigrateSummary> migrate_sqlite_to_postgres(const MigrateOptions& options);

// The `migrate` subcommand: argv[0] is "migrate". Exit status 0 on success (summary on
// stdout), 2 for a refusal or bad usage (one line on stderr, nothing changed), 1 for a
// failure (one line on stderr, target rolled back).
int run_migrate_command(int argc, char** argv);

}  // namespace secchats::server
