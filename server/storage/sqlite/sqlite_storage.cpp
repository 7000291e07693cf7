#include "storage/sqlite/sqlite_storage.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "secchats/common/clock.hpp"
#include "secchats/common/log.hpp"
#include "storage/sqlite/checkpointer.hpp"
#include "storage/sqlite/schema.hpp"
#include "storage/sqlite/sqlite_db.hpp"
#include "storage/tail_cache.hpp"
#include "storage/token_cache.hpp"
#include "storage/write_queue.hpp"

namespace secchats::server {
namespace {

using sqlite::Checkpointer;
using sqlite::Connection;
using sqlite::Statement;

Status apply_migrations(Connection& db) {
  SC_TRY(db.exec(sqlite::sql::kCreateVersionTable));
  SC_ASSIGN_OR_RETURN(Statement select, db.prepare(sqlite::sql::kSelectVersion));
  SC_ASSIGN_OR_RETURN(bool has_row, select.step());
  std::int64_t version = has_row ? select.column_int(0) : 0;
  select.reset();
  const auto latest = static_cast<std::int64_t>(sqlite::sql::kMigrations.size());
  if (version > latest) {
    return Error(ErrorCode::kInternal, "database schema v" + std::to_string(version) +
                                           " is newer than this server (v" +
                                           std::to_string(latest) + "); upgrade the server");
  }
  for (; version < latest; ++version) {
    SC_TRY(db.exec("BEGIN IMMEDIATE"));
    Status step = db.exec(sqlite::sql::kMigrations[static_cast<std::size_t>(version)]);
    if (step.ok()) {
      auto stmt =
          db.prepare(version == 0 ? sqlite::sql::kInsertVersion : sqlite::sql::kUpdateVersion);
      if (!stmt.ok()) {
        step = std::move(stmt).error();
      } else {
        step = stmt->bind(1, version + 1).run();
      }
    }
    if (!step.ok()) {
      (void)db.exec("ROLLBACK");
      return Error(ErrorCode::kInternal, "migration to schema v" + std::to_string(version + 1) +
                                             " failed: " + step.error().message());
    }
    SC_TRY(db.exec("COMMIT"));
  }
  return ok_status();
}

// A read-only connection with its statements prepared once.
struct Reader {
  std::unique_ptr<Connection> db;
  Statement token_hash, group_exists, queue_after, group_after, queue_up_to, newest_queue,
      newest_group;
  Statement count_users, count_groups, count_items, count_messages;
  Statement begin_read, end_read, clock, queue_tail, group_tail;

