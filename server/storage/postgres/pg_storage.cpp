#include "storage/postgres/pg_storage.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_set>

#include "pg/pg_pipeline.hpp"
#include "pg/pg_pool.hpp"
#include "secchats/common/clock.hpp"
#include "secchats/common/log.hpp"
#include "storage/postgres/pg_migrations.hpp"
#include "storage/postgres/pg_text.hpp"
#include "storage/postgres/schema.hpp"
#include "storage/token_cache.hpp"
#include "storage/write_queue.hpp"

namespace secchats::server {
namespace {

namespace sql = postgres::sql;
using pg::PgConnection;
using pg::PgParam;
using pg::PgPipeline;
using pg::PgPool;
using pg::PgResult;
using pg::ReconnectGate;
using postgres::valid_text;

PgParam opt_text(const OptString& s) {
  return s ? PgParam::text(*s) : PgParam::null();
}

// Splits the keys into '\n'-joined NOTIFY payloads below kMaxNotifyPayloadBytes.
std::vector<std::string> notify_payloads(const std::vector<std::string>& keys) {
  std::vector<std::string> out;
  std::string current;
  for (const auto& key : keys) {
    if (key.size() >= kMaxNotifyPayloadBytes) continue;  // cannot be sent; ids are far shorter
    if (!current.empty() && current.size() + 1 + key.size() >= kMaxNotifyPayloadBytes) {
      out.push_back(std::move(current));
      current.clear();
    }
    if (!current.empty()) current += '\n';
    current += key;
  }
  if (!current.empty()) out.push_back(std::move(current));
  return out;
}

bool flag(const PgResult& r, int row, int col) {
  return r.value(row, col) == "t";
}

// The writer's statements, prepared once per connection: a batch then costs no parsing or
// planning while it holds the clock row lock.
struct Named {
  std::string_view name, sql;
};
constexpr Named kInsertUser{"sc_insert_user", sql::kInsertUser};
constexpr Named kInsertGroup{"sc_insert_group", sql::kInsertGroup};
constexpr Named kInsertItem{"sc_insert_item", sql::kInsertQueueItem};
constexpr Named kInsertMessage{"sc_insert_message", sql::kInsertGroupMessage};
constexpr Named kAck{"sc_ack", sql::kAckQueueItems};
constexpr Named kPurge{"sc_purge", sql::kPurgeExpired};
constexpr Named kUpdateClock{"sc_update_clock", sql::kUpdateLastTs};
constexpr Named kNotify{"sc_notify", sql::kNotify};
constexpr std::array kWriterStatements = {kInsertUser, kInsertGroup, kInsertItem,  kInsertMessage,
                                          kAck,        kPurge,       kUpdateClock, kNotify};

// Readies a new writer connection. lock_timeout bounds a wait for the clock row behind another
// relay's transaction; idle_in_transaction_session_timeout ends the transaction of a relay
// that stalls between its two round trips, so its lock cannot block the others for long.
// Every writer statement runs under writer_deadline (client side and statement_timeout), so a
// frozen database fails the batch kUnavailable and close() still finishes.
std::chrono::milliseconds writer_deadline(std::chrono::milliseconds connect_timeout) {
  return std::max<std::chrono::milliseconds>(2 * connect_timeout, std::chrono::seconds(2));
}

Status prepare_writer(PgConnection& conn, std::chrono::milliseconds timeout) {
  const std::string ms = std::to_string(std::max<std::int64_t>(timeout.count(), 1000)) + "ms";
  const auto deadline = writer_deadline(timeout);
  conn.set_query_timeout(deadline);
  SC_TRY(conn.exec("SET lock_timeout = '" + ms + "'; SET idle_in_transaction_session_timeout = '" +
                   ms + "'; SET statement_timeout = " + std::to_string(deadline.count())));
  for (const auto& s : kWriterStatements)
    SC_TRY(pg::prepare(conn, s.name, s.sql));
  return ok_status();
}

class PgStorage final : public Storage {
 public:
  static Result<std::unique_ptr<PgStorage>> open(const PgOptions& options) {
    auto self = std::unique_ptr<PgStorage>(new PgStorage(options));
    // The first connection reports the real reason (unreachable, refused password, bad URI).
    SC_ASSIGN_OR_RETURN(auto conn, PgConnection::open(options.uri, options.connect_timeout));
    SC_TRY(apply_postgres_migrations(*conn));
    SC_TRY(prepare_writer(*conn, options.connect_timeout));
    self->writer_conn_ = std::move(conn);
    self->writer_ = std::thread([s = self.get()] { s->writer_loop(); });
    return self;
  }

