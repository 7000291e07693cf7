#include "daemon/peer.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <string>

namespace secchats::cli::daemon {

bool Peer::write_line(std::string_view line) {
  std::lock_guard lock(mu_);
  if (closed_) return false;
  std::string data(line);
  data += '\n';
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(kWriteTimeoutMs);
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n =
        ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLOUT, 0};
      if (left.count() > 0 && ::poll(&p, 1, static_cast<int>(left.count())) > 0 &&
          (p.revents & POLLOUT) != 0) {
        continue;
      }
      if (left.count() > 0 && errno == EINTR) continue;
    }
    ::shutdown(fd_, SHUT_RDWR);
    closed_ = true;
    return false;
  }
  return true;
}

void Peer::shut_down() {
  std::lock_guard lock(mu_);
  if (!closed_) ::shutdown(fd_, SHUT_RDWR);
  closed_ = true;
}

void Peer::mark_closed() {
  std::lock_guard lock(mu_);
  closed_ = true;
}

bool Peer::open() {
  std::lock_guard lock(mu_);
  return !closed_;
}

}  // namespace secchats::cli::daemon