  static Result<std::unique_ptr<Reader>> open(const std::string& path) {
    auto r = std::make_unique<Reader>();
    SC_ASSIGN_OR_RETURN(r->db, Connection::open(path, Connection::Mode::kReadOnly));
    SC_ASSIGN_OR_RETURN(r->token_hash, r->db->prepare(sqlite::sql::kUserTokenHash));
    SC_ASSIGN_OR_RETURN(r->group_exists, r->db->prepare(sqlite::sql::kGroupExists));
    SC_ASSIGN_OR_RETURN(r->queue_after, r->db->prepare(sqlite::sql::kQueueItemsAfter));
    SC_ASSIGN_OR_RETURN(r->group_after, r->db->prepare(sqlite::sql::kGroupMessagesAfter));
    SC_ASSIGN_OR_RETURN(r->queue_up_to, r->db->prepare(sqlite::sql::kQueueHasItemsUpTo));
    SC_ASSIGN_OR_RETURN(r->newest_queue, r->db->prepare(sqlite::sql::kNewestQueueTs));
    SC_ASSIGN_OR_RETURN(r->newest_group, r->db->prepare(sqlite::sql::kNewestGroupTs));
    SC_ASSIGN_OR_RETURN(r->count_users, r->db->prepare(sqlite::sql::kCountUsers));
    SC_ASSIGN_OR_RETURN(r->count_groups, r->db->prepare(sqlite::sql::kCountGroups));
    SC_ASSIGN_OR_RETURN(r->count_items, r->db->prepare(sqlite::sql::kCountQueueItems));
    SC_ASSIGN_OR_RETURN(r->count_messages, r->db->prepare(sqlite::sql::kCountGroupMessages));
    SC_ASSIGN_OR_RETURN(r->begin_read, r->db->prepare(sqlite::sql::kBeginRead));
    SC_ASSIGN_OR_RETURN(r->end_read, r->db->prepare(sqlite::sql::kEndRead));
    SC_ASSIGN_OR_RETURN(r->clock, r->db->prepare(sqlite::sql::kSelectLastTs));
    SC_ASSIGN_OR_RETURN(r->queue_tail, r->db->prepare(sqlite::sql::kQueueTail));
    SC_ASSIGN_OR_RETURN(r->group_tail, r->db->prepare(sqlite::sql::kGroupTail));
    return r;
  }
};

// Resets a statement when leaving scope so the next user finds it clean.
struct ResetOnExit {
  Statement& s;
  ~ResetOnExit() { s.reset(); }
};

Result<std::int64_t> scalar(Statement& s) {
  ResetOnExit guard{s};
  SC_ASSIGN_OR_RETURN(bool row, s.step());
  return row ? s.column_int(0) : 0;
}

// One read transaction on a reader: every statement between begin() and the end of scope
// reads the same snapshot (SQLite docs, "Transactions": a deferred BEGIN's read starts at the
// first SELECT). Without it each statement is its own transaction.
class ReadTransaction {
 public:
  explicit ReadTransaction(Reader& r) : r_(r) {}
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;
  ~ReadTransaction() {
    if (!open_) return;
    ResetOnExit guard{r_.end_read};
    (void)r_.end_read.step();
  }
  Status begin() {
    ResetOnExit guard{r_.begin_read};
    SC_ASSIGN_OR_RETURN(bool row, r_.begin_read.step());
    (void)row;
    open_ = true;
    return ok_status();
  }

 private:
  Reader& r_;
  bool open_ = false;
};

// Rows of kQueueItemsAfter / kQueueTail and kGroupMessagesAfter / kGroupTail.
QueueItem queue_row(const Statement& s, const std::string& user_id) {
  QueueItem item;
  item.recipient_id = user_id;
  item.timestamp = s.column_int(0);
  item.kind = static_cast<ItemKind>(s.column_int(1));
  item.sender_id = s.column_text(2);
  item.group_id = s.column_opt_text(3);
  item.protocol = s.column_opt_text(4);
  item.payload = s.column_opt_text(5);
  return item;
}
GroupMessage group_row(const Statement& s, const std::string& group_id) {
  return {group_id, s.column_text(1), s.column_opt_text(2), s.column_int(0)};
}

// Steps a bound statement to the end, collecting row(s, key) for each row.
template <typename Item, typename Row>
Result<std::vector<Item>> rows_of(Statement& s, const std::string& key, Row row) {
  ResetOnExit guard{s};
  std::vector<Item> items;
  for (;;) {
    SC_ASSIGN_OR_RETURN(bool more, s.step());
    if (!more) return items;
    items.push_back(row(s, key));
  }
}

using QueueCache = TailCache<QueueItem>;
using GroupCache = TailCache<GroupMessage>;
// Items each tail cache keeps per key, and the rows a fill reads (one more: whether older
// items exist). A /receive or /pollgroups answer near the head is usually far smaller.
constexpr std::size_t kTailItems = 64;
constexpr std::int64_t kTailRead = kTailItems + 1;
constexpr std::size_t kTailCacheBytes = 32u << 20;

class SqliteStorage final : public Storage {
 public:
  static Result<std::unique_ptr<SqliteStorage>> open(const SqliteOptions& options) {
    std::error_code ec;
    std::filesystem::create_directories(options.data_dir, ec);
    if (ec) {
      return Error(ErrorCode::kInternal,
                   "cannot create data dir " + options.data_dir.string() + ": " + ec.message());
    }
    auto self = std::unique_ptr<SqliteStorage>(new SqliteStorage(options));
    self->path_ = (options.data_dir / "relay.db").string();
    SC_ASSIGN_OR_RETURN(self->writer_db_,
                        Connection::open(self->path_, Connection::Mode::kReadWrite));
    auto& db = *self->writer_db_;
    SC_TRY(db.exec("PRAGMA journal_mode=WAL"));
    SC_TRY(db.exec(options.synchronous_full ? "PRAGMA synchronous=FULL"
                                            : "PRAGMA synchronous=NORMAL"));
    SC_TRY(db.exec("PRAGMA foreign_keys=ON"));
    // Forgotten items are overwritten in the file instead of lingering in free space.
    SC_TRY(db.exec("PRAGMA secure_delete=ON"));
    // Each batch of inserts dirties pages all over the queue table (one per recipient). A
    // larger page cache keeps them from being re-read, and a larger checkpoint interval lets a
    // page written by many commits be copied back to the database once (docs/performance.md).
    SC_TRY(db.exec("PRAGMA cache_size=-32768"));  // KiB: 32 MiB
    SC_TRY(apply_migrations(db));
    SC_TRY(self->prepare_writer());
    SC_ASSIGN_OR_RETURN(self->last_ts_, scalar(self->select_last_ts_));
    self->queue_cache_.start(self->last_ts_);
    self->group_cache_.start(self->last_ts_);
    // Warm one reader so an unreadable database fails at start-up, not on the first request.
    SC_ASSIGN_OR_RETURN(auto reader, Reader::open(self->path_));
    self->readers_.push_back(std::move(reader));
    // Checkpoints run beside the writer, never inside a commit.
    SC_ASSIGN_OR_RETURN(self->checkpointer_,
                        Checkpointer::start(self->path_, options.checkpoint_pages));
    self->checkpointer_->attach(db);
    self->writer_ = std::thread([s = self.get()] { s->writer_loop(); });
    return self;
  }

