// The thread that runs attachment transfers (send_file, download) with its OWN secchats::Client,
// opened on the same account directory as ClientWorker's. The Client is not thread-safe and
// ClientWorker runs one job at a time, so a 100 MB upload there would hold up every text send
// and the live sync loop for minutes; here it holds up only the next transfer. The store is
// made for several connections (every ratchet step is read, advanced and written back under
// one write lock, as the CLI and the app running side by side rely on), and this client never
// syncs or listens: it uploads, posts the FILE message and downloads.
//
// One transfer at a time, in posting order. Stopping drops the transfers not started yet and
// waits for the running one (its progress callback sees the stop and returns false: the
// library keeps it resumable).
#pragma once

#include <QThread>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>

#include "secchats/client.hpp"

namespace secchats::desktop {

class TransferWorker {
 public:
  // Runs on the transfer thread; `client` is nullptr until one was adopted.
  using Job = std::function<void(Client* client)>;

  TransferWorker() = default;
  ~TransferWorker();  // stop()
  TransferWorker(const TransferWorker&) = delete;
  TransferWorker& operator=(const TransferWorker&) = delete;

  void start();
  void stop();                                 // idempotent; see above
  void post(Job job);                          // any thread; ignored after stop()
  bool stopping() const { return stopping_; }  // for progress callbacks: give up now

  // Transfer thread only (from a job).
  void adoptClient(std::unique_ptr<Client> client) { client_ = std::move(client); }

 private:
  void run();

  QThread* thread_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;  // guarded by mu_
  bool stop_ = false;     // guarded by mu_
  std::atomic<bool> stopping_{false};
  std::unique_ptr<Client> client_;  // transfer thread only
};

}  // namespace secchats::desktop