  ~PgStorage() override { close(); }

  void submit(WriteOp op, WriteCallback done) override {
    writes_.submit(std::move(op), std::move(done));
  }

  // Every read runs a statement prepared on its pool connection (PgConnection::exec_prepared):
  // parsing and planning the short, frequent reads cost more server time than running them.
  Result<std::optional<TokenHash>> user_token_hash(const std::string& user_id) override {
    // Hashes never change and users are never deleted: a cached answer is never stale.
    if (auto cached = token_cache_.find(user_id)) return std::optional<TokenHash>(*cached);
    if (!valid_text(user_id)) return std::optional<TokenHash>();
    auto stored = pool_.run([&](PgConnection& c) -> Result<std::optional<TokenHash>> {
      SC_ASSIGN_OR_RETURN(auto r, c.exec_prepared("sc_token_hash", sql::kUserTokenHash,
                                                  {PgParam::text(user_id)}, true));
      if (r.rows() == 0) return std::optional<TokenHash>();
      auto bytes = r.value(0, 0);
      TokenHash hash{};
      if (bytes.size() != hash.size()) {
        return Error(ErrorCode::kCorrupt, "stored token hash has the wrong size");
      }
      std::copy(bytes.begin(), bytes.end(), hash.begin());
      return std::optional<TokenHash>(hash);
    });
    if (stored.ok() && *stored) token_cache_.insert(user_id, **stored);
    return stored;
  }

  Result<bool> group_exists(const std::string& group_id) override {
    if (!valid_text(group_id)) return false;
    return pool_.run([&](PgConnection& c) -> Result<bool> {
      SC_ASSIGN_OR_RETURN(
          auto r, c.exec_prepared("sc_group_exists", sql::kGroupExists, {PgParam::text(group_id)}));
      return r.rows() > 0;
    });
  }

  Result<std::vector<QueueItem>> queue_items_after(const std::string& user_id, std::int64_t after,
                                                   int limit) override {
    if (!valid_text(user_id) || limit <= 0) return std::vector<QueueItem>();
    const std::string after_text = std::to_string(after), limit_text = std::to_string(limit);
    return pool_.run([&](PgConnection& c) -> Result<std::vector<QueueItem>> {
      SC_ASSIGN_OR_RETURN(auto r,
                          c.exec_prepared("sc_queue_items_after", sql::kQueueItemsAfter,
                                          {PgParam::text(user_id), PgParam::text(after_text),
                                           PgParam::text(limit_text)}));
      std::vector<QueueItem> items;
      items.reserve(static_cast<std::size_t>(r.rows()));
      for (int i = 0; i < r.rows(); ++i) {
        SC_ASSIGN_OR_RETURN(auto item, queue_item_at(r, i, 0, user_id));
        items.push_back(std::move(item));
      }
      return items;
    });
  }

  // One round trip for /receive instead of two (queue_items_after + queue_has_items_up_to).
  Result<QueuePage> queue_page_after(const std::string& user_id, std::int64_t after,
                                     int limit) override {
    if (!valid_text(user_id)) return QueuePage{};
    const std::string after_text = std::to_string(after);
    const std::string limit_text = std::to_string(std::max(limit, 0));
    return pool_.run([&](PgConnection& c) -> Result<QueuePage> {
      SC_ASSIGN_OR_RETURN(auto r,
                          c.exec_prepared("sc_queue_page_after", sql::kQueuePageAfter,
                                          {PgParam::text(user_id), PgParam::text(after_text),
                                           PgParam::text(limit_text)}));
      QueuePage page;
      if (r.rows() == 0) return Error(ErrorCode::kInternal, "queue page query returned no row");
      page.acknowledged_left = after > 0 && flag(r, 0, 0);
      page.items.reserve(static_cast<std::size_t>(r.rows()));
      for (int i = 0; i < r.rows(); ++i) {
        if (r.is_null(i, 1)) continue;  // the single row of an empty page
        SC_ASSIGN_OR_RETURN(auto item, queue_item_at(r, i, 1, user_id));
        page.items.push_back(std::move(item));
      }
      return page;
    });
  }