  ~SqliteStorage() override { close(); }

  void submit(WriteOp op, WriteCallback done) override {
    writes_.submit(std::move(op), std::move(done));
  }

  Result<std::optional<TokenHash>> user_token_hash(const std::string& user_id) override {
    // Every authenticated request starts here. A user's token hash never changes and users
    // are never deleted, so answers are cached: a hit costs no SQLite read transaction.
    if (auto cached = token_cache_.find(user_id)) return std::optional<TokenHash>(*cached);
    auto stored = read_token_hash(user_id);
    if (stored.ok() && *stored) token_cache_.insert(user_id, **stored);
    return stored;
  }

  Result<std::optional<TokenHash>> read_token_hash(const std::string& user_id) {
    return with_reader([&](Reader& r) -> Result<std::optional<TokenHash>> {
      ResetOnExit guard{r.token_hash};
      r.token_hash.bind(1, user_id);
      SC_ASSIGN_OR_RETURN(bool row, r.token_hash.step());
      if (!row) return std::optional<TokenHash>();
      auto blob = r.token_hash.column_blob(0);
      TokenHash hash{};
      if (blob.size() != hash.size()) {
        return Error(ErrorCode::kCorrupt, "stored token hash has the wrong size");
      }
      std::copy(blob.begin(), blob.end(), hash.begin());
      return std::optional<TokenHash>(hash);
    });
  }

  Result<bool> group_exists(const std::string& group_id) override {
    return with_reader([&](Reader& r) -> Result<bool> {
      ResetOnExit guard{r.group_exists};
      r.group_exists.bind(1, group_id);
      return r.group_exists.step();
    });
  }

  // Queue and group-log reads answer from the tail caches when they can (tail_cache.hpp);
  // a miss reads the answer and the key's tail in one read transaction and offers the tail
  // to the cache.
  Result<std::vector<QueueItem>> queue_items_after(const std::string& user_id, std::int64_t after,
                                                   int limit) override {
    SC_ASSIGN_OR_RETURN(QueuePage page, queue_page_after(user_id, after, limit));
    return std::move(page.items);
  }

  Result<QueuePage> queue_page_after(const std::string& user_id, std::int64_t after,
                                     int limit) override {
    if (auto hit = queue_cache_.read(user_id, after, limit)) {
      return QueuePage{std::move(hit->items), after > 0 && hit->older_left};
    }
    SC_ASSIGN_OR_RETURN(auto read, read_queue(user_id, after, limit));
    read.page.acknowledged_left = after > 0 && read.page.acknowledged_left;
    return std::move(read.page);
  }

