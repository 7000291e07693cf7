// The PostgreSQL blob store's connection pool: at most `size` libpq connections, opened on
// demand, a broken one dropped when it is handed back. While the database is unreachable,
// connection attempts back off (doubling from 100 ms to 5 s) and acquire() fails fast with
// kUnavailable (HTTP 503) in between, so a dead database costs a request no connect timeout.
//
// Each connection runs with synchronous_commit = on (a committed append is durable; the
// database's default could be off) and a statement_timeout (kPgBlobStatementTimeout), so no
// blob request waits on the database forever.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pg/pg_connection.hpp"
#include "secchats/common/result.hpp"

namespace secchats::server {

inline constexpr std::chrono::milliseconds kPgBlobStatementTimeout{60000};

class PgBlobPool {
 public:
  // A borrowed connection, handed back on destruction (dropped if broken or discard()ed).
  class Lease {
   public:
    Lease(PgBlobPool* pool, std::unique_ptr<pg::PgConnection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    ~Lease();
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    pg::PgConnection& operator*() { return *conn_; }
    pg::PgConnection* operator->() { return conn_.get(); }
    // The connection's session state is unknown (a failed ROLLBACK): close it, do not reuse.
    void discard() { discard_ = true; }

   private:
    PgBlobPool* pool_;
    std::unique_ptr<pg::PgConnection> conn_;
    bool discard_ = false;
  };

  PgBlobPool(std::string uri, std::size_t size, std::chrono::milliseconds connect_timeout);
  PgBlobPool(const PgBlobPool&) = delete;
  PgBlobPool& operator=(const PgBlobPool&) = delete;

  // An idle connection, or a new one while fewer than `size` are open; waits up to the
  // connect timeout for one to come back. kUnavailable when the database cannot be reached
  // (or during the backoff after a failed attempt) or every connection stayed busy.
  Result<Lease> acquire();

 private:
  void give_back(std::unique_ptr<pg::PgConnection> conn, bool discard);
  Result<std::unique_ptr<pg::PgConnection>> connect();

  const std::string uri_;
  const std::size_t size_;
  const std::chrono::milliseconds connect_timeout_;
  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<pg::PgConnection>> idle_;
  std::size_t open_ = 0;  // idle + leased + being opened
  std::chrono::steady_clock::time_point retry_at_{};
  std::chrono::milliseconds backoff_{0};
};

}  // namespace secchats::server