  Result<std::vector<GroupMessage>> group_messages_after(std::span<const std::string> group_ids,
                                                         std::int64_t after, int limit) override {
    std::vector<std::string> ids;
    for (const auto& id : group_ids)
      if (valid_text(id)) ids.push_back(id);
    if (ids.empty() || limit <= 0) return std::vector<GroupMessage>();
    // Timestamps are globally unique, so one ORDER BY ts ... LIMIT over all the groups leaves
    // a clean cursor boundary.
    const std::string array = postgres::text_array_literal(ids);
    const std::string after_text = std::to_string(after), limit_text = std::to_string(limit);
    return pool_.run([&](PgConnection& c) -> Result<std::vector<GroupMessage>> {
      SC_ASSIGN_OR_RETURN(auto r,
                          c.exec_prepared("sc_group_messages_after", sql::kGroupMessagesAfter,
                                          {PgParam::text(array), PgParam::text(after_text),
                                           PgParam::text(limit_text)}));
      std::vector<GroupMessage> out;
      out.reserve(static_cast<std::size_t>(r.rows()));
      for (int i = 0; i < r.rows(); ++i) {
        GroupMessage m;
        m.group_id = std::string(r.value(i, 0));
        SC_ASSIGN_OR_RETURN(m.timestamp, r.int64(i, 1));
        m.sender_id = std::string(r.value(i, 2));
        m.payload = opt_string(r, i, 3);
        out.push_back(std::move(m));
      }
      return out;
    });
  }

  Result<bool> queue_has_items_up_to(const std::string& user_id, std::int64_t up_to) override {
    if (!valid_text(user_id)) return false;
    const std::string up_to_text = std::to_string(up_to);
    return pool_.run([&](PgConnection& c) -> Result<bool> {
      SC_ASSIGN_OR_RETURN(auto r,
                          c.exec_prepared("sc_queue_has_items_up_to", sql::kQueueHasItemsUpTo,
                                          {PgParam::text(user_id), PgParam::text(up_to_text)}));
      return r.rows() > 0;
    });
  }

  Result<std::int64_t> newest_queue_timestamp(const std::string& user_id) override {
    return scalar_for("sc_newest_queue_ts", sql::kNewestQueueTs, user_id);
  }

  Result<std::int64_t> newest_group_timestamp(const std::string& group_id) override {
    return scalar_for("sc_newest_group_ts", sql::kNewestGroupTs, group_id);
  }

  Result<StorageCounts> counts() override {
    return pool_.run([&](PgConnection& c) -> Result<StorageCounts> {
      SC_ASSIGN_OR_RETURN(auto r, c.exec(sql::kCounts));
      StorageCounts counts;
      SC_ASSIGN_OR_RETURN(counts.users, r.int64(0, 0));
      SC_ASSIGN_OR_RETURN(counts.groups, r.int64(0, 1));
      SC_ASSIGN_OR_RETURN(counts.queued_items, r.int64(0, 2));
      SC_ASSIGN_OR_RETURN(counts.group_messages, r.int64(0, 3));
      return counts;
    });
  }

  WriterStats writer_stats() const override { return counters_.snapshot(); }

  void close() override {
    if (!writes_.close()) return;
    if (writer_.joinable()) writer_.join();
  }

 private:
  using Pending = WriteQueue::Pending;

  explicit PgStorage(const PgOptions& options)
      : options_(options),
        gate_({.uri = options.uri,
               .connect_timeout = options.connect_timeout,
               .backoff_min = options.reconnect_backoff_min,
               .backoff_max = options.reconnect_backoff_max,
               .session_setup = {},
               .query_timeout = options.read_timeout,
               .error_prefix = "storage"}),
        pool_(gate_, options.pool_size, options.connect_timeout) {}

  static OptString opt_string(const PgResult& r, int row, int col) {
    if (r.is_null(row, col)) return std::nullopt;
    return std::string(r.value(row, col));
  }