  Result<std::vector<GroupMessage>> group_messages_after(std::span<const std::string> group_ids,
                                                         std::int64_t after, int limit) override {
    // Timestamps are globally unique, so merging per-group pages by timestamp and cutting at
    // `limit` leaves a clean cursor boundary: nothing at or below the last returned
    // timestamp is withheld. Every page comes from one cut: all from the cache, or all from
    // one read transaction.
    std::vector<GroupMessage> merged;
    if (auto pages = group_cache_.read_all(group_ids, after, limit)) {
      for (auto& page : *pages) {
        for (auto& m : page.items)
          merged.push_back(std::move(m));
      }
    } else {
      SC_ASSIGN_OR_RETURN(merged, read_groups(group_ids, after, limit, nullptr));
    }
    std::sort(merged.begin(), merged.end(),
              [](const auto& a, const auto& b) { return a.timestamp < b.timestamp; });
    if (merged.size() > static_cast<std::size_t>(limit))
      merged.resize(static_cast<std::size_t>(limit));
    return merged;
  }

  Result<bool> queue_has_items_up_to(const std::string& user_id, std::int64_t up_to) override {
    if (up_to <= 0) return false;
    SC_ASSIGN_OR_RETURN(QueuePage page, queue_page_after(user_id, up_to, 0));
    return page.acknowledged_left;
  }

  Result<std::int64_t> newest_queue_timestamp(const std::string& user_id) override {
    if (auto newest = queue_cache_.newest(user_id)) return *newest;
    SC_ASSIGN_OR_RETURN(auto read, read_queue(user_id, kNoCursor, 0));
    return read.newest;
  }

  Result<std::int64_t> newest_group_timestamp(const std::string& group_id) override {
    if (auto newest = group_cache_.newest(group_id)) return *newest;
    std::int64_t newest = 0;
    const std::string ids[] = {group_id};
    SC_TRY(read_groups(ids, kNoCursor, 0, &newest));
    return newest;
  }

  Result<StorageCounts> counts() override {
    return with_reader([&](Reader& r) -> Result<StorageCounts> {
      StorageCounts c;
      SC_ASSIGN_OR_RETURN(c.users, scalar(r.count_users));
      SC_ASSIGN_OR_RETURN(c.groups, scalar(r.count_groups));
      SC_ASSIGN_OR_RETURN(c.queued_items, scalar(r.count_items));
      SC_ASSIGN_OR_RETURN(c.group_messages, scalar(r.count_messages));
      return c;
    });
  }

  WriterStats writer_stats() const override {
    WriterStats s = counters_.snapshot();
    s.checkpoints = checkpointer_ ? checkpointer_->checkpoints_run() : 0;
    return s;
  }

  void close() override {
    if (!writes_.close()) return;
    if (writer_.joinable()) writer_.join();
    // After the writer: its last commits still report to the checkpointer.
    if (checkpointer_) checkpointer_->stop();
  }

 private:
  using Pending = WriteQueue::Pending;

  explicit SqliteStorage(const SqliteOptions& options) : options_(options) {}

