// The daemon's process side (docs/cli.md, "The daemon: one unlock for scripts and bots"):
// the lock HOME/daemon.lock, the Unix socket (mode 0600, peers checked by SO_PEERCRED), one
// Boost.Asio coroutine per connection reading newline-delimited JSON-RPC, SIGTERM/SIGINT.
#pragma once

#include <functional>
#include <string>

#include "secchats/client.hpp"
#include "secchats/common/result.hpp"

namespace secchats::cli::daemon {

// HOME/daemon.lock, held with flock(LOCK_EX) for the daemon's life; its text is the pid and
// the socket path, one per line ("1234\n/home/u/.secchats/daemon.sock\n").
class DaemonLock {
 public:
  // kAlreadyExists with the holder's pid as the message when another daemon holds it;
  // kInternal when the file cannot be opened.
  static Result<DaemonLock> acquire(const std::string& home, const std::string& socket);
  DaemonLock(DaemonLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  DaemonLock& operator=(DaemonLock&&) = delete;
  ~DaemonLock();

 private:
  explicit DaemonLock(int fd) : fd_(fd) {}
  int fd_;
};

// The socket named by a held HOME/daemon.lock, or "" when no daemon holds it (for the CLI).
std::string running_daemon_socket(const std::string& home);
// The pid in a held HOME/daemon.lock, or 0.
long running_daemon_pid(const std::string& home);

// Serves CLIENT on SOCKET until SIGTERM or SIGINT; calls READY once listening. An error is
// one the daemon could not start with (the socket cannot be made). Blocks.
Status serve(Client& client, const std::string& home, const std::string& socket,
             const std::function<void()>& ready);

}  // namespace secchats::cli::daemon
