#include "blob/pg_blob_store.hpp"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "blob/pg_blob_schema.hpp"
#include "pg/pg_pool.hpp"
#include "secchats/common/clock.hpp"
#include "secchats/common/log.hpp"
#include "storage/postgres/pg_storage.hpp"

namespace secchats::server {
namespace {

using pg::PgConnection;
using pg::PgParam;
using pg::PgPool;
using pg::PgResult;

// A transaction on a leased connection: ROLLBACK on scope exit unless committed; a
// connection whose ROLLBACK failed is not reused.
class Transaction {
 public:
  explicit Transaction(PgPool::Lease& lease) : lease_(lease) {}
  ~Transaction() {
    if (open_ && !lease_->exec("ROLLBACK").ok()) lease_.discard();
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  Status begin() {
    SC_TRY(lease_->exec("BEGIN"));
    open_ = true;
    return ok_status();
  }
  Status commit() {
    open_ = false;  // a failed COMMIT ends the transaction too
    auto done = lease_->exec("COMMIT");
    if (!done.ok()) {
      lease_.discard();
      return std::move(done).error();
    }
    return ok_status();
  }

 private:
  PgPool::Lease& lease_;
  bool open_ = false;
};

bool is_true(std::string_view text) {
  return text == "t";
}

// A big-endian int8 column of a binary-format result.
std::optional<std::int64_t> binary_int8(std::string_view bytes) {
  if (bytes.size() != 8) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : bytes)
    v = (v << 8) | static_cast<unsigned char>(c);
  return static_cast<std::int64_t>(v);
}

Error not_found() {
  return Error(ErrorCode::kNotFound, "no such blob");
}

// What a request may see of a failure: the store's own answers (no such blob, bad range) as
// they are; a full database disk as kRefused (507) with a fixed reason; anything else from the
// database as kUnavailable "storage unavailable" (503), its detail (which may name the
// database host, port and user) only in the relay's log.
template <typename R>
R shield(R result) {
  if (result.ok()) return result;
  const Error& e = result.error();
  switch (e.code()) {
    case ErrorCode::kNotFound:  // also a chunk whose blob was removed meanwhile (23503)
      return not_found();
    case ErrorCode::kInvalidArgument:
      return result;
    case ErrorCode::kRefused:
      log::warn("blob store: " + e.message());
      return Error(ErrorCode::kRefused, "the relay's blob storage is full");
    default:
      return pg::generic_unavailable("blob store", e);
  }
}

// Up to `max_bytes` of blob `id` from `offset`: only the chunk rows overlapping the range,
// and of those only the overlapping slices (substring() on uncompressed TOAST). Exactly
// `max_bytes` bytes (the caller clipped it to the blob's length), or kNotFound when the rows
// are gone (the blob was removed or purged during the download).
Result<std::string> read_range(PgPool& pool, const std::string& id, std::uint64_t offset,
                               std::size_t max_bytes) {
  SC_ASSIGN_OR_RETURN(PgPool::Lease lease, pool.acquire());
  const std::string start = std::to_string(offset);
  const std::string end = std::to_string(offset + max_bytes);
  const std::string chunk = std::to_string(kPgBlobChunkBytes);
  constexpr std::string_view kSql =
      "SELECT pos, substring(data FROM (greatest($2::bigint - pos, 0) + 1)::int "
      "FOR (least($3::bigint - pos, length(data)) - greatest($2::bigint - pos, 0))::int) "
      "FROM blob_chunks WHERE blob_id = $1 AND pos < $3::bigint "
      "AND pos > $2::bigint - $4::bigint AND pos + length(data) > $2::bigint ORDER BY pos";
  SC_ASSIGN_OR_RETURN(PgResult rows, lease->exec(kSql,
                                                 {PgParam::text(id), PgParam::text(start),
                                                  PgParam::text(end), PgParam::text(chunk)},
                                                 /*binary_result=*/true));
  std::string out;
  out.reserve(max_bytes);
  for (int r = 0; r < rows.rows(); ++r) {
    auto pos = binary_int8(rows.value(r, 0));
    if (!pos || *pos < 0) return Error(ErrorCode::kInternal, "blob store: bad chunk offset");
    const std::uint64_t at = std::max<std::uint64_t>(static_cast<std::uint64_t>(*pos), offset);
    if (at != offset + out.size()) return not_found();  // a gap: rows went away
    out.append(rows.value(r, 1));
  }
  if (out.size() != max_bytes) return not_found();
  return out;
}

// The store's connections: synchronous_commit = on (a committed append is durable; the
// database's default could be off) and kPgBlobStatementTimeout as the query deadline (client
// side and statement_timeout), so no blob request waits on the database longer. Opened on demand,
// at most options.pool_size.
struct Connections {
  explicit Connections(const PgBlobOptions& options)
      : gate({.uri = options.uri,
              .connect_timeout = options.connect_timeout,
              .backoff_min = std::chrono::milliseconds(100),
              .backoff_max = std::chrono::milliseconds(5000),
              .session_setup = "SET synchronous_commit = on",
              .query_timeout = kPgBlobStatementTimeout,
              .error_prefix = "blob store"}),
        pool(gate, options.pool_size, options.connect_timeout) {}
  pg::ReconnectGate gate;
  PgPool pool;
};

class PgBlobStore final : public BlobStore {
 public:
  PgBlobStore(std::shared_ptr<PgPool> pool, int purge_rows)
      : pool_(std::move(pool)), purge_rows_(std::max(1, purge_rows)) {}

