#include "storage/sqlite/checkpointer.hpp"

#include <sqlite3.h>

#include "secchats/common/log.hpp"

namespace secchats::server::sqlite {
namespace {

int on_wal_commit(void* self, sqlite3*, const char*, int pages) {
  static_cast<Checkpointer*>(self)->log_grew(pages);
  return SQLITE_OK;
}

}  // namespace

Result<std::unique_ptr<Checkpointer>> Checkpointer::start(const std::string& path,
                                                          int threshold_pages) {
  SC_ASSIGN_OR_RETURN(auto db, Connection::open(path, Connection::Mode::kReadWrite));
  // A fresh connection has not looked at the file yet and would treat every checkpoint as
  // a no-op ("not in WAL mode"); this makes it open the log.
  SC_TRY(db->exec("PRAGMA journal_mode=WAL"));
  auto self = std::unique_ptr<Checkpointer>(new Checkpointer(std::move(db), threshold_pages));
  self->thread_ = std::thread([s = self.get()] { s->loop(); });
  return self;
}

Checkpointer::Checkpointer(std::unique_ptr<Connection> db, int threshold_pages)
    : db_(std::move(db)), threshold_pages_(threshold_pages) {}

Checkpointer::~Checkpointer() {
  stop();
}

void Checkpointer::attach(Connection& writer) {
  sqlite3_wal_hook(writer.handle(), &on_wal_commit, this);
}

void Checkpointer::log_grew(int pages) {
  log_pages_.store(pages, std::memory_order_relaxed);
  if (pages < threshold_pages_) return;
  std::lock_guard lock(mutex_);
  requested_ = true;
  cv_.notify_one();
}

void Checkpointer::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

void Checkpointer::finish_between_batches(Connection& writer) {
  const int pages = log_pages_.load(std::memory_order_relaxed);
  if (pages < 4 * threshold_pages_) return;
  // SQLite runs one checkpoint at a time and answers BUSY to a second. While a background
  // round is copying, the writer does not wait for it (it tries again after the next batch);
  // only a log twice as far past its bound makes the writer wait, so the log stays bounded.
  std::unique_lock one_at_a_time(checkpoint_mutex_, std::try_to_lock);
  if (!one_at_a_time.owns_lock()) {
    if (pages < 8 * threshold_pages_) return;
    one_at_a_time.lock();
  }
  int log_pages = 0, copied = 0;
  sqlite3_wal_checkpoint_v2(writer.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_pages,
                            &copied);
}

std::uint64_t Checkpointer::checkpoints_run() const {
  std::lock_guard lock(mutex_);
  return runs_;
}

void Checkpointer::loop() {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] { return requested_ || stopping_; });
      if (stopping_) return;
      requested_ = false;
    }
    int log_pages = 0, copied = 0;
    // PASSIVE copies what no reader still needs and never waits for a lock; frames it could
    // not copy are taken by a later round.
    int rc = SQLITE_OK;
    {
      std::lock_guard one_at_a_time(checkpoint_mutex_);
      rc = sqlite3_wal_checkpoint_v2(db_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_pages,
                                     &copied);
    }
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      log::warn("WAL checkpoint failed: " + db_->last_error());
    }
    if (rc != SQLITE_OK || copied <= 0) continue;  // /varz counts rounds that copied pages
    std::lock_guard lock(mutex_);
    ++runs_;
  }
}

}  // namespace secchats::server::sqlite
