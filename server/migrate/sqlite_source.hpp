// The source side of `migrate` (migrate.hpp): a stopped SQLite relay's relay.db, opened so
// that no relay can start on it while it is read.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>

#include "secchats/common/result.hpp"
#include "storage/sqlite/sqlite_db.hpp"

namespace secchats::server::migrate {

// The pid of another process that holds SQLite's locks on `db` (the lock bytes of the main
// file, or the WAL index's locks in `db`-shm, which every open connection of a relay keeps),
// or 0 when none does (SQLite docs, "File Locking And Concurrency", "Write-Ahead Logging").
pid_t sqlite_lock_holder(const std::filesystem::path& db);

// Opens `db` in exclusive locking mode and starts a read transaction: SQLite then holds an
// exclusive lock on the file until the connection closes, so a relay started meanwhile fails
// to open it instead of writing behind the copy. kRefused when another process holds it;
// kRefused when the schema version is not the one this binary reads.
Result<std::unique_ptr<sqlite::Connection>> open_source_exclusive(const std::filesystem::path& db);

// One integer from a single-row query.
Result<std::int64_t> sqlite_scalar(sqlite::Connection& db, std::string_view sql);

}  // namespace secchats::server::migrate
