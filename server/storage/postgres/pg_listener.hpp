// Cross-relay wake-up (docs/operations.md "Wake-ups across relays: LISTEN/NOTIFY"): a
// dedicated, non-pooled PostgreSQL connection that LISTENs on kWakeChannel (PostgreSQL docs
// "LISTEN", "NOTIFY") in its own thread. Every relay's writer runs pg_notify(kWakeChannel, keys)
// inside its writing transaction, so a notification arrives exactly when a write has committed; the
// listener splits each payload on '\n' into queue keys (storage.hpp queue_key_for_user/group) and
// calls `on_key` once per key. The relay wires that to NotificationHub::notify.
//
// The connection must be a direct session (not a transaction-pooling pgbouncer: LISTEN is
// session state). When it breaks, the listener reconnects with backoff (doubling from
// reconnect_backoff_min to reconnect_backoff_max) and, once LISTENing again, calls
// `on_resume`: notifications sent while it was away are lost, so the relay wakes every
// waiting long-poll to re-check storage (NotificationHub::wake_all). While the connection is
// quiet for `heartbeat_interval` the listener sends a trivial query, so a connection that
// broke without closing its socket is noticed then too.
//
// Callbacks run on the listener's thread; keep them short (NotificationHub only posts).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "secchats/common/result.hpp"

namespace secchats::server {

namespace pg {
class PgConnection;
}

struct PgListenerOptions {
  std::string uri;      // libpq connection URI; the same database as the storage backend
  std::string channel;  // "" = kWakeChannel
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds reconnect_backoff_min{100};
  std::chrono::milliseconds reconnect_backoff_max{5000};
  // How often the thread looks up from poll(2) to see whether stop() was called.
  std::chrono::milliseconds stop_check_interval{100};
  std::chrono::milliseconds heartbeat_interval{5000};
};

struct PgListenerStats {
  std::uint64_t notifications = 0;  // payloads received on the channel
  std::uint64_t keys = 0;           // queue keys handed to on_key
  std::uint64_t reconnects = 0;     // times LISTEN was re-established after a break
  bool listening = false;           // LISTEN is in effect right now
};

class PgListener {
 public:
  using KeyCallback = std::function<void(const std::string& queue_key)>;
  using ResumeCallback = std::function<void()>;

  // Connects, runs LISTEN and starts the thread. kUnavailable (naming no credentials) when the
  // database cannot be reached now; kInvalidArgument for a malformed URI or channel name.
  static Result<std::unique_ptr<PgListener>> start(PgListenerOptions options, KeyCallback on_key,
                                                   ResumeCallback on_resume);
  ~PgListener();  // stop()
  PgListener(const PgListener&) = delete;
  PgListener& operator=(const PgListener&) = delete;

  // Ends the thread within about stop_check_interval (or connect_timeout while reconnecting)
  // and closes the connection. Idempotent.
  void stop();

  PgListenerStats stats() const;

 private:
  PgListener(PgListenerOptions options, KeyCallback on_key, ResumeCallback on_resume);
  Result<std::unique_ptr<pg::PgConnection>> connect_and_listen() const;
  void run(std::unique_ptr<pg::PgConnection> conn);
  // Reads what arrived; false when the connection broke.
  bool drain(pg::PgConnection& conn);
  // Sleeps up to `d` unless stop() is called meanwhile; false when stopping.
  bool sleep_unless_stopped(std::chrono::milliseconds d);

  PgListenerOptions options_;
  KeyCallback on_key_;
  ResumeCallback on_resume_;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;  // guarded by mutex_
  std::atomic<std::uint64_t> notifications_{0};
  std::atomic<std::uint64_t> keys_{0};
  std::atomic<std::uint64_t> reconnects_{0};
  std::atomic<bool> listening_{false};
};

}  // namespace secchats::server