  // The BlobStore calls a request makes: the *_db bodies behind shield().
  Result<std::string> create(const std::string& owner, std::uint64_t length) override {
    return shield(create_db(owner, length));
  }
  Result<BlobState> state(const std::string& id) override { return shield(state_db(id)); }
  Result<AppendOutcome> append(const std::string& id, std::uint64_t offset,
                               std::string_view bytes) override {
    return shield(append_db(id, offset, bytes));
  }
  Result<BlobReader> open(const std::string& id) override { return shield(open_db(id)); }
  Status remove(const std::string& id) override { return shield(remove_db(id)); }

  Status create_schema() {
    SC_ASSIGN_OR_RETURN(PgPool::Lease lease, pool_->acquire());
    Transaction tx(lease);
    SC_TRY(tx.begin());
    const std::string key = std::to_string(kMigrationLockKey);
    SC_TRY(lease->exec("SELECT pg_advisory_xact_lock($1::bigint)", {PgParam::text(key)}));
    // Only when missing: ALTER TABLE ... SET STORAGE takes an exclusive lock, which a relay
    // starting must not take on tables the others are serving from.
    SC_ASSIGN_OR_RETURN(PgResult present, lease->exec("SELECT to_regclass('blobs') IS NOT NULL AND "
                                                      "to_regclass('blob_chunks') IS NOT NULL"));
    if (present.rows() != 1 || !is_true(present.value(0, 0))) {
      SC_TRY(lease->exec(kPgBlobSchema));
    }
    return tx.commit();
  }

  Result<std::string> create_db(const std::string& owner, std::uint64_t length) {
    if (length == 0) return Error(ErrorCode::kInvalidArgument, "a blob has at least one byte");
    if (length > static_cast<std::uint64_t>(INT64_MAX)) {
      return Error(ErrorCode::kInvalidArgument, "the blob's length is out of range");
    }
    SC_ASSIGN_OR_RETURN(PgPool::Lease lease, pool_->acquire());
    const std::string id = make_blob_id();
    const std::string len = std::to_string(length);
    const std::string now = std::to_string(unix_millis_now());
    SC_TRY(lease->exec(
        "INSERT INTO blobs (id, owner, length, stored, complete, created_ms, updated_ms) "
        "VALUES ($1, $2, $3::bigint, 0, false, $4::bigint, $4::bigint)",
        {PgParam::text(id), PgParam::text(owner), PgParam::text(len), PgParam::text(now)}));
    return id;
  }

  Result<BlobState> state_db(const std::string& id) {
    SC_ASSIGN_OR_RETURN(PgPool::Lease lease, pool_->acquire());
    SC_ASSIGN_OR_RETURN(PgResult row, lease->exec("SELECT owner, length, stored, complete, "
                                                  "created_ms, updated_ms FROM blobs WHERE id = $1",
                                                  {PgParam::text(id)}));
    if (row.rows() == 0) return not_found();
    BlobState s;
    s.owner = std::string(row.value(0, 0));
    SC_ASSIGN_OR_RETURN(std::int64_t length, row.int64(0, 1));
    SC_ASSIGN_OR_RETURN(std::int64_t stored, row.int64(0, 2));
    s.length = static_cast<std::uint64_t>(length);
    s.offset = static_cast<std::uint64_t>(stored);
    s.complete = is_true(row.value(0, 3));
    SC_ASSIGN_OR_RETURN(s.created_ms, row.int64(0, 4));
    SC_ASSIGN_OR_RETURN(s.updated_ms, row.int64(0, 5));
    return s;
  }

