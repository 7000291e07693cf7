// The one thread that owns the daemon's Client (it is not thread-safe; only
// interrupt_listen may be called from elsewhere). It runs queued jobs in arrival order and,
// between them, Client::listen for the subscribers (docs/cli.md, "Events"): an event is
// taken once its line reached at least one subscriber's socket; with nobody to take it the
// listen ends (an expected stop, not an error) and polling waits for the next subscriber or
// job — a `sync` request then hands out the events the store kept. While idle with nobody
// subscribed it posts the outbox on a backoff timer (kOutboxRetryFirst doubling to
// kOutboxRetryMax, back to the first once the outbox is empty), so a send queued while the
// relay was down goes out once it is back (docs/cli.md, "The daemon"); what that delivers is
// kept as `sent` events for the next subscriber or `sync`.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "daemon/peer.hpp"
#include "secchats/client.hpp"

namespace secchats::cli::daemon {

inline constexpr auto kOutboxRetryFirst = std::chrono::seconds(2);
inline constexpr auto kOutboxRetryMax = std::chrono::seconds(60);

class Worker {
 public:
  struct Job {
    std::function<void(Client&)> run;  // on the worker thread
    std::function<void()> refuse;      // instead of run, once the daemon is stopping
  };

  explicit Worker(Client& client) : client_(client) {}
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void start();
  // Queues JOB (from any thread) and makes a listen in progress return so it runs soon.
  void submit(Job job);
  // Worker thread only (inside a job): events go to PEER from now on, as `event`
  // notifications with the --json object, or {"text":…} when TEXT.
  void subscribe(const std::shared_ptr<Peer>& peer, bool text);
  // Worker thread only: true if PEER was subscribed.
  bool unsubscribe(const Peer* peer);
  // From any thread: finish the job in progress, refuse the queued ones, end subscriptions.
  void request_stop();
  void join();

 private:
  struct Subscriber {
    std::shared_ptr<Peer> peer;
    bool text = false;
  };
  void loop();
  bool deliver(const Event& e);
  bool has_subscribers();  // prunes the closed ones
  void post_outbox();      // one idle round; schedules the next

  Client& client_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  std::vector<Subscriber> subscribers_;  // worker thread only
  bool nobody_took_ = false;             // the last listen ended for want of subscribers
  // Worker thread only: when the idle loop next posts the outbox (none: nothing waits), and
  // the pause after that round if the relay still does not take it.
  std::optional<std::chrono::steady_clock::time_point> outbox_due_ =
      std::chrono::steady_clock::now();
  std::chrono::seconds outbox_backoff_ = kOutboxRetryFirst;
};

}  // namespace secchats::cli::daemon
