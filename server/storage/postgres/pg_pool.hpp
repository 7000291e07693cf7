// Connections of the PostgreSQL backend: a reconnect gate with exponential backoff, and a
// bounded, thread-safe pool of read connections built on it.
//
// While the database is unreachable nothing waits on it: inside the backoff window after a
// failed connect, opening fails at once with kUnavailable "storage unavailable: <reason>";
// an attempt itself is bounded by connect_timeout. The first success resets the backoff.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pg/pg_connection.hpp"
#include "secchats/common/result.hpp"

namespace secchats::server::postgres {

class ReconnectGate {
 public:
  ReconnectGate(std::string uri, std::chrono::milliseconds connect_timeout,
                std::chrono::milliseconds backoff_min, std::chrono::milliseconds backoff_max);

  // A new connection, or kUnavailable (also kPermissionDenied / kInvalidArgument from
  // PgConnection::open) without trying while the backoff window after a failure lasts.
  Result<std::unique_ptr<pg::PgConnection>> open();

 private:
  const std::string uri_;
  const std::chrono::milliseconds connect_timeout_, backoff_min_, backoff_max_;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point retry_after_{};
  std::chrono::milliseconds backoff_{0};
  std::string last_error_;
};

// At most `size` connections; a caller waits for a free one at most `wait` (then
// kUnavailable). A connection found broken is dropped, with every idle one (after a database
// restart they are all dead), and the call is retried once on a fresh connection: reads are
// idempotent.
class PgPool {
 public:
  PgPool(ReconnectGate& gate, int size, std::chrono::milliseconds wait);

  template <typename Fn>
  auto run(Fn&& fn) -> decltype(fn(std::declval<pg::PgConnection&>())) {
    for (int attempt = 0;; ++attempt) {
      bool fresh = false;
      auto conn = acquire(fresh);
      if (!conn.ok()) return std::move(conn).error();
      auto result = fn(**conn);
      const bool broken = !(*conn)->healthy();
      release(std::move(*conn));
      if (!broken || fresh || attempt > 0) return unavailable_prefixed(std::move(result));
    }
  }

 private:
  Result<std::unique_ptr<pg::PgConnection>> acquire(bool& fresh);
  void release(std::unique_ptr<pg::PgConnection> conn);

  template <typename R>
  static R unavailable_prefixed(R result) {
    if (result.ok() || result.error().code() != ErrorCode::kUnavailable) return result;
    const std::string& m = result.error().message();
    if (m.starts_with("storage unavailable")) return result;
    return Error(ErrorCode::kUnavailable, "storage unavailable: " + m);
  }

  ReconnectGate& gate_;
  const int size_;
  const std::chrono::milliseconds wait_;
  std::mutex mutex_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<pg::PgConnection>> idle_;
  int open_ = 0;  // idle + checked out + being opened
};

}  // namespace secchats::server::postgres