  Result<AppendOutcome> append_db(const std::string& id, std::uint64_t offset,
                                  std::string_view bytes) {
    SC_ASSIGN_OR_RETURN(PgPool::Lease lease, pool_->acquire());
    Transaction tx(lease);
    SC_TRY(tx.begin());
    // The blob's row lock serialises appends to it across every relay. SKIP LOCKED: an append
    // already running elsewhere means "not now" (409 with the offset as it stands), the
    // answer the file store gives, rather than a wait.
    SC_ASSIGN_OR_RETURN(PgResult row,
                        lease->exec("SELECT length, stored, complete FROM blobs WHERE id = $1 "
                                    "FOR UPDATE SKIP LOCKED",
                                    {PgParam::text(id)}));
    if (row.rows() == 0) {
      SC_ASSIGN_OR_RETURN(PgResult seen, lease->exec("SELECT stored FROM blobs WHERE id = $1",
                                                     {PgParam::text(id)}));
      if (seen.rows() == 0) return not_found();
      SC_ASSIGN_OR_RETURN(std::int64_t stored, seen.int64(0, 0));
      return AppendOutcome{false, static_cast<std::uint64_t>(stored)};
    }
    SC_ASSIGN_OR_RETURN(std::int64_t length_value, row.int64(0, 0));
    SC_ASSIGN_OR_RETURN(std::int64_t stored_value, row.int64(0, 1));
    const auto length = static_cast<std::uint64_t>(length_value);
    const auto stored = static_cast<std::uint64_t>(stored_value);
    if (stored != offset) return AppendOutcome{false, stored};
    if (is_true(row.value(0, 2))) return AppendOutcome{bytes.empty(), stored};
    if (bytes.size() > length - offset) {
      return Error(ErrorCode::kInvalidArgument, "the bytes would pass the blob's Upload-Length");
    }
    for (std::size_t done = 0; done < bytes.size(); done += kPgBlobChunkBytes) {
      const std::string pos = std::to_string(offset + done);
      const std::string_view piece = bytes.substr(done, kPgBlobChunkBytes);
      SC_TRY(lease->exec("INSERT INTO blob_chunks (blob_id, pos, data) VALUES ($1, $2::bigint, $3)",
                         {PgParam::text(id), PgParam::text(pos), PgParam::bytes(piece)}));
    }
    const std::uint64_t end = offset + bytes.size();
    const std::string end_text = std::to_string(end);
    const std::string now = std::to_string(unix_millis_now());
    SC_TRY(
        lease->exec("UPDATE blobs SET stored = $2::bigint, complete = $3::boolean, "
                    "updated_ms = $4::bigint WHERE id = $1",
                    {PgParam::text(id), PgParam::text(end_text),
                     PgParam::text(end == length ? "true" : "false"), PgParam::text(now)}));
    // synchronous_commit = on (the pool sets it): once COMMIT returns the bytes are durable,
    // and a completed blob is readable through every relay.
    SC_TRY(tx.commit());
    return AppendOutcome{true, end};
  }

  Result<BlobReader> open_db(const std::string& id) {
    std::uint64_t length = 0;
    {
      SC_ASSIGN_OR_RETURN(PgPool::Lease lease, pool_->acquire());
      SC_ASSIGN_OR_RETURN(
          PgResult row,
          lease->exec("SELECT length FROM blobs WHERE id = $1 AND complete", {PgParam::text(id)}));
      if (row.rows() == 0) return not_found();
      SC_ASSIGN_OR_RETURN(std::int64_t value, row.int64(0, 0));
      length = static_cast<std::uint64_t>(value);
    }
    // The source keeps the pool alive: a download may outlast nothing but the process.
    BlobRangeSource source = [pool = pool_, id](std::uint64_t offset, std::size_t max_bytes) {
      return shield(read_range(*pool, id, offset, max_bytes));
    };
    return BlobReader(std::move(source), length);
  }

  Status remove_db(const std::string& id) {
    SC_ASSIGN_OR_RETURN(PgPool::Lease lease, pool_->acquire());
    SC_ASSIGN_OR_RETURN(PgResult done,
                        lease->exec("DELETE FROM blobs WHERE id = $1", {PgParam::text(id)}));
    if (done.affected() == 0) return not_found();
    return ok_status();
  }

  BlobUsage usage(const std::string& owner) override {
    BlobUsage u;
    auto lease = pool_->acquire();
    if (!lease.ok()) return u;  // create() then fails with the same reason
    auto row = (*lease)->exec(
        "SELECT coalesce(sum(length), 0), count(*) FILTER (WHERE NOT complete) "
        "FROM blobs WHERE owner = $1",
        {PgParam::text(owner)});
    if (!row.ok() || row->rows() != 1) return u;
    auto bytes = row->int64(0, 0);
    auto unfinished = row->int64(0, 1);
    if (bytes.ok()) u.bytes = static_cast<std::uint64_t>(*bytes);
    if (unfinished.ok()) u.unfinished = static_cast<std::size_t>(*unfinished);
    return u;
  }

