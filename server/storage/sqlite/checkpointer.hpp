// Copies the write-ahead log back into the database file on its own thread.
//
// SQLite's automatic checkpoint runs inside the commit that crosses the threshold, on the
// writer thread: that commit, and every request in its group-commit batch, then waits for
// megabytes of page copies and an fsync of the database file. Measured under load, that put
// tens of milliseconds on /postmsg's p99. Here the writer's WAL hook only signals, and a
// separate connection runs PASSIVE checkpoints, which never block the writer or readers.
//
// The writer only rewinds the log once a checkpoint has copied all of it, and under steady
// load it appends while the checkpointer copies, so the log could grow for ever. Hence
// finish_between_batches(): when the log is far past the threshold, the writer itself runs
// the (by then small) rest of the checkpoint after answering a batch and before taking the
// next, so nothing it appends can race the copy, and its next commit rewinds the log.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "secchats/common/result.hpp"
#include "storage/sqlite/sqlite_db.hpp"

namespace secchats::server::sqlite {

class Checkpointer {
 public:
  // Opens its own connection to `path`; asks for a checkpoint once the log holds at least
  // `threshold_pages` pages.
  static Result<std::unique_ptr<Checkpointer>> start(const std::string& path, int threshold_pages);
  ~Checkpointer();  // stop()
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Makes `writer`'s commits report the log size here (replaces SQLite's autocheckpoint).
  void attach(Connection& writer);
  // Called after each commit with the number of pages in the log.
  void log_grew(int pages);
  // Called by the writer thread between batches (see above).
  void finish_between_batches(Connection& writer);
  // Finishes a checkpoint in progress and joins the thread. Idempotent.
  void stop();

  std::uint64_t checkpoints_run() const;

 private:
  Checkpointer(std::unique_ptr<Connection> db, int threshold_pages);
  void loop();

  std::unique_ptr<Connection> db_;
  const int threshold_pages_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool requested_ = false;
  bool stopping_ = false;
  std::uint64_t runs_ = 0;
  std::atomic<int> log_pages_{0};
  std::mutex checkpoint_mutex_;  // held around every checkpoint call, from either thread  // as the
                                 // writer's last commit reported
  std::thread thread_;
};

}  // namespace secchats::server::sqlite
