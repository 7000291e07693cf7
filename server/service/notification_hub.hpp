// Wakes waiting long-polls the moment traffic lands in a queue they watch.
//
// A waiter costs one small object and one timer; no thread sleeps on it. notify() never runs
// waiter code inline: it posts the wake-up to the waiter's own executor (its connection's
// strand), which is what makes the hub safe to call from the storage writer thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace secchats::server {

class NotificationHub {
 public:
  class Waiter {
   public:
    explicit Waiter(boost::asio::any_io_executor ex) : timer_(ex) {}
    boost::asio::steady_timer& timer() { return timer_; }
    // The queue id whose traffic woke us; kRecheckAll after wake_all(); empty on timeout or
    // shutdown. Read on the waiter's executor after the timer wait completes.
    const std::string& woken_by() const { return woken_by_; }

   private:
    friend class NotificationHub;
    boost::asio::steady_timer timer_;
    std::string woken_by_;
    bool fired_ = false;  // guarded by the hub mutex
  };

  // Registers interest in `queue_ids` (user ids and group ids share one namespace of keys
  // chosen by the caller). The waiter's timer is armed with `timeout` before it becomes
  // visible to notify(), so a wake-up can never be overwritten by the arming. `ex` must be
  // the executor (strand) of the coroutine that will wait. Keep the pointer until unwatch().
  std::shared_ptr<Waiter> watch(const boost::asio::any_io_executor& ex,
                                const std::vector<std::string>& queue_ids,
                                std::chrono::milliseconds timeout);
  void unwatch(const std::shared_ptr<Waiter>& waiter, const std::vector<std::string>& queue_ids);

  // What woken_by() says after wake_all(): no queue key ("u:"/"g:" prefixed) equals it.
  static constexpr std::string_view kRecheckAll = "*";

  // Wakes every waiter watching `queue_id`.
  void notify(const std::string& queue_id);
  // Wakes every waiter with kRecheckAll: each re-checks storage for all its queues and waits
  // again if nothing is new. For when notifications may have been lost (the PostgreSQL
  // LISTEN connection broke and came back; docs/operations.md "Wake-ups across relays:
  // LISTEN/NOTIFY").
  void wake_all();
  // Wakes every waiter with no id (server shutdown); later watch() calls fire at once.
  void shutdown();

  std::size_t waiting() const { return waiting_.load(std::memory_order_relaxed); }

 private:
  void fire_locked(const std::shared_ptr<Waiter>& w, const std::string& id);

  std::mutex mutex_;
  std::unordered_map<std::string, std::vector<std::shared_ptr<Waiter>>> by_queue_;
  std::atomic<std::size_t> waiting_{0};
  bool shut_down_ = false;
};

}  // namespace secchats::server
