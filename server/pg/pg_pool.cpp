#include "pg/pg_pool.hpp"

#include <algorithm>
#include <utility>

#include "secchats/common/log.hpp"

namespace secchats::server::pg {

Error generic_unavailable(std::string_view log_prefix, const Error& detail) {
  const std::string& m = detail.message();
  log::warn(m.starts_with(log_prefix) ? m : std::string(log_prefix) + ": " + m);
  return Error(ErrorCode::kUnavailable, std::string(kStorageUnavailable));
}

ReconnectGate::ReconnectGate(ReconnectOptions options)
    : options_([&] {
        options.backoff_min = std::max(options.backoff_min, std::chrono::milliseconds(1));
        options.backoff_max = std::max(options.backoff_max, options.backoff_min);
        return std::move(options);
      }()) {}

Result<std::unique_ptr<PgConnection>> ReconnectGate::open() {
  {
    std::lock_guard lock(mutex_);
    if (std::chrono::steady_clock::now() < retry_after_) {
      return Error(ErrorCode::kUnavailable, options_.error_prefix + ": " + last_error_);
    }
  }
  auto conn = PgConnection::open(options_.uri, options_.connect_timeout);
  if (conn.ok() && options_.query_timeout.count() > 0) {
    (*conn)->set_query_timeout(options_.query_timeout);
    // The server ends a statement at the same bound even when the client's cancel is lost.
    const std::string ms = std::to_string(options_.query_timeout.count());
    if (auto set = (*conn)->exec("SET statement_timeout = " + ms); !set.ok()) {
      conn = std::move(set).error();
    }
  }
  if (conn.ok() && !options_.session_setup.empty()) {
    if (auto set = (*conn)->exec(options_.session_setup); !set.ok()) conn = std::move(set).error();
  }
  std::lock_guard lock(mutex_);
  if (conn.ok()) {
    backoff_ = std::chrono::milliseconds(0);
    retry_after_ = {};
    return conn;
  }
  backoff_ =
      backoff_.count() == 0 ? options_.backoff_min : std::min(backoff_ * 2, options_.backoff_max);
  retry_after_ = std::chrono::steady_clock::now() + backoff_;
  last_error_ = conn.error().message();
  return Error(ErrorCode::kUnavailable, options_.error_prefix + ": " + last_error_);
}

PgPool::Lease::~Lease() {
  if (pool_ != nullptr && conn_) pool_->give_back(std::move(conn_), discard_);
}

PgPool::PgPool(ReconnectGate& gate, int size, std::chrono::milliseconds wait)
    : gate_(gate), size_(std::max(1, size)), wait_(wait) {}

Result<PgPool::Lease> PgPool::acquire() {
  std::unique_lock lock(mutex_);
  const auto deadline = std::chrono::steady_clock::now() + wait_;
  for (;;) {
    if (!freed_.wait_until(lock, deadline, [&] { return !idle_.empty() || open_ < size_; })) {
      return Error(ErrorCode::kUnavailable, gate_.error_prefix() + ": all " +
                                                std::to_string(size_) +
                                                " database connections are busy");
    }
    if (idle_.empty()) break;
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    lock.unlock();
    // An idle connection learns of a database restart only by reading: the server's goodbye
    // (or the socket's EOF) is waiting. Drop such a one rather than fail a request.
    if (conn->take_notifications().ok() && conn->healthy()) {
      return Lease(this, std::move(conn), /*fresh=*/false);
    }
    conn.reset();
    lock.lock();
    --open_;
  }
  ++open_;
  lock.unlock();
  auto conn = gate_.open();
  if (!conn.ok()) {
    lock.lock();
    --open_;
    freed_.notify_one();
    return std::move(conn).error();
  }
  return Lease(this, std::move(*conn), /*fresh=*/true);
}

void PgPool::give_back(std::unique_ptr<PgConnection> conn, bool discard) {
  std::vector<std::unique_ptr<PgConnection>> closing;  // closed outside the lock
  {
    std::lock_guard lock(mutex_);
    if (!conn->healthy()) {
      // The database went away or restarted: the idle connections are as dead as this one.
      closing.swap(idle_);
      open_ -= 1 + static_cast<int>(closing.size());
      freed_.notify_all();
    } else if (discard) {
      --open_;
    } else {
      idle_.push_back(std::move(conn));
    }
    freed_.notify_one();
  }
}

}  // namespace secchats::server::pg
