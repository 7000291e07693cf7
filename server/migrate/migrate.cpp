#include "migrate/migrate.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "blob/fs_blob_store.hpp"
#include "blob/pg_blob_schema.hpp"
#include "migrate/sqlite_source.hpp"
#include "pg/pg_connection.hpp"
#include "pg/pg_pipeline.hpp"
#include "storage/postgres/pg_migrations.hpp"
#include "storage/postgres/pg_storage.hpp"
#include "storage/postgres/pg_text.hpp"
#include "storage/postgres/schema.hpp"

namespace secchats::server {
namespace {

namespace fs = std::filesystem;
using pg::PgConnection;
using pg::PgParam;

// Statements per pipeline round trip while copying rows.
constexpr std::size_t kPipelineStatements = 500;

PgParam text_or_null(const std::optional<std::string>& v) {
  return v ? PgParam::text(*v) : PgParam::null();
}

// Rows go to PostgreSQL through pipelines of kPipelineStatements inserts, inside the one
// transaction of the copy.
class RowWriter {
 public:
  explicit RowWriter(PgConnection& conn) : conn_(conn) {}

  Status add(std::string_view sql, const std::vector<PgParam>& params) {
    pipeline_.add(sql, params);
    if (pipeline_.size() >= kPipelineStatements) return flush();
    return ok_status();
  }

  Status flush() {
    if (pipeline_.size() == 0) return ok_status();
    SC_ASSIGN_OR_RETURN(auto results, pipeline_.run(conn_));
    for (auto& r : results) {
      if (!r.ok()) return std::move(r).error();
      if (r->affected() != 1) return Error(ErrorCode::kInternal, "an insert stored no row");
    }
    return ok_status();
  }

 private:
  PgConnection& conn_;
  pg::PgPipeline pipeline_;
};

Error not_text(const char* what) {
  return Error(ErrorCode::kInvalidArgument,
               std::string("a ") + what +
                   " holds text PostgreSQL cannot store (a NUL byte or invalid UTF-8); nothing "
                   "was migrated");
}

bool all_text(std::initializer_list<const std::optional<std::string>*> values) {
  return std::all_of(values.begin(), values.end(),
                     [](const auto* v) { return !*v || postgres::valid_text(**v); });
}

struct SourceCounts {
  std::int64_t users = 0, groups = 0, queue_items = 0, group_messages = 0;
  std::int64_t clock = 0, newest = 0;
};

Result<SourceCounts> source_counts(sqlite::Connection& db) {
  SourceCounts c;
  SC_ASSIGN_OR_RETURN(c.users, migrate::sqlite_scalar(db, "SELECT count(*) FROM users"));
  SC_ASSIGN_OR_RETURN(c.groups, migrate::sqlite_scalar(db, "SELECT count(*) FROM groups"));
  SC_ASSIGN_OR_RETURN(c.queue_items,
                      migrate::sqlite_scalar(db, "SELECT count(*) FROM queue_items"));
  SC_ASSIGN_OR_RETURN(c.group_messages,
                      migrate::sqlite_scalar(db, "SELECT count(*) FROM group_messages"));
  SC_ASSIGN_OR_RETURN(c.clock, migrate::sqlite_scalar(db, "SELECT last_ts FROM clock"));
  SC_ASSIGN_OR_RETURN(
      c.newest, migrate::sqlite_scalar(db,
                                       "SELECT max(COALESCE((SELECT max(ts) FROM queue_items), 0), "
                                       "COALESCE((SELECT max(ts) FROM group_messages), 0))"));
  return c;
}

class Copier {
 public:
  Copier(const MigrateOptions& options, sqlite::Connection& src, PgConnection& dst)
      : options_(options), src_(src), dst_(dst), writer_(dst) {}

  void progress(const std::string& line) const {
    if (options_.progress) options_.progress(line);
  }

  void tick(const char* what, std::int64_t done, std::int64_t total) const {
    if (done == total || (options_.progress_every > 0 && done % options_.progress_every == 0))
      progress(std::string("migrate: ") + what + " " + std::to_string(done) + "/" +
               std::to_string(total));
  }

  Result<std::int64_t> users(std::int64_t total) {
    SC_ASSIGN_OR_RETURN(auto stmt, src_.prepare("SELECT id, token_hash, created_ms FROM users"));
    std::int64_t n = 0;
    for (;;) {
      SC_ASSIGN_OR_RETURN(bool row, stmt.step());
      if (!row) break;
      std::optional<std::string> id = stmt.column_text(0);
      if (!all_text({&id})) return not_text("user id");
      auto hash = stmt.column_blob(1);
      std::string hash_bytes(reinterpret_cast<const char*>(hash.data()), hash.size());
      std::string created = std::to_string(stmt.column_int(2));
      SC_TRY(writer_.add("INSERT INTO users (id, token_hash, created_ms) VALUES ($1, $2, $3)",
                         {PgParam::text(*id), PgParam::bytes(hash_bytes), PgParam::text(created)}));
      tick("users", ++n, total);
    }
    SC_TRY(writer_.flush());
    return n;
  }