  Status prepare_writer() {
    auto& db = *writer_db_;
    SC_ASSIGN_OR_RETURN(select_last_ts_, db.prepare(sqlite::sql::kSelectLastTs));
    SC_ASSIGN_OR_RETURN(update_last_ts_, db.prepare(sqlite::sql::kUpdateLastTs));
    SC_ASSIGN_OR_RETURN(insert_user_, db.prepare(sqlite::sql::kInsertUser));
    SC_ASSIGN_OR_RETURN(insert_group_, db.prepare(sqlite::sql::kInsertGroup));
    SC_ASSIGN_OR_RETURN(user_exists_, db.prepare(sqlite::sql::kUserExists));
    SC_ASSIGN_OR_RETURN(group_exists_, db.prepare(sqlite::sql::kGroupExists));
    SC_ASSIGN_OR_RETURN(insert_item_, db.prepare(sqlite::sql::kInsertQueueItem));
    SC_ASSIGN_OR_RETURN(insert_message_, db.prepare(sqlite::sql::kInsertGroupMessage));
    SC_ASSIGN_OR_RETURN(ack_items_, db.prepare(sqlite::sql::kAckQueueItems));
    SC_ASSIGN_OR_RETURN(purge_items_, db.prepare(sqlite::sql::kPurgeQueueItems));
    SC_ASSIGN_OR_RETURN(purge_messages_, db.prepare(sqlite::sql::kPurgeGroupMessages));
    SC_ASSIGN_OR_RETURN(begin_write_, db.prepare(sqlite::sql::kBeginWrite));
    SC_ASSIGN_OR_RETURN(commit_write_, db.prepare(sqlite::sql::kEndRead));
    return ok_status();
  }

  // A cursor past every timestamp: a tail read always covers it, and pages for it are empty.
  static constexpr std::int64_t kNoCursor = INT64_MAX;

  struct QueueRead {
    QueuePage page;           // acknowledged_left: an item with timestamp <= after remains
    std::int64_t newest = 0;  // the queue's newest timestamp (0 when empty)
  };

  // A queue-cache miss: the page and the queue's tail from one read transaction.
  Result<QueueRead> read_queue(const std::string& user_id, std::int64_t after, int limit) {
    const std::uint64_t generation = queue_cache_.generation();
    // A held entry missed because the cursor is older than it: read only the page.
    const bool want_tail = !queue_cache_.holds(user_id);
    std::int64_t snapshot = 0;
    std::vector<QueueItem> tail;
    auto read = with_reader([&](Reader& r) -> Result<QueueRead> {
      ReadTransaction transaction(r);
      SC_TRY(transaction.begin());
      QueueRead out;
      if (want_tail) {
        SC_ASSIGN_OR_RETURN(snapshot, scalar(r.clock));
        r.queue_tail.bind(1, user_id).bind(2, kTailRead);
        SC_ASSIGN_OR_RETURN(tail, rows_of<QueueItem>(r.queue_tail, user_id, queue_row));
        out.newest = tail.empty() ? 0 : tail.front().timestamp;
        if (queue_cache_.covers(tail, after)) {
          auto page = QueueCache::page_of(tail, after, limit);
          out.page = QueuePage{std::move(page.items), page.older_left};
          return out;
        }
      }
      r.queue_after.bind(1, user_id).bind(2, after).bind(3, std::int64_t{limit});
      SC_ASSIGN_OR_RETURN(out.page.items, rows_of<QueueItem>(r.queue_after, user_id, queue_row));
      ResetOnExit guard{r.queue_up_to};
      r.queue_up_to.bind(1, user_id).bind(2, after);
      SC_ASSIGN_OR_RETURN(out.page.acknowledged_left, r.queue_up_to.step());
      return out;
    });
    if (read.ok() && want_tail) queue_cache_.fill(user_id, std::move(tail), generation, snapshot);
    return read;
  }

