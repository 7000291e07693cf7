// The queue in front of a storage backend's single writer thread (group commit; storage.hpp
// Storage::submit): request threads queue writes, and the writer takes everything that
// gathered while its previous commit was in flight as the next batch. Shared by the SQLite
// and PostgreSQL backends, with the writer's counters for /varz (WriterCounters). Thread-safe.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <utility>

#include "storage/storage.hpp"

namespace secchats::server {

class WriteQueue {
 public:
  struct Pending {
    WriteOp op;
    WriteCallback done;
  };

  // Queues `op` for the writer. After close(), answers `done` at once (on this thread) with
  // kUnavailable "server is shutting down".
  void submit(WriteOp op, WriteCallback done) {
    {
      std::lock_guard lock(mutex_);
      if (!closing_) {
        pending_.push_back({std::move(op), std::move(done)});
        ready_.notify_one();
        return;
      }
    }
    done(WriteOutcome::failure(ErrorCode::kUnavailable, "server is shutting down"));
  }

  // The writer's wait: blocks until writes are queued, then moves up to `most` (at least one)
  // of them, oldest first, into `batch`. False once closed and drained: the writer ends.
  bool take(std::deque<Pending>& batch, std::size_t most) {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [&] { return closing_ || !pending_.empty(); });
    if (pending_.empty()) return false;
    most = std::max<std::size_t>(most, 1);
    while (!pending_.empty() && batch.size() < most) {
      batch.push_back(std::move(pending_.front()));
      pending_.pop_front();
    }
    return true;
  }

  // Refuses new writes and lets the writer drain what is queued. True the first time only.
  bool close() {
    std::lock_guard lock(mutex_);
    if (closing_) return false;
    closing_ = true;
    ready_.notify_one();
    return true;
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Pending> pending_;
  bool closing_ = false;
};

// What the writer has committed since start (storage.hpp WriterStats), counted after each
// COMMIT returned; read from any thread.
class WriterCounters {
 public:
  // One committed batch: `ops` operations, `took` from BEGIN to the end of COMMIT, and the
  // rows its AckQueue / PurgeExpired operations deleted.
  void committed(std::size_t ops, std::chrono::steady_clock::duration took, std::int64_t acked,
                 std::int64_t purged_items, std::int64_t purged_messages) {
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(took).count();
    commit_micros_.fetch_add(static_cast<std::uint64_t>(micros), std::memory_order_relaxed);
    batches_.fetch_add(1, std::memory_order_relaxed);
    ops_.fetch_add(ops, std::memory_order_relaxed);
    acked_deletes_.fetch_add(static_cast<std::uint64_t>(acked), std::memory_order_relaxed);
    purged_items_.fetch_add(static_cast<std::uint64_t>(purged_items), std::memory_order_relaxed);
    purged_messages_.fetch_add(static_cast<std::uint64_t>(purged_messages),
                               std::memory_order_relaxed);
    if (ops > max_batch_.load(std::memory_order_relaxed)) {
      max_batch_.store(ops, std::memory_order_relaxed);  // only the writer thread stores
    }
  }

  // The counters (checkpoints left 0: the SQLite backend adds its own).
  WriterStats snapshot() const {
    WriterStats s;
    s.batches = batches_.load(std::memory_order_relaxed);
    s.ops = ops_.load(std::memory_order_relaxed);
    s.max_batch = max_batch_.load(std::memory_order_relaxed);
    s.commit_micros = commit_micros_.load(std::memory_order_relaxed);
    s.acked_deletes = acked_deletes_.load(std::memory_order_relaxed);
    s.purged_queue_items = purged_items_.load(std::memory_order_relaxed);
    s.purged_group_messages = purged_messages_.load(std::memory_order_relaxed);
    return s;
  }

 private:
  std::atomic<std::uint64_t> batches_{0}, ops_{0}, max_batch_{0}, commit_micros_{0};
  std::atomic<std::uint64_t> acked_deletes_{0}, purged_items_{0}, purged_messages_{0};
};

}  // namespace secchats::server