  // The queue item in row `row` whose (ts, kind, sender_id, group_id, protocol, payload)
  // columns start at `col`.
  static Result<QueueItem> queue_item_at(const PgResult& r, int row, int col,
                                         const std::string& user_id) {
    QueueItem item;
    item.recipient_id = user_id;
    SC_ASSIGN_OR_RETURN(item.timestamp, r.int64(row, col));
    SC_ASSIGN_OR_RETURN(auto kind, r.int64(row, col + 1));
    item.kind = static_cast<ItemKind>(kind);
    item.sender_id = std::string(r.value(row, col + 2));
    item.group_id = opt_string(r, row, col + 3);
    item.protocol = opt_string(r, row, col + 4);
    item.payload = opt_string(r, row, col + 5);
    return item;
  }

  Result<std::int64_t> scalar_for(std::string_view name, std::string_view query,
                                  const std::string& id) {
    if (!valid_text(id)) return std::int64_t{0};
    return pool_.run([&](PgConnection& c) -> Result<std::int64_t> {
      SC_ASSIGN_OR_RETURN(auto r, c.exec_prepared(name, query, {PgParam::text(id)}));
      return r.int64(0, 0);
    });
  }

  void writer_loop() {
    std::deque<Pending> batch;
    std::vector<WriteOutcome> outcomes;
    // Everything that queued up while the previous commit was in flight goes into the next.
    const auto most = static_cast<std::size_t>(std::max(1, options_.max_batch));
    while (writes_.take(batch, most)) {
      outcomes.assign(batch.size(), WriteOutcome{});
      run_batch(batch, outcomes);
      for (std::size_t i = 0; i < batch.size(); ++i)
        batch[i].done(std::move(outcomes[i]));
      batch.clear();
    }
  }

  // Rejects text PostgreSQL cannot store as given (NUL bytes, invalid UTF-8) before the batch
  // starts: a failing statement would roll back everyone else's writes.
  static std::optional<WriteOutcome> reject_text(const WriteOp& op) {
    auto opt_ok = [](const OptString& f) { return !f || valid_text(*f); };
    bool invalid = false;
    if (auto* u = std::get_if<CreateUser>(&op)) {
      invalid = !valid_text(u->user_id);
    } else if (auto* g = std::get_if<CreateGroup>(&op)) {
      invalid = !valid_text(g->group_id);
    } else if (auto* e = std::get_if<EnqueueItem>(&op)) {
      const auto& i = e->item;
      invalid = !valid_text(i.recipient_id) || !valid_text(i.sender_id) || !opt_ok(i.group_id) ||
                !opt_ok(i.protocol) || !opt_ok(i.payload);
    } else if (auto* m = std::get_if<AppendGroupMessage>(&op)) {
      const auto& msg = m->message;
      invalid = !valid_text(msg.group_id) || !valid_text(msg.sender_id) || !opt_ok(msg.payload);
    } else if (auto* a = std::get_if<AckQueue>(&op)) {
      invalid = !valid_text(a->user_id);
    }
    if (!invalid) return std::nullopt;
    return WriteOutcome::failure(ErrorCode::kInvalidArgument,
                                 "text contains a NUL byte or is not valid UTF-8");
  }

  // Starts the batch's transaction (and takes the clock row lock when `lock_clock`); returns
  // the stored last_ts. A connection that broke since the last batch (database restarted) is
  // replaced once: nothing has been written yet, so retrying is safe.
  Result<std::int64_t> begin(bool lock_clock) {
    for (int attempt = 0;; ++attempt) {
      bool fresh = false;
      if (!writer_conn_ || !writer_conn_->healthy()) {
        writer_conn_.reset();
        SC_ASSIGN_OR_RETURN(writer_conn_, gate_.open());
        fresh = true;
        if (Status s = prepare_writer(*writer_conn_, options_.connect_timeout); !s.ok()) {
          writer_conn_.reset();
          return std::move(s).error();
        }
      }
      auto r = writer_conn_->exec(lock_clock ? sql::kBeginAndLockClock : sql::kBegin);
      if (r.ok()) return lock_clock ? r->int64(0, 0) : Result<std::int64_t>(0);
      if (writer_conn_->healthy()) (void)writer_conn_->exec(sql::kRollback);
      if (fresh || attempt > 0 || writer_conn_->healthy() || writer_conn_->timed_out()) {
        return std::move(r).error();
      }
    }
  }