  Result<std::int64_t> groups(std::int64_t total) {
    SC_ASSIGN_OR_RETURN(auto stmt, src_.prepare("SELECT id, created_ms FROM groups"));
    std::int64_t n = 0;
    for (;;) {
      SC_ASSIGN_OR_RETURN(bool row, stmt.step());
      if (!row) break;
      std::optional<std::string> id = stmt.column_text(0);
      if (!all_text({&id})) return not_text("group id");
      std::string created = std::to_string(stmt.column_int(1));
      SC_TRY(writer_.add("INSERT INTO groups (id, created_ms) VALUES ($1, $2)",
                         {PgParam::text(*id), PgParam::text(created)}));
      tick("groups", ++n, total);
    }
    SC_TRY(writer_.flush());
    return n;
  }

  Result<std::int64_t> queue_items(std::int64_t total) {
    SC_ASSIGN_OR_RETURN(auto stmt, src_.prepare("SELECT recipient_id, ts, kind, sender_id, "
                                                "group_id, protocol, payload FROM queue_items "
                                                "ORDER BY ts"));
    std::int64_t n = 0;
    for (;;) {
      SC_ASSIGN_OR_RETURN(bool row, stmt.step());
      if (!row) break;
      std::optional<std::string> recipient = stmt.column_text(0), sender = stmt.column_text(3);
      auto group = stmt.column_opt_text(4), protocol = stmt.column_opt_text(5),
           payload = stmt.column_opt_text(6);
      if (!all_text({&recipient, &sender, &group, &protocol, &payload}))
        return not_text("queue item");
      std::string ts = std::to_string(stmt.column_int(1));
      std::string kind = std::to_string(stmt.column_int(2));
      SC_TRY(writer_.add(
          "INSERT INTO queue_items (recipient_id, ts, kind, sender_id, group_id, protocol, "
          "payload) VALUES ($1, $2, $3, $4, $5, $6, $7)",
          {PgParam::text(*recipient), PgParam::text(ts), PgParam::text(kind),
           PgParam::text(*sender), text_or_null(group), text_or_null(protocol),
           text_or_null(payload)}));
      tick("queue items", ++n, total);
    }
    SC_TRY(writer_.flush());
    return n;
  }

  Result<std::int64_t> group_messages(std::int64_t total) {
    SC_ASSIGN_OR_RETURN(auto stmt, src_.prepare("SELECT group_id, ts, sender_id, payload FROM "
                                                "group_messages ORDER BY ts"));
    std::int64_t n = 0;
    for (;;) {
      SC_ASSIGN_OR_RETURN(bool row, stmt.step());
      if (!row) break;
      std::optional<std::string> group = stmt.column_text(0), sender = stmt.column_text(2);
      auto payload = stmt.column_opt_text(3);
      if (!all_text({&group, &sender, &payload})) return not_text("group message");
      std::string ts = std::to_string(stmt.column_int(1));
      SC_TRY(writer_.add(
          "INSERT INTO group_messages (group_id, ts, sender_id, payload) VALUES ($1, $2, $3, $4)",
          {PgParam::text(*group), PgParam::text(ts), PgParam::text(*sender),
           text_or_null(payload)}));
      tick("group messages", ++n, total);
    }
    SC_TRY(writer_.flush());
    return n;
  }

  // Complete blobs keep their ids (clients hold them in messages), owner and times; the
  // bytes go in chunk rows as PgBlobStore writes them.
  Status blobs(BlobStore& store, const std::vector<std::string>& ids, MigrateSummary& out) {
    std::int64_t n = 0;
    for (const auto& id : ids) {
      SC_ASSIGN_OR_RETURN(BlobState st, store.state(id));
      if (!postgres::valid_text(st.owner)) return not_text("blob owner");
      SC_ASSIGN_OR_RETURN(BlobReader reader, store.open(id));
      const std::string length = std::to_string(st.length);
      SC_ASSIGN_OR_RETURN(
          auto inserted,
          dst_.exec("INSERT INTO blobs (id, owner, length, stored, complete, created_ms, "
                    "updated_ms) VALUES ($1, $2, $3, $3, true, $4, $5)",
                    {PgParam::text(id), PgParam::text(st.owner), PgParam::text(length),
                     PgParam::text(std::to_string(st.created_ms)),
                     PgParam::text(std::to_string(st.updated_ms))}));
      (void)inserted;
      for (std::uint64_t pos = 0; pos < st.length;) {
        SC_ASSIGN_OR_RETURN(std::string chunk, reader.read(pos, kPgBlobChunkBytes));
        if (chunk.empty())
          return Error(ErrorCode::kCorrupt, "a blob file is shorter than its length");
        SC_TRY(dst_.exec(
            "INSERT INTO blob_chunks (blob_id, pos, data) VALUES ($1, $2, $3)",
            {PgParam::text(id), PgParam::text(std::to_string(pos)), PgParam::bytes(chunk)}));
        pos += chunk.size();
      }
      out.blob_bytes += static_cast<std::int64_t>(st.length);
      tick("blobs", ++n, static_cast<std::int64_t>(ids.size()));
    }
    out.blobs = n;
    return ok_status();
  }

