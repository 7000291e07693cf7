// One io_context per thread, each run by exactly one thread.
//
// A single io_context shared by N threads makes every completion pass through one
// scheduler mutex and every connection need a strand; on a small box that locking cost more
// than the requests themselves (see docs/performance.md). Here each connection lives on
// one context for its whole life, so its handlers never run concurrently and need no strand.
// Context 0 also carries the listeners, signals and timers of the process.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <cstddef>
#include <memory>
#include <thread>
#include <vector>

namespace secchats::server {

class IoContextPool {
 public:
  explicit IoContextPool(std::size_t size) {
    if (size == 0) size = 1;
    for (std::size_t i = 0; i < size; ++i) {
      // Concurrency hint 1: asio may drop the locking it needs for multi-threaded run().
      contexts_.push_back(std::make_unique<boost::asio::io_context>(1));
      // Connection contexts may have nothing to do for a while; keep run() from returning.
      guards_.emplace_back(contexts_.back()->get_executor());
    }
  }

  boost::asio::io_context& main() { return *contexts_.front(); }
  std::size_t size() const { return contexts_.size(); }

  // Contexts for new connections, round robin.
  boost::asio::io_context& next() {
    return *contexts_[next_.fetch_add(1, std::memory_order_relaxed) % contexts_.size()];
  }

  // Runs every context, context 0 on the calling thread; returns once all have stopped.
  void run() {
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < contexts_.size(); ++i)
      threads.emplace_back([ctx = contexts_[i].get()] { ctx->run(); });
    contexts_.front()->run();
    for (auto& t : threads)
      t.join();
  }

  void stop() {
    for (auto& ctx : contexts_)
      ctx->stop();
  }

 private:
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guards_;
  std::atomic<std::size_t> next_{0};
};

}  // namespace secchats::server
