#include "blob/pg_blob_pool.hpp"

#include <algorithm>
#include <utility>

namespace secchats::server {
namespace {

constexpr std::chrono::milliseconds kBackoffMin{100};
constexpr std::chrono::milliseconds kBackoffMax{5000};

}  // namespace

PgBlobPool::Lease::~Lease() {
  if (pool_ != nullptr && conn_) pool_->give_back(std::move(conn_), discard_);
}

PgBlobPool::PgBlobPool(std::string uri, std::size_t size, std::chrono::milliseconds connect_timeout)
    : uri_(std::move(uri)),
      size_(std::max<std::size_t>(size, 1)),
      connect_timeout_(connect_timeout) {}

Result<std::unique_ptr<pg::PgConnection>> PgBlobPool::connect() {
  auto conn = pg::PgConnection::open(uri_, connect_timeout_);
  if (!conn.ok()) {
    // Authentication and URI mistakes are not transient, but a request can only report
    // them as "unavailable"; the relay checked them at start.
    return Error(ErrorCode::kUnavailable,
                 "blob store: database unreachable: " + conn.error().message());
  }
  const std::string settings = "SET synchronous_commit = on; SET statement_timeout = " +
                               std::to_string(kPgBlobStatementTimeout.count());
  auto set = (*conn)->exec(settings);
  if (!set.ok()) return Error(ErrorCode::kUnavailable, "blob store: " + set.error().message());
  return std::move(*conn);
}

Result<PgBlobPool::Lease> PgBlobPool::acquire() {
  std::unique_lock lock(mutex_);
  const auto deadline = std::chrono::steady_clock::now() + connect_timeout_;
  for (;;) {
    while (idle_.empty() && open_ >= size_) {
      if (returned_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
          open_ >= size_) {
        return Error(ErrorCode::kUnavailable, "blob store: every database connection is busy");
      }
    }
    if (idle_.empty()) break;
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    lock.unlock();
    // An idle connection learns of a database restart only by reading: the server's
    // goodbye (or the socket's EOF) is waiting. Drop such a one rather than fail a request.
    if (conn->take_notifications().ok() && conn->healthy()) return Lease(this, std::move(conn));
    conn.reset();
    lock.lock();
    --open_;
  }
  if (std::chrono::steady_clock::now() < retry_at_) {
    return Error(ErrorCode::kUnavailable, "blob store: database unreachable; retrying shortly");
  }
  ++open_;
  lock.unlock();
  auto conn = connect();
  lock.lock();
  if (!conn.ok()) {
    --open_;
    backoff_ = std::clamp(backoff_ * 2, kBackoffMin, kBackoffMax);
    retry_at_ = std::chrono::steady_clock::now() + backoff_;
    returned_.notify_one();
    return std::move(conn).error();
  }
  backoff_ = std::chrono::milliseconds{0};
  return Lease(this, std::move(*conn));
}

void PgBlobPool::give_back(std::unique_ptr<pg::PgConnection> conn, bool discard) {
  std::lock_guard lock(mutex_);
  if (discard || !conn->healthy()) {
    --open_;
    conn.reset();
  } else {
    idle_.push_back(std::move(conn));
  }
  returned_.notify_one();
}

}  // namespace secchats::server