  // A group-cache miss: each group's page and tail from one read transaction. `newest`, when
  // given, receives the newest timestamp over the groups.
  Result<std::vector<GroupMessage>> read_groups(std::span<const std::string> group_ids,
                                                std::int64_t after, int limit,
                                                std::int64_t* newest) {
    const std::uint64_t generation = group_cache_.generation();
    std::int64_t snapshot = 0;
    std::vector<std::vector<GroupMessage>> tails(group_ids.size());
    // Groups whose entry is held missed only for an old cursor: read only their page.
    std::vector<bool> want_tail(group_ids.size());
    for (std::size_t i = 0; i < group_ids.size(); ++i)
      want_tail[i] = newest != nullptr || !group_cache_.holds(group_ids[i]);
    auto merged = with_reader([&](Reader& r) -> Result<std::vector<GroupMessage>> {
      ReadTransaction transaction(r);
      SC_TRY(transaction.begin());
      SC_ASSIGN_OR_RETURN(snapshot, scalar(r.clock));
      std::vector<GroupMessage> out;
      for (std::size_t i = 0; i < group_ids.size(); ++i) {
        const std::string& id = group_ids[i];
        if (!want_tail[i]) {
          r.group_after.bind(1, id).bind(2, after).bind(3, std::int64_t{limit});
          SC_ASSIGN_OR_RETURN(auto rows, rows_of<GroupMessage>(r.group_after, id, group_row));
          for (auto& m : rows)
            out.push_back(std::move(m));
          continue;
        }
        r.group_tail.bind(1, id).bind(2, kTailRead);
        SC_ASSIGN_OR_RETURN(tails[i], rows_of<GroupMessage>(r.group_tail, id, group_row));
        if (newest && !tails[i].empty()) *newest = std::max(*newest, tails[i].front().timestamp);
        if (group_cache_.covers(tails[i], after)) {
          for (auto& m : GroupCache::page_of(tails[i], after, limit).items)
            out.push_back(std::move(m));
          continue;
        }
        r.group_after.bind(1, id).bind(2, after).bind(3, std::int64_t{limit});
        SC_ASSIGN_OR_RETURN(auto rows, rows_of<GroupMessage>(r.group_after, id, group_row));
        for (auto& m : rows)
          out.push_back(std::move(m));
      }
      return out;
    });
    if (merged.ok()) {
      for (std::size_t i = 0; i < group_ids.size(); ++i) {
        if (want_tail[i])
          group_cache_.fill(group_ids[i], std::move(tails[i]), generation, snapshot);
      }
    }
    return merged;
  }

  template <typename Fn>
  auto with_reader(Fn&& fn) -> decltype(fn(std::declval<Reader&>())) {
    std::unique_ptr<Reader> reader;
    {
      std::lock_guard lock(readers_mutex_);
      if (!readers_.empty()) {
        reader = std::move(readers_.back());
        readers_.pop_back();
      }
    }
    if (!reader) {
      auto opened = Reader::open(path_);
      if (!opened.ok()) return std::move(opened).error();
      reader = std::move(opened).value();
    }
    auto result = fn(*reader);
    std::lock_guard lock(readers_mutex_);
    readers_.push_back(std::move(reader));
    return result;
  }

  Result<bool> exists(Statement& stmt, const std::string& id) {
    ResetOnExit guard{stmt};
    stmt.bind(1, id);
    return stmt.step();
  }

  // Runs a prepared statement without parameters (BEGIN, COMMIT) and rewinds it.
  static Status run_once(Statement& stmt) {
    ResetOnExit guard{stmt};
    return stmt.run();
  }

  // Runs a prepared DELETE and returns how many rows it removed.
  Result<std::int64_t> delete_rows(Statement& stmt) {
    ResetOnExit guard{stmt};
    SC_TRY(stmt.run());
    return writer_db_->changes();
  }

  std::int64_t next_timestamp() {
    // Strictly increasing even if the wall clock stands still or steps back.
    last_ts_ = std::max(unix_millis_now(), last_ts_ + 1);
    return last_ts_;
  }