  BlobTotals totals() override {
    BlobTotals t;
    auto lease = pool_->acquire();
    if (!lease.ok()) return t;
    auto row = (*lease)->exec(
        "SELECT count(*) FILTER (WHERE complete), "
        "coalesce(sum(length) FILTER (WHERE complete), 0), "
        "count(*) FILTER (WHERE NOT complete), "
        "coalesce(sum(stored) FILTER (WHERE NOT complete), 0), "
        "coalesce(sum(length - stored) FILTER (WHERE NOT complete), 0) FROM blobs");
    if (!row.ok() || row->rows() != 1) return t;
    std::uint64_t* fields[] = {&t.complete, &t.complete_bytes, &t.unfinished, &t.unfinished_bytes,
                               &t.unfinished_pending};
    for (int c = 0; c < 5; ++c) {
      auto v = row->int64(0, c);
      if (v.ok()) *fields[c] = static_cast<std::uint64_t>(*v);
    }
    return t;
  }

  BlobPurgeResult purge(std::int64_t complete_before_ms,
                        std::int64_t unfinished_before_ms) override {
    BlobPurgeResult result;
    // Bounded rounds, so a large backlog never becomes one DELETE that outlasts the
    // statement deadline every time; a full round means more may be waiting.
    for (;;) {
      auto removed = purge_round(complete_before_ms, unfinished_before_ms, result);
      if (!removed.ok()) {
        log::warn("blob retention on PostgreSQL failed: " + removed.error().message());
        break;
      }
      if (*removed < purge_rows_) break;
    }
    return result;
  }

 private:
  // One round: at most purge_rows_ blobs, in one transaction under the purge lock. Returns
  // the rows deleted (0 when another relay holds the lock).
  Result<int> purge_round(std::int64_t complete_before_ms, std::int64_t unfinished_before_ms,
                          BlobPurgeResult& result) {
    SC_ASSIGN_OR_RETURN(PgPool::Lease lease, pool_->acquire());
    Transaction tx(lease);
    SC_TRY(tx.begin());
    // One relay at a time; the lock ends with the transaction (or the relay's connection).
    const std::string key = std::to_string(kBlobPurgeLockKey);
    SC_ASSIGN_OR_RETURN(PgResult locked, lease->exec("SELECT pg_try_advisory_xact_lock($1::bigint)",
                                                     {PgParam::text(key)}));
    if (locked.rows() != 1 || !is_true(locked.value(0, 0))) return 0;
    // An unfinished upload being appended to keeps its row lock; the DELETE waits for it
    // and then re-checks updated_ms (repeated outside the sub-select for that recheck),
    // which the append just moved: it stays.
    const std::string complete_before = std::to_string(complete_before_ms);
    const std::string unfinished_before = std::to_string(unfinished_before_ms);
    const std::string limit = std::to_string(purge_rows_);
    SC_ASSIGN_OR_RETURN(
        PgResult gone,
        lease->exec("DELETE FROM blobs WHERE ((complete AND updated_ms < $1::bigint) OR "
                    "(NOT complete AND updated_ms < $2::bigint)) AND id IN (SELECT id FROM "
                    "blobs WHERE (complete AND updated_ms < $1::bigint) OR (NOT complete AND "
                    "updated_ms < $2::bigint) ORDER BY updated_ms LIMIT $3::int) "
                    "RETURNING complete",
                    {PgParam::text(complete_before), PgParam::text(unfinished_before),
                     PgParam::text(limit)}));
    SC_TRY(tx.commit());
    for (int r = 0; r < gone.rows(); ++r) {
      (is_true(gone.value(r, 0)) ? result.complete_removed : result.unfinished_removed) += 1;
    }
    return gone.rows();
  }

  std::shared_ptr<PgPool> pool_;
  const int purge_rows_;
};

}  // namespace

Result<std::unique_ptr<BlobStore>> open_pg_blob_store(const PgBlobOptions& options) {
  // One allocation holds the pool and its gate; the store and every BlobReader share it.
  auto connections = std::make_shared<Connections>(options);
  std::shared_ptr<PgPool> pool(connections, &connections->pool);
  auto store = std::make_unique<PgBlobStore>(std::move(pool), options.purge_rows);
  SC_TRY(store->create_schema());
  return std::unique_ptr<BlobStore>(std::move(store));
}

}  // namespace secchats::server
