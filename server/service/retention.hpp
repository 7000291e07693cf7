// Retention: a background purge that deletes queue items and group messages older than the
// retention period. Users and groups stay. Timestamps follow wall-clock time (epoch ms,
// strictly increasing), so an item's timestamp is its age.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>

#include "secchats/common/result.hpp"
#include "storage/storage.hpp"

namespace secchats::server {

struct RetentionOptions {
  // Items older than this are deleted; zero keeps everything forever.
  std::chrono::milliseconds max_age = std::chrono::hours(24 * 30);
  // Time between purges; the first one runs at start().
  std::chrono::milliseconds interval = std::chrono::minutes(5);
  // Rows deleted per transaction: bounds how long one round holds up other writes.
  int batch_rows = 5000;
};

// Counts and timings only, for /varz.
struct RetentionStats {
  std::uint64_t runs = 0;          // purges completed
  std::uint64_t last_rows = 0;     // rows the last purge deleted
  std::uint64_t last_micros = 0;   // how long the last purge took (all its rounds)
  std::uint64_t total_micros = 0;  // time spent purging so far
};

// Deletes everything with a timestamp below `before`, in rounds of at most `batch_rows`
// through the storage writer, until a round comes back short. Returns the rows deleted.
boost::asio::awaitable<Result<std::int64_t>> purge_expired(Storage& storage, std::int64_t before,
                                                           int batch_rows);

class RetentionPurger {
 public:
  RetentionPurger(boost::asio::any_io_executor executor, Storage& storage,
                  RetentionOptions options);
  ~RetentionPurger();  // stop()
  RetentionPurger(const RetentionPurger&) = delete;
  RetentionPurger& operator=(const RetentionPurger&) = delete;

  // Purges once now, then every interval. Does nothing when max_age is zero.
  void start();
  // Thread-safe. No new round starts; a round already submitted still commits.
  void stop();

  bool enabled() const;
  RetentionStats stats() const;  // thread-safe

 private:
  struct State;
  static boost::asio::awaitable<void> purge_loop(std::shared_ptr<State> state);
  static boost::asio::awaitable<void> purge_once(std::shared_ptr<State> state);

  std::shared_ptr<State> state_;
};

}  // namespace secchats::server