  // Applies one operation inside the open transaction. A returned failure for a known,
  // harmless reason (unknown target) leaves the transaction usable; `fatal` marks SQL errors
  // that force the whole batch to roll back.
  WriteOutcome apply(WriteOp& op, bool& fatal) {
    auto sql_failure = [&](const Error& e) {
      fatal = true;
      return WriteOutcome::failure(ErrorCode::kUnavailable, "storage error: " + e.message());
    };
    const std::int64_t now = unix_millis_now();
    if (auto* u = std::get_if<CreateUser>(&op)) {
      // Refused up front: a failing INSERT would roll back every other write of the batch.
      auto taken = exists(user_exists_, u->user_id);
      if (!taken.ok()) return sql_failure(taken.error());
      if (*taken) return WriteOutcome::failure(ErrorCode::kAlreadyExists, "user id taken");
      ResetOnExit guard{insert_user_};
      insert_user_.bind(1, u->user_id).bind_blob(2, u->token_hash).bind(3, now);
      Status s = insert_user_.run();
      if (!s.ok()) return sql_failure(s.error());
      return WriteOutcome::success(0);
    }
    if (auto* g = std::get_if<CreateGroup>(&op)) {
      auto taken = exists(group_exists_, g->group_id);
      if (!taken.ok()) return sql_failure(taken.error());
      if (*taken) return WriteOutcome::failure(ErrorCode::kAlreadyExists, "group id taken");
      ResetOnExit guard{insert_group_};
      insert_group_.bind(1, g->group_id).bind(2, now);
      Status s = insert_group_.run();
      if (!s.ok()) return sql_failure(s.error());
      return WriteOutcome::success(0);
    }
    if (auto* e = std::get_if<EnqueueItem>(&op)) {
      auto& item = e->item;
      // Users are never deleted: one whose token hash is cached exists.
      if (!token_cache_.find(item.recipient_id)) {
        auto found = exists(user_exists_, item.recipient_id);
        if (!found.ok()) return sql_failure(found.error());
        if (!*found) return WriteOutcome::failure(ErrorCode::kNotFound, "unknown recipient");
      }
      if (item.kind == ItemKind::kGroupInvite) {
        auto group = exists(group_exists_, item.group_id.value_or(""));
        if (!group.ok()) return sql_failure(group.error());
        if (!*group) return WriteOutcome::failure(ErrorCode::kNotFound, "unknown group");
      }
      item.timestamp = next_timestamp();
      ResetOnExit guard{insert_item_};
      insert_item_.bind(1, item.recipient_id)
          .bind(2, item.timestamp)
          .bind(3, static_cast<std::int64_t>(item.kind))
          .bind(4, item.sender_id)
          .bind(5, item.group_id)
          .bind(6, item.protocol)
          .bind(7, item.payload);
      Status s = insert_item_.run();
      if (!s.ok()) return sql_failure(s.error());
      const std::int64_t ts = item.timestamp;
      queue_changes_.push_back({item.recipient_id, std::move(item), 0, 0});
      return WriteOutcome::success(ts);
    }
    if (auto* a = std::get_if<AckQueue>(&op)) {
      // Deletes leave last_ts_ and the clock row alone: the sequence never goes back.
      ack_items_.bind(1, a->user_id)
          .bind(2, a->up_to)
          .bind(3, std::int64_t{std::max(1, a->max_rows)});
      auto n = delete_rows(ack_items_);
      if (!n.ok()) return sql_failure(n.error());
      batch_acked_ += *n;
      if (*n > 0) queue_changes_.push_back({a->user_id, std::nullopt, a->up_to, *n});
      return WriteOutcome::deleted(*n);
    }
    if (auto* p = std::get_if<PurgeExpired>(&op)) {
      const std::int64_t max_rows = std::max(1, p->max_rows);
      purge_items_.bind(1, p->before).bind(2, max_rows);
      auto items = delete_rows(purge_items_);
      if (!items.ok()) return sql_failure(items.error());
      std::int64_t messages = 0;
      if (*items < max_rows) {
        purge_messages_.bind(1, p->before).bind(2, max_rows - *items);
        auto n = delete_rows(purge_messages_);
        if (!n.ok()) return sql_failure(n.error());
        messages = *n;
      }
      batch_purged_items_ += *items;
      batch_purged_messages_ += messages;
      batch_purged_ = batch_purged_ || *items + messages > 0;
      return WriteOutcome::deleted(*items + messages);
    }
    auto& m = std::get<AppendGroupMessage>(op).message;
    auto found = exists(group_exists_, m.group_id);
    if (!found.ok()) return sql_failure(found.error());
    if (!*found) return WriteOutcome::failure(ErrorCode::kNotFound, "unknown group");
    m.timestamp = next_timestamp();
    ResetOnExit guard{insert_message_};
    insert_message_.bind(1, m.group_id)
        .bind(2, m.timestamp)
        .bind(3, m.sender_id)
        .bind(4, m.payload);
    Status s = insert_message_.run();
    if (!s.ok()) return sql_failure(s.error());
    const std::int64_t ts = m.timestamp;
    group_changes_.push_back({m.group_id, std::move(m), 0, 0});
    return WriteOutcome::success(ts);
  }

