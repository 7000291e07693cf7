#include "storage/postgres/pg_pool.hpp"

#include <algorithm>

namespace secchats::server::postgres {

using pg::PgConnection;

ReconnectGate::ReconnectGate(std::string uri, std::chrono::milliseconds connect_timeout,
                             std::chrono::milliseconds backoff_min,
                             std::chrono::milliseconds backoff_max)
    : uri_(std::move(uri)),
      connect_timeout_(connect_timeout),
      backoff_min_(std::max(backoff_min, std::chrono::milliseconds(1))),
      backoff_max_(std::max(backoff_max, backoff_min_)) {}

Result<std::unique_ptr<PgConnection>> ReconnectGate::open() {
  {
    std::lock_guard lock(mutex_);
    if (std::chrono::steady_clock::now() < retry_after_) {
      return Error(ErrorCode::kUnavailable, "storage unavailable: " + last_error_);
    }
  }
  auto conn = PgConnection::open(uri_, connect_timeout_);
  std::lock_guard lock(mutex_);
  if (conn.ok()) {
    backoff_ = std::chrono::milliseconds(0);
    retry_after_ = {};
    return conn;
  }
  backoff_ = backoff_.count() == 0 ? backoff_min_ : std::min(backoff_ * 2, backoff_max_);
  retry_after_ = std::chrono::steady_clock::now() + backoff_;
  last_error_ = conn.error().message();
  if (conn.error().code() != ErrorCode::kUnavailable) return conn;
  return Error(ErrorCode::kUnavailable, "storage unavailable: " + last_error_);
}

PgPool::PgPool(ReconnectGate& gate, int size, std::chrono::milliseconds wait)
    : gate_(gate), size_(std::max(1, size)), wait_(wait) {}

Result<std::unique_ptr<PgConnection>> PgPool::acquire(bool& fresh) {
  {
    std::unique_lock lock(mutex_);
    const bool got = freed_.wait_for(lock, wait_, [&] { return !idle_.empty() || open_ < size_; });
    if (!got) {
      return Error(ErrorCode::kUnavailable, "storage unavailable: all " + std::to_string(size_) +
                                                " database connections are busy");
    }
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      fresh = false;
      return conn;
    }
    ++open_;
  }
  fresh = true;
  auto conn = gate_.open();
  if (!conn.ok()) {
    std::lock_guard lock(mutex_);
    --open_;
    freed_.notify_one();
  }
  return conn;
}

void PgPool::release(std::unique_ptr<PgConnection> conn) {
  std::lock_guard lock(mutex_);
  if (conn->healthy()) {
    idle_.push_back(std::move(conn));
  } else {
    // The database went away or restarted: the idle connections are as dead as this one.
    open_ -= 1 + static_cast<int>(idle_.size());
    idle_.clear();
    freed_.notify_all();
  }
  freed_.notify_one();
}

}  // namespace secchats::server::postgres