 private:
  const MigrateOptions& options_;
  sqlite::Connection& src_;
  PgConnection& dst_;
  RowWriter writer_;
};

Result<std::vector<std::int64_t>> int_row(PgConnection& conn, std::string_view sql) {
  SC_ASSIGN_OR_RETURN(auto r, conn.exec(sql));
  if (r.rows() != 1) return Error(ErrorCode::kInternal, "expected one row");
  std::vector<std::int64_t> out;
  for (int c = 0; c < r.columns(); ++c) {
    SC_ASSIGN_OR_RETURN(auto v, r.int64(0, c));
    out.push_back(v);
  }
  return out;
}

// Everything after BEGIN; the caller commits on success and rolls back otherwise.
Result<MigrateSummary> copy_in_transaction(const MigrateOptions& options, sqlite::Connection& src,
                                           PgConnection& dst, BlobStore* blob_store,
                                           const std::vector<std::string>& blob_ids,
                                           std::int64_t unfinished) {
  // The blob tables as PgBlobStore creates them, under the same lock (blob/pg_blob_schema.hpp).
  SC_TRY(dst.exec("SELECT pg_advisory_xact_lock($1::bigint)",
                  {PgParam::text(std::to_string(kMigrationLockKey))}));
  SC_TRY(dst.exec(kPgBlobSchema));
  // No relay on the target may write while we copy and check.
  SC_TRY(
      dst.exec("LOCK TABLE users, groups, queue_items, group_messages, blobs, blob_chunks "
               "IN EXCLUSIVE MODE"));
  SC_ASSIGN_OR_RETURN(auto clock_row, int_row(dst,
                                              "SELECT last_ts FROM clock WHERE id = 1 "
                                              "FOR UPDATE"));
  SC_ASSIGN_OR_RETURN(auto held, int_row(dst,
                                         "SELECT (SELECT count(*) FROM users), "
                                         "(SELECT count(*) FROM groups) + "
                                         "(SELECT count(*) FROM queue_items) + "
                                         "(SELECT count(*) FROM group_messages) + "
                                         "(SELECT count(*) FROM blobs)"));
  if (held[0] > 0) {
    return Error(ErrorCode::kRefused, "the target already holds " + std::to_string(held[0]) +
                                          " users: migrate only into an empty database");
  }
  if (held[1] > 0) {
    return Error(ErrorCode::kRefused,
                 "the target already holds groups, messages or blobs: migrate only into an "
                 "empty database");
  }

  SC_ASSIGN_OR_RETURN(SourceCounts want, source_counts(src));
  MigrateSummary s;
  s.unfinished_uploads = unfinished;
  Copier copier(options, src, dst);
  copier.progress("migrate: copying " + std::to_string(want.users) + " users, " +
                  std::to_string(want.groups) + " groups, " + std::to_string(want.queue_items) +
                  " queue items, " + std::to_string(want.group_messages) + " group messages, " +
                  std::to_string(blob_ids.size()) + " blobs");
  SC_ASSIGN_OR_RETURN(s.users, copier.users(want.users));
  SC_ASSIGN_OR_RETURN(s.groups, copier.groups(want.groups));
  SC_ASSIGN_OR_RETURN(s.queue_items, copier.queue_items(want.queue_items));
  SC_ASSIGN_OR_RETURN(s.group_messages, copier.group_messages(want.group_messages));
  if (blob_store != nullptr) SC_TRY(copier.blobs(*blob_store, blob_ids, s));

  // The clock: never below anything either side issued.
  s.newest_timestamp = want.newest;
  s.target_clock = std::max({clock_row[0], want.clock, want.newest});
  SC_TRY(dst.exec(postgres::sql::kUpdateLastTs, {PgParam::text(std::to_string(s.target_clock))}));

  // Check what the target now holds against the source, inside the same transaction.
  SC_ASSIGN_OR_RETURN(auto got, int_row(dst, postgres::sql::kCounts));
  SC_ASSIGN_OR_RETURN(auto newest,
                      int_row(dst,
                              "SELECT GREATEST(COALESCE((SELECT max(ts) FROM queue_items), "
                              "0), COALESCE((SELECT max(ts) FROM group_messages), 0))"));
  SC_ASSIGN_OR_RETURN(auto blob_check,
                      int_row(dst,
                              "SELECT (SELECT count(*) FROM blobs WHERE complete), "
                              "(SELECT COALESCE(sum(length), 0) FROM blobs), "
                              "(SELECT COALESCE(sum(octet_length(data)), 0) "
                              "FROM blob_chunks)"));
  const bool counts_match =
      got[0] == want.users && got[1] == want.groups && got[2] == want.queue_items &&
      got[3] == want.group_messages && s.users == want.users && s.groups == want.groups &&
      s.queue_items == want.queue_items && s.group_messages == want.group_messages;
  if (!counts_match)
    return Error(ErrorCode::kCorrupt, "row counts differ after the copy; rolled back");
  if (newest[0] != want.newest)
    return Error(ErrorCode::kCorrupt, "newest timestamps differ after the copy; rolled back");
  if (blob_check[0] != s.blobs || blob_check[1] != s.blob_bytes || blob_check[2] != s.blob_bytes)
    return Error(ErrorCode::kCorrupt, "blob bytes differ after the copy; rolled back");
  return s;
}

// Refuses (kRefused) a target schema that holds anything but a relay's own tables, or holds
// some of them without schema_version (a `users` table of another application, say). Runs
// before anything is created, so a refused target is left exactly as it was.
Status check_target_schema(PgConnection& dst) {
  SC_ASSIGN_OR_RETURN(auto tables,
                      dst.exec("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON "
                               "n.oid = c.relnamespace WHERE n.nspname = current_schema() AND "
                               "c.relkind IN ('r', 'p', 'v', 'm', 'f') ORDER BY c.relname"));
  static constexpr std::string_view kOurs[] = {"blob_chunks",    "blobs",  "clock",
                                               "group_messages", "groups", "queue_items",
                                               "schema_version", "users"};
  bool versioned = false, any_ours = false;
  for (int r = 0; r < tables.rows(); ++r) {
    const std::string_view name = tables.value(r, 0);
    if (std::find(std::begin(kOurs), std::end(kOurs), name) == std::end(kOurs)) {
      return Error(ErrorCode::kRefused,
                   "the target database's schema holds a table that is not a relay's (" +
                       std::string(name) + "); use an empty database; nothing changed");
    }
    versioned = versioned || name == "schema_version";
    any_ours = true;
  }
  if (any_ours && !versioned) {
    return Error(ErrorCode::kRefused,
                 "the target database holds tables named like a relay's but no schema_version "
                 "(another application's?); use an empty database; nothing changed");
  }
  return ok_status();
}

}  // namespace

Result<MigrateSummary> migrate_sqlite_to_postgres(const MigrateOptions& options) {
  // A malformed URI is a usage error, reported before anything else is looked at.
  SC_TRY(pg::check_uri_syntax(options.target_uri));
  const fs::path db_path = options.data_dir / "relay.db";
  std::error_code ec;
  if (!fs::is_regular_file(db_path, ec))
    return Error(ErrorCode::kInvalidArgument, "no relay database at " + db_path.string());
  SC_ASSIGN_OR_RETURN(auto src, migrate::open_source_exclusive(db_path));

  // Blobs: only complete ones move; the file store indexes them (blob/fs_blob_store.hpp).
  std::unique_ptr<FsBlobStore> blob_store;
  std::vector<std::string> blob_ids;
  std::int64_t unfinished = 0;
  const fs::path blob_dir = options.data_dir / "blobs";
  if (fs::is_directory(blob_dir, ec)) {
    SC_ASSIGN_OR_RETURN(blob_store, FsBlobStore::open(blob_dir));
    for (const auto& e : fs::directory_iterator(blob_dir, ec)) {
      const std::string id = e.path().stem().string();
      if (!is_blob_id(id) || e.path().extension() != ".meta") continue;
      auto st = blob_store->state(id);
      if (!st.ok()) continue;
      if (st->complete) {
        blob_ids.push_back(id);
      } else {
        ++unfinished;
      }
    }
    std::sort(blob_ids.begin(), blob_ids.end());
  }

  SC_ASSIGN_OR_RETURN(auto dst,
                      pg::PgConnection::open(options.target_uri, std::chrono::milliseconds(10000)));
  SC_TRY(check_target_schema(*dst));
  // The target's schema as a relay on it would create it.
  SC_TRY(apply_postgres_migrations(*dst));

  SC_TRY(dst->exec("BEGIN"));
  auto copied = copy_in_transaction(options, *src, *dst, blob_store.get(), blob_ids, unfinished);
  if (!copied.ok()) {
    (void)dst->exec("ROLLBACK");
    return copied;
  }
  if (options.progress) options.progress("migrate: committing");
  SC_TRY(dst->exec("COMMIT"));
  return copied;
}

}  // namespace secchats::server
