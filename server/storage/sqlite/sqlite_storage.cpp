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

  Result<std::vector<QueueItem>> queue_items_after(const std::string& user_id, std::int64_t after,
                                                   int limit) override {
    return with_reader([&](Reader& r) -> Result<std::vector<QueueItem>> {
      ResetOnExit guard{r.queue_after};
      r.queue_after.bind(1, user_id).bind(2, after).bind(3, std::int64_t{limit});
      std::vector<QueueItem> items;
      for (;;) {
        SC_ASSIGN_OR_RETURN(bool row, r.queue_after.step());
        if (!row) break;
        QueueItem item;
        item.recipient_id = user_id;
        item.timestamp = r.queue_after.column_int(0);
        item.kind = static_cast<ItemKind>(r.queue_after.column_int(1));
        item.sender_id = r.queue_after.column_text(2);
        item.group_id = r.queue_after.column_opt_text(3);
        item.protocol = r.queue_after.column_opt_text(4);
        item.payload = r.queue_after.column_opt_text(5);
        items.push_back(std::move(item));
      }
      return items;
    });
  }

  Result<std::vector<GroupMessage>> group_messages_after(std::span<const std::string> group_ids,
                                                         std::int64_t after, int limit) override {
    return with_reader([&](Reader& r) -> Result<std::vector<GroupMessage>> {
      // Timestamps are globally unique, so merging per-group pages by timestamp and cutting at
      // `limit` leaves a clean cursor boundary: nothing at or below the last returned
      // timestamp is withheld.
      std::vector<GroupMessage> merged;
      for (const auto& group_id : group_ids) {
        ResetOnExit guard{r.group_after};
        r.group_after.bind(1, group_id).bind(2, after).bind(3, std::int64_t{limit});
        for (;;) {
          SC_ASSIGN_OR_RETURN(bool row, r.group_after.step());
          if (!row) break;
          merged.push_back({group_id, r.group_after.column_text(1),
                            r.group_after.column_opt_text(2), r.group_after.column_int(0)});
        }
      }
      std::sort(merged.begin(), merged.end(),
                [](const auto& a, const auto& b) { return a.timestamp < b.timestamp; });
      if (merged.size() > static_cast<std::size_t>(limit))
        merged.resize(static_cast<std::size_t>(limit));
      return merged;
    });
  }

  Result<bool> queue_has_items_up_to(const std::string& user_id, std::int64_t up_to) override {
    return with_reader([&](Reader& r) -> Result<bool> {
      ResetOnExit guard{r.queue_up_to};
      r.queue_up_to.bind(1, user_id).bind(2, up_to);
      return r.queue_up_to.step();
    });
  }

  Result<std::int64_t> newest_queue_timestamp(const std::string& user_id) override {
    return with_reader([&](Reader& r) -> Result<std::int64_t> {
      r.newest_queue.bind(1, user_id);
      return scalar(r.newest_queue);
    });
  }

  Result<std::int64_t> newest_group_timestamp(const std::string& group_id) override {
    return with_reader([&](Reader& r) -> Result<std::int64_t> {
      r.newest_group.bind(1, group_id);
      return scalar(r.newest_group);
    });
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
    return ok_status();
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
      auto found = exists(user_exists_, item.recipient_id);
      if (!found.ok()) return sql_failure(found.error());
      if (!*found) return WriteOutcome::failure(ErrorCode::kNotFound, "unknown recipient");
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
      return WriteOutcome::success(item.timestamp);
    }
    if (auto* a = std::get_if<AckQueue>(&op)) {
      // Deletes leave last_ts_ and the clock row alone: the sequence never goes back.
      ack_items_.bind(1, a->user_id)
          .bind(2, a->up_to)
          .bind(3, std::int64_t{std::max(1, a->max_rows)});
      auto n = delete_rows(ack_items_);
      if (!n.ok()) return sql_failure(n.error());
      batch_acked_ += *n;
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
    return WriteOutcome::success(m.timestamp);
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
    auto fail_all = [&](const std::string& why) {
      last_ts_ = ts_before;
      outcomes.assign(batch.size(), WriteOutcome::failure(ErrorCode::kUnavailable, why));
      log::error("write batch failed: " + why);
    };
    if (Status s = writer_db_->exec("BEGIN IMMEDIATE"); !s.ok()) {
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
    if (Status s = writer_db_->exec("COMMIT"); !s.ok()) {
      (void)writer_db_->exec("ROLLBACK");
      fail_all(s.error().message());
      return;
    }
    // Deletions count only once committed.
    counters_.committed(batch.size(), std::chrono::steady_clock::now() - started, batch_acked_,
                        batch_purged_items_, batch_purged_messages_);
  }

  SqliteOptions options_;
  std::string path_;

  // Writer-thread state.
  std::unique_ptr<Connection> writer_db_;
  Statement select_last_ts_, update_last_ts_, insert_user_, insert_group_, user_exists_,
      group_exists_, insert_item_, insert_message_, ack_items_, purge_items_, purge_messages_;
  std::int64_t last_ts_ = 0;
  // Rows the open transaction deleted; added to the counters below once it commits.
  std::int64_t batch_acked_ = 0, batch_purged_items_ = 0, batch_purged_messages_ = 0;
  std::thread writer_;
  std::unique_ptr<Checkpointer> checkpointer_;

  WriteQueue writes_;

  std::mutex readers_mutex_;
  std::vector<std::unique_ptr<Reader>> readers_;
  TokenCache token_cache_;

  WriterCounters counters_;
};

}  // namespace

Result<std::unique_ptr<Storage>> open_sqlite_storage(const SqliteOptions& options) {
  SC_ASSIGN_OR_RETURN(auto storage, SqliteStorage::open(options));
  return std::unique_ptr<Storage>(std::move(storage));
}

}  // namespace secchats::server
