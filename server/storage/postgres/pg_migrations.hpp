// Schema migrations of the PostgreSQL backend (schema.hpp), applied under
// pg_advisory_lock(kMigrationLockKey) so relays starting together apply each one exactly once
// (PostgreSQL docs, "Advisory Locks"). Used by open_postgres_storage and
// `secchats-server migrate`.
#pragma once

#include <cstdint>

#include "pg/pg_connection.hpp"
#include "secchats/common/result.hpp"

namespace secchats::server {

// Brings the database on `conn` to the newest schema version; returns that version. Blocks
// while another relay holds the migration lock. kInternal if the database carries a newer
// schema than this server knows, or a migration fails (that migration is rolled back);
// kUnavailable if the connection breaks. The session lock is released before returning.
Result<std::int64_t> apply_postgres_migrations(pg::PgConnection& conn);

// The version this server's migrations end at.
std::int64_t latest_postgres_schema_version();

}  // namespace secchats::server