  // Queues op's statement(s) on the pipeline; stamps inserts with the next timestamp.
  void plan(WriteOp& op, PgPipeline& p, std::int64_t& ts, std::vector<std::string>& keys,
            std::unordered_set<std::string>& seen_keys) {
    const std::string now = std::to_string(unix_millis_now());
    auto stamp = [&] {
      ts = std::max(unix_millis_now(), ts + 1);  // strictly increasing, as the SQLite backend
      return ts;
    };
    auto add_key = [&](std::string key) {
      if (seen_keys.insert(key).second) keys.push_back(std::move(key));
    };
    if (auto* u = std::get_if<CreateUser>(&op)) {
      const std::string_view hash(reinterpret_cast<const char*>(u->token_hash.data()),
                                  u->token_hash.size());
      p.add_prepared(kInsertUser.name,
                     {PgParam::text(u->user_id), PgParam::bytes(hash), PgParam::text(now)});
    } else if (auto* g = std::get_if<CreateGroup>(&op)) {
      p.add_prepared(kInsertGroup.name, {PgParam::text(g->group_id), PgParam::text(now)});
    } else if (auto* e = std::get_if<EnqueueItem>(&op)) {
      auto& i = e->item;
      i.timestamp = stamp();
      const std::string ts_text = std::to_string(i.timestamp);
      const std::string kind = std::to_string(static_cast<int>(i.kind));
      p.add_prepared(
          kInsertItem.name,
          {PgParam::text(i.recipient_id), PgParam::text(ts_text), PgParam::text(kind),
           PgParam::text(i.sender_id), opt_text(i.group_id), opt_text(i.protocol),
           opt_text(i.payload), PgParam::text(i.kind == ItemKind::kGroupInvite ? "t" : "f")});
      add_key(queue_key_for_user(i.recipient_id));
    } else if (auto* m = std::get_if<AppendGroupMessage>(&op)) {
      auto& msg = m->message;
      msg.timestamp = stamp();
      const std::string ts_text = std::to_string(msg.timestamp);
      p.add_prepared(kInsertMessage.name, {PgParam::text(msg.group_id), PgParam::text(ts_text),
                                           PgParam::text(msg.sender_id), opt_text(msg.payload)});
      add_key(queue_key_for_group(msg.group_id));
    } else if (auto* a = std::get_if<AckQueue>(&op)) {
      // Deletes leave the clock row alone: the sequence never goes back.
      p.add_prepared(kAck.name, {PgParam::text(a->user_id), PgParam::text(std::to_string(a->up_to)),
                                 PgParam::text(std::to_string(std::max(1, a->max_rows)))});
    } else {
      const auto& pe = std::get<PurgeExpired>(op);
      p.add_prepared(kPurge.name, {PgParam::text(std::to_string(pe.before)),
                                   PgParam::text(std::to_string(std::max(1, pe.max_rows))),
                                   PgParam::text(std::to_string(kPurgeLockKey))});
    }
  }

  // The outcome of one op from its statement's result (the batch committed).
  WriteOutcome outcome(const WriteOp& op, const PgResult& r) {
    if (std::holds_alternative<CreateUser>(op)) {
      if (r.affected() == 1) return WriteOutcome::success(0);
      return WriteOutcome::failure(ErrorCode::kAlreadyExists, "user id taken");
    }
    if (std::holds_alternative<CreateGroup>(op)) {
      if (r.affected() == 1) return WriteOutcome::success(0);
      return WriteOutcome::failure(ErrorCode::kAlreadyExists, "group id taken");
    }
    if (auto* e = std::get_if<EnqueueItem>(&op)) {
      if (r.rows() != 1 || !flag(r, 0, 0)) {
        return WriteOutcome::failure(ErrorCode::kNotFound, "unknown recipient");
      }
      if (!flag(r, 0, 1)) return WriteOutcome::failure(ErrorCode::kNotFound, "unknown group");
      return WriteOutcome::success(e->item.timestamp);
    }
    if (auto* m = std::get_if<AppendGroupMessage>(&op)) {
      if (r.affected() != 1) return WriteOutcome::failure(ErrorCode::kNotFound, "unknown group");
      return WriteOutcome::success(m->message.timestamp);
    }
    if (std::holds_alternative<AckQueue>(op)) {
      batch_acked_ += r.affected();
      return WriteOutcome::deleted(r.affected());
    }
    const std::int64_t items = r.int64(0, 0).ok() ? *r.int64(0, 0) : 0;
    const std::int64_t messages = r.int64(0, 1).ok() ? *r.int64(0, 1) : 0;
    batch_purged_items_ += items;
    batch_purged_messages_ += messages;
    return WriteOutcome::deleted(items + messages);
  }

