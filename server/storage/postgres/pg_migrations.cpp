#include "storage/postgres/pg_migrations.hpp"

#include <string>

#include "storage/postgres/pg_storage.hpp"
#include "storage/postgres/schema.hpp"

namespace secchats::server {
namespace {

namespace sql = postgres::sql;
using pg::PgConnection;
using pg::PgParam;

Result<std::int64_t> migrate_locked(PgConnection& conn) {
  SC_TRY(conn.exec(sql::kCreateVersionTable));
  SC_ASSIGN_OR_RETURN(auto rows, conn.exec(sql::kSelectVersion));
  std::int64_t version = 0;
  if (rows.rows() > 0) {
    SC_ASSIGN_OR_RETURN(version, rows.int64(0, 0));
  }
  const std::int64_t latest = latest_postgres_schema_version();
  if (version > latest) {
    return Error(ErrorCode::kInternal, "database schema v" + std::to_string(version) +
                                           " is newer than this server (v" +
                                           std::to_string(latest) + "); upgrade the server");
  }
  for (; version < latest; ++version) {
    SC_TRY(conn.exec(sql::kBegin));
    auto step = conn.exec(sql::kMigrations[static_cast<std::size_t>(version)]);
    if (step.ok()) {
      const std::string next = std::to_string(version + 1);
      step = conn.exec(version == 0 ? sql::kInsertVersion : sql::kUpdateVersion,
                       {PgParam::text(next)});
    }
    if (step.ok()) step = conn.exec(sql::kCommit);
    if (!step.ok()) {
      (void)conn.exec(sql::kRollback);
      if (step.error().code() == ErrorCode::kUnavailable) return std::move(step).error();
      return Error(ErrorCode::kInternal, "migration to schema v" + std::to_string(version + 1) +
                                             " failed: " + step.error().message());
    }
  }
  return version;
}

}  // namespace

std::int64_t latest_postgres_schema_version() {
  return static_cast<std::int64_t>(sql::kMigrations.size());
}

Result<std::int64_t> apply_postgres_migrations(PgConnection& conn) {
  const std::string key = std::to_string(kMigrationLockKey);
  SC_TRY(conn.exec(sql::kAdvisoryLock, {PgParam::text(key)}));
  auto result = migrate_locked(conn);
  // Session locks outlive transactions; a broken connection released it already.
  if (conn.healthy()) (void)conn.exec(sql::kAdvisoryUnlock, {PgParam::text(key)});
  return result;
}

}  // namespace secchats::server
