// The connection pool shared by the PostgreSQL storage backend (reads) and the PostgreSQL blob
// store: a reconnect gate with exponential backoff, and a bounded, thread-safe pool of libpq
// connections opened on demand through it (docs/operations.md "Connections per relay").
//
// While the database is unreachable nothing waits on it: inside the backoff window after a
// failed connect (doubling from backoff_min to backoff_max), opening fails at once with
// kUnavailable "<error_prefix>: <last reason>"; an attempt itself is bounded by
// connect_timeout. The first success resets the backoff. Once the relay runs, every connect
// failure is kUnavailable (HTTP 503), authentication and URI mistakes included: a request can
// only report them as unavailable, and the relay checked them at start with
// PgConnection::open.
//
// What a client sees: libpq's messages name the database host, port and user, so a failure
// that reaches a request is only ever kUnavailable kStorageUnavailable; the detail goes to the
// relay's log ("<error_prefix>: <detail>"), see generic_unavailable().
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "pg/pg_connection.hpp"
#include "secchats/common/result.hpp"

namespace secchats::server::pg {

// The one reason a client is given for any database-side failure (HTTP 503).
inline constexpr std::string_view kStorageUnavailable = "storage unavailable";

// Logs `detail` (prefixed with `log_prefix`) as a warning on the relay and returns
// kUnavailable kStorageUnavailable, the only thing a request may report.
Error generic_unavailable(std::string_view log_prefix, const Error& detail);

struct ReconnectOptions {
  std::string uri;  // libpq connection URI
  // Bounds one connect attempt (PgConnection::open).
  std::chrono::milliseconds connect_timeout{5000};
  // Wait after a failed attempt: doubles from min to max while the database stays unreachable.
  std::chrono::milliseconds backoff_min{100};
  std::chrono::milliseconds backoff_max{5000};
  // Run on every new connection before it is used, e.g. "SET statement_timeout = 60000"
  // (PostgreSQL docs, "Client Connection Defaults"); empty for none. A failure counts as a
  // failed connect.
  std::string session_setup;
  // Client-side deadline of every statement on these connections (PgConnection::
  // set_query_timeout); 0 for none. Also sent as the server-side statement_timeout.
  std::chrono::milliseconds query_timeout{0};
  // Starts every kUnavailable message (logged, not sent): "storage", "blob store".
  std::string error_prefix = "database unavailable";
};

class ReconnectGate {
 public:
  explicit ReconnectGate(ReconnectOptions options);

  // A new connection with the session setup applied, or kUnavailable — without trying while
  // the backoff window after a failure lasts.
  Result<std::unique_ptr<PgConnection>> open();

  const std::string& error_prefix() const { return options_.error_prefix; }

 private:
  const ReconnectOptions options_;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point retry_after_{};
  std::chrono::milliseconds backoff_{0};
  std::string last_error_;
};

// At most `size` connections (idle + lent + being opened), opened through the gate on demand.
// A caller waits for a free one at most `wait`, then gets kUnavailable. An idle connection is
// checked before it is lent (after a database restart the server's goodbye is waiting on its
// socket) and a dead one is dropped; a connection handed back broken is dropped together with
// every idle one, which died with it.
class PgPool {
 public:
  // A lent connection, handed back on destruction (dropped if broken or discard()ed).
  class Lease {
   public:
    Lease(PgPool* pool, std::unique_ptr<PgConnection> conn, bool fresh)
        : pool_(pool), conn_(std::move(conn)), fresh_(fresh) {}
    ~Lease();
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

    PgConnection& operator*() { return *conn_; }
    PgConnection* operator->() { return conn_.get(); }
    // True when the connection was opened for this lease (not reused from the idle list).
    bool fresh() const { return fresh_; }
    // The connection's session state is unknown (a failed ROLLBACK): close it, do not reuse.
    void discard() { discard_ = true; }

   private:
    PgPool* pool_;
    std::unique_ptr<PgConnection> conn_;
    bool fresh_;
    bool discard_ = false;
  };

  // `gate` must outlive the pool.
  PgPool(ReconnectGate& gate, int size, std::chrono::milliseconds wait);
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  // An idle connection, or a new one while fewer than `size` are open. kUnavailable when
  // every connection stayed busy for `wait` or the database cannot be reached.
  Result<Lease> acquire();

  // Runs an idempotent `fn(PgConnection&)` (a read) on a lent connection. If a reused
  // connection broke during the call (the database restarted since it was last used), the
  // call is retried once on a fresh one; not after a missed deadline. Every failure is kUnavailable
  // kStorageUnavailable, its detail logged (generic_unavailable).
  template <typename Fn>
  auto run(Fn&& fn) -> decltype(fn(std::declval<PgConnection&>())) {
    for (int attempt = 0;; ++attempt) {
      auto lease = acquire();
      if (!lease.ok()) return generic_unavailable(gate_.error_prefix(), lease.error());
      auto result = fn(**lease);
      if ((*lease)->healthy() || (*lease)->timed_out() || lease->fresh() || attempt > 0) {
        return with_prefix(std::move(result));
      }
    }
  }

 private:
  void give_back(std::unique_ptr<PgConnection> conn, bool discard);

  template <typename R>
  R with_prefix(R result) const {
    if (result.ok()) return result;
    return generic_unavailable(gate_.error_prefix(), result.error());
  }

  ReconnectGate& gate_;
  const int size_;
  const std::chrono::milliseconds wait_;
  std::mutex mutex_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<PgConnection>> idle_;
  int open_ = 0;  // idle + lent + being opened
};

}  // namespace secchats::server::pg
