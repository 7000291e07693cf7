// One client connection of the daemon as the worker thread sees it: whole lines written with
// a 10 s timeout from any thread, one writer at a time. The connection coroutine (server.cpp)
// owns the socket and reads; it calls mark_closed() before it closes the descriptor.
#pragma once

#include <mutex>
#include <string_view>

namespace secchats::cli::daemon {

inline constexpr int kWriteTimeoutMs = 10'000;  // a peer that does not read for 10 s is dropped

class Peer {
 public:
  explicit Peer(int fd) : fd_(fd) {}
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  // Writes LINE and '\n'; true once all of it is in the socket. False if the peer is gone
  // or read nothing for kWriteTimeoutMs: the connection is then shut down (its reader sees
  // the end and closes it) and every later write fails at once.
  bool write_line(std::string_view line);
  // Shuts the connection down for both directions (ends a subscription at stop).
  void shut_down();
  // No more writes: the descriptor is about to be closed.
  void mark_closed();
  bool open();

 private:
  std::mutex mu_;
  int fd_;
  bool closed_ = false;
};

}  // namespace secchats::cli::daemon
