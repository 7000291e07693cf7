#include "storage/postgres/pg_listener.hpp"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <string_view>

#include "pg/pg_connection.hpp"
#include "secchats/common/log.hpp"
#include "storage/postgres/pg_storage.hpp"

namespace secchats::server {

namespace {

using Clock = std::chrono::steady_clock;

// Channel names go into LISTEN as identifiers; ours are plain lower-case words.
bool valid_channel(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace

PgListener::PgListener(PgListenerOptions options, KeyCallback on_key, ResumeCallback on_resume)
    : options_(std::move(options)), on_key_(std::move(on_key)), on_resume_(std::move(on_resume)) {
  if (options_.channel.empty()) options_.channel = std::string(kWakeChannel);
}

Result<std::unique_ptr<PgListener>> PgListener::start(PgListenerOptions options, KeyCallback on_key,
                                                      ResumeCallback on_resume) {
  std::unique_ptr<PgListener> listener(
      new PgListener(std::move(options), std::move(on_key), std::move(on_resume)));
  if (!valid_channel(listener->options_.channel)) {
    return Error(ErrorCode::kInvalidArgument,
                 "LISTEN channel must be 1-63 characters of a-z, 0-9 and _");
  }
  SC_ASSIGN_OR_RETURN(auto conn, listener->connect_and_listen());
  listener->listening_ = true;
  PgListener* self = listener.get();
  listener->thread_ =
      std::thread([self, c = std::move(conn)]() mutable { self->run(std::move(c)); });
  return listener;
}

PgListener::~PgListener() {
  stop();
}

void PgListener::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

PgListenerStats PgListener::stats() const {
  PgListenerStats s;
  s.notifications = notifications_.load(std::memory_order_relaxed);
  s.keys = keys_.load(std::memory_order_relaxed);
  s.reconnects = reconnects_.load(std::memory_order_relaxed);
  s.listening = listening_.load(std::memory_order_relaxed);
  return s;
}

Result<std::unique_ptr<pg::PgConnection>> PgListener::connect_and_listen() const {
  SC_ASSIGN_OR_RETURN(auto conn, pg::PgConnection::open(options_.uri, options_.connect_timeout));
  // LISTEN and the heartbeat's SELECT 1 wait at most connect_timeout: a frozen database then
  // reads as a lost connection, and stop() is never held up for longer.
  conn->set_query_timeout(std::max(options_.connect_timeout, std::chrono::milliseconds(1000)));
  SC_TRY(conn->exec("LISTEN " + options_.channel));
  return conn;
}

bool PgListener::sleep_unless_stopped(std::chrono::milliseconds d) {
  std::unique_lock lock(mutex_);
  stop_cv_.wait_for(lock, d, [this] { return stopping_; });
  return !stopping_;
}

bool PgListener::drain(pg::PgConnection& conn) {
  auto received = conn.take_notifications();
  if (!received.ok()) return false;
  for (const auto& [channel, payload] : *received) {
    if (channel != options_.channel) continue;
    notifications_.fetch_add(1, std::memory_order_relaxed);
    std::string_view rest = payload;
    while (!rest.empty()) {
      const std::size_t end = std::min(rest.find('\n'), rest.size());
      if (end > 0) {
        keys_.fetch_add(1, std::memory_order_relaxed);
        on_key_(std::string(rest.substr(0, end)));
      }
      rest.remove_prefix(std::min(end + 1, rest.size()));
    }
  }
  return conn.healthy();
}

void PgListener::run(std::unique_ptr<pg::PgConnection> conn) {
  auto backoff = options_.reconnect_backoff_min;
  auto last_traffic = Clock::now();
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    if (!conn) {
      auto fresh = connect_and_listen();
      if (!fresh.ok()) {
        log::debug("LISTEN connection: still unreachable: " + fresh.error().message());
        if (!sleep_unless_stopped(backoff)) return;
        backoff = std::min(backoff * 2, options_.reconnect_backoff_max);
        continue;
      }
      conn = std::move(fresh).value();
      backoff = options_.reconnect_backoff_min;
      last_traffic = Clock::now();
      listening_ = true;
      reconnects_.fetch_add(1, std::memory_order_relaxed);
      log::info("LISTEN connection re-established; waking every long-poll to re-check");
      // LISTEN is in effect from here on, so a waiter that re-checks storage now misses
      // nothing: what committed before is in storage, what commits after is notified.
      if (on_resume_) on_resume_();
      continue;
    }

    pollfd pfd{};
    pfd.fd = conn->socket();
    pfd.events = POLLIN;
    bool broken = pfd.fd < 0;
    if (!broken) {
      const int ready = ::poll(&pfd, 1, static_cast<int>(options_.stop_check_interval.count()));
      if (ready < 0 && errno != EINTR) broken = true;
      if (ready > 0) {
        last_traffic = Clock::now();
        broken = !drain(*conn);
      } else if (ready == 0 && Clock::now() - last_traffic >= options_.heartbeat_interval) {
        last_traffic = Clock::now();
        // A quiet connection may be a dead one; a round trip tells. Notifications that come
        // in with the answer are buffered by libpq and taken right after.
        broken = !conn->exec("SELECT 1").ok() || !drain(*conn);
      }
    }
    if (broken) {
      listening_ = false;
      conn.reset();
      log::warn("LISTEN connection to PostgreSQL lost; reconnecting with backoff");
      if (!sleep_unless_stopped(backoff)) return;
    }
  }
}

}  // namespace secchats::server