  void writer_loop() {
    std::deque<Pending> batch;
    std::vector<WriteOutcome> outcomes;
    // Everything that queued up while the previous commit was syncing goes into the next.
    const auto most = static_cast<std::size_t>(std::max(1, options_.max_batch));
    while (writes_.take(batch, most)) {
      run_batch(batch, outcomes);
      for (std::size_t i = 0; i < batch.size(); ++i)
        batch[i].done(std::move(outcomes[i]));
      batch.clear();
      outcomes.clear();
      // After the answers, so no acknowledged request waits for it.
      checkpointer_->finish_between_batches(*writer_db_);
    }
  }

  void run_batch(std::deque<Pending>& batch, std::vector<WriteOutcome>& outcomes) {
    const std::int64_t ts_before = last_ts_;
    batch_acked_ = batch_purged_items_ = batch_purged_messages_ = 0;
    batch_purged_ = false;
    queue_changes_.clear();
    group_changes_.clear();
    auto fail_all = [&](const std::string& why) {
      last_ts_ = ts_before;
      queue_changes_.clear();
      group_changes_.clear();
      outcomes.assign(batch.size(), WriteOutcome::failure(ErrorCode::kUnavailable, why));
      log::error("write batch failed: " + why);
    };
    if (Status s = run_once(begin_write_); !s.ok()) {
      fail_all(s.error().message());
      return;
    }
    bool fatal = false;
    for (auto& p : batch) {
      outcomes.push_back(apply(p.op, fatal));
      if (fatal) break;
    }
    if (!fatal && last_ts_ != ts_before) {
      ResetOnExit guard{update_last_ts_};
      fatal = !update_last_ts_.bind(1, last_ts_).run().ok();
    }
    if (fatal) {
      (void)writer_db_->exec("ROLLBACK");
      fail_all("transaction rolled back");
      return;
    }
    auto started = std::chrono::steady_clock::now();
    if (Status s = run_once(commit_write_); !s.ok()) {
      (void)writer_db_->exec("ROLLBACK");
      fail_all(s.error().message());
      return;
    }
    // Durable now, and no callback has run: readers of the caches see the whole batch before
    // anyone is told of it (tail_cache.hpp).
    queue_cache_.apply_batch(queue_changes_, batch_purged_, last_ts_);
    group_cache_.apply_batch(group_changes_, batch_purged_, last_ts_);
    // Deletions count only once committed.
    counters_.committed(batch.size(), std::chrono::steady_clock::now() - started, batch_acked_,
                        batch_purged_items_, batch_purged_messages_);
  }

  SqliteOptions options_;
  std::string path_;

  // Writer-thread state.
  std::unique_ptr<Connection> writer_db_;
  Statement select_last_ts_, update_last_ts_, insert_user_, insert_group_, user_exists_,
      group_exists_, insert_item_, insert_message_, ack_items_, purge_items_, purge_messages_,
      begin_write_, commit_write_;
  std::int64_t last_ts_ = 0;
  // Rows the open transaction deleted; added to the counters below once it commits.
  std::int64_t batch_acked_ = 0, batch_purged_items_ = 0, batch_purged_messages_ = 0;
  // What the open transaction changed, for the tail caches once it commits.
  std::vector<QueueCache::Change> queue_changes_;
  std::vector<GroupCache::Change> group_changes_;
  bool batch_purged_ = false;
  std::thread writer_;
  std::unique_ptr<Checkpointer> checkpointer_;

  WriteQueue writes_;

  std::mutex readers_mutex_;
  std::vector<std::unique_ptr<Reader>> readers_;
  TokenCache token_cache_;
  QueueCache queue_cache_{{kTailItems, kTailCacheBytes}};
  GroupCache group_cache_{{kTailItems, kTailCacheBytes}};

  WriterCounters counters_;
};

}  // namespace

Result<std::unique_ptr<Storage>> open_sqlite_storage(const SqliteOptions& options) {
  SC_ASSIGN_OR_RETURN(auto storage, SqliteStorage::open(options));
  return std::unique_ptr<Storage>(std::move(storage));
}

}  // namespace secchats::server