  void run_batch(std::deque<Pending>& batch, std::vector<WriteOutcome>& outcomes) {
    std::vector<std::size_t> live;  // ops that reach the database, in batch order
    bool lock_clock = false;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (auto rejected = reject_text(batch[i].op)) {
        outcomes[i] = std::move(*rejected);
        continue;
      }
      live.push_back(i);
      const auto& op = batch[i].op;
      lock_clock = lock_clock || std::holds_alternative<EnqueueItem>(op) ||
                   std::holds_alternative<AppendGroupMessage>(op);
    }
    if (live.empty()) return;
    // The client hears only "storage unavailable" (HTTP 503, retry later); the detail, which
    // may name the database host, port and user, stays in the relay's log.
    auto fail_all = [&](const std::string& why) {
      for (std::size_t i : live)
        outcomes[i] =
            WriteOutcome::failure(ErrorCode::kUnavailable, std::string(pg::kStorageUnavailable));
      log::error("write batch failed: " + why);
    };
    auto last = begin(lock_clock);
    if (!last.ok()) {
      fail_all(last.error().message());
      return;
    }
    // Round trip 2: every op, the new clock value, the wake-up notifications and COMMIT.
    PgPipeline p;
    std::int64_t ts = *last;
    std::vector<std::string> keys;
    std::unordered_set<std::string> seen_keys;
    for (std::size_t i : live)
      plan(batch[i].op, p, ts, keys, seen_keys);
    if (ts != *last) p.add_prepared(kUpdateClock.name, {PgParam::text(std::to_string(ts))});
    // Keys of ops that turn out to have an unknown target are sent too: a wake-up with no
    // waiter costs nothing. A batch that does not commit sends none (NOTIFY is transactional).
    for (const auto& payload : notify_payloads(keys)) {
      p.add_prepared(kNotify.name, {PgParam::text(kWakeChannel), PgParam::text(payload)});
    }
    p.add(sql::kCommit);
    const auto started = std::chrono::steady_clock::now();
    auto results = p.run(*writer_conn_);
    if (!results.ok()) {
      // The connection broke: COMMIT may or may not have happened. Never report success.
      writer_conn_.reset();
      fail_all(results.error().message());
      return;
    }
    for (const auto& r : *results) {
      if (!r.ok()) {
        if (writer_conn_->healthy()) (void)writer_conn_->exec(sql::kRollback);
        fail_all("transaction rolled back: " + r.error().message());
        return;
      }
    }
    batch_acked_ = batch_purged_items_ = batch_purged_messages_ = 0;
    for (std::size_t k = 0; k < live.size(); ++k) {
      outcomes[live[k]] = outcome(batch[live[k]].op, (*results)[k].value());
    }
    counters_.committed(live.size(), std::chrono::steady_clock::now() - started, batch_acked_,
                        batch_purged_items_, batch_purged_messages_);
  }

  PgOptions options_;
  ReconnectGate gate_;
  PgPool pool_;
  TokenCache token_cache_;

  // Writer-thread state.
  std::unique_ptr<PgConnection> writer_conn_;
  std::int64_t batch_acked_ = 0, batch_purged_items_ = 0, batch_purged_messages_ = 0;
  std::thread writer_;

  WriteQueue writes_;

  WriterCounters counters_;
};

}  // namespace

Result<std::unique_ptr<Storage>> open_postgres_storage(const PgOptions& options) {
  SC_ASSIGN_OR_RETURN(auto storage, PgStorage::open(options));
  return std::unique_ptr<Storage>(std::move(storage));
}

}  // namespace secchats::server
