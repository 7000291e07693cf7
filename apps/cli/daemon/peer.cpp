#include "daemon/peer.hpp"

#include <boost/asio/experimental/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>

#include <optional>
#include <utility>

namespace secchats::cli::daemon {
namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

bool WriteDone::wait(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [this] { return state_ != 0; });
  return state_ == 1;
}

void WriteDone::set(bool ok) {
  {
    std::lock_guard lock(mu_);
    if (state_ != 0) return;
    state_ = ok ? 1 : 2;
  }
  cv_.notify_all();
}

Peer::Peer(Socket socket) : socket_(std::move(socket)), wake_(socket_.get_executor()) {}

std::shared_ptr<WriteDone> Peer::queue(std::string line, bool tracked) {
  auto done = tracked ? std::make_shared<WriteDone>() : nullptr;
  {
    std::lock_guard lock(mu_);
    if (closed_) {
      if (done) done->set(false);
      return done;
    }
    line += '\n';
    lines_.push_back({std::move(line), done});
  }
  wake();
  return done;
}

bool Peer::send(std::string line) {
  {
    std::lock_guard lock(mu_);
    if (closed_) return false;
  }
  queue(std::move(line), false);
  return true;
}

std::shared_ptr<WriteDone> Peer::send_tracked(std::string line) {
  return queue(std::move(line), true);
}

void Peer::call_begun(std::size_t n) {
  std::lock_guard lock(mu_);
  owed_ += n;
}

void Peer::call_done() {
  {
    std::lock_guard lock(mu_);
    if (owed_ > 0) --owed_;
    if (owed_ > 0 || !finishing_) return;
  }
  wake();
}

void Peer::finish() {
  {
    std::lock_guard lock(mu_);
    if (finishing_) return;
    finishing_ = true;
  }
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->reading_ = false;
    boost::system::error_code ignored;
    // Wakes a read in progress with the end of the stream.
    if (self->socket_.is_open()) self->socket_.shutdown(Socket::shutdown_receive, ignored);
    self->wake_.cancel();
  });
}

bool Peer::open() {
  std::lock_guard lock(mu_);
  return !closed_ && !finishing_;
}

bool Peer::closed() {
  std::lock_guard lock(mu_);
  return closed_;
}

std::shared_ptr<std::atomic<bool>> Peer::track_cancellable(std::string id_key) {
  auto flag = std::make_shared<std::atomic<bool>>(false);
  std::lock_guard lock(mu_);
  cancellable_.emplace_back(std::move(id_key), flag);
  return flag;
}

void Peer::untrack_cancellable(const std::shared_ptr<std::atomic<bool>>& flag) {
  std::lock_guard lock(mu_);
  std::erase_if(cancellable_, [&flag](const auto& entry) { return entry.second == flag; });
}

bool Peer::cancel(const std::string& id_key) {
  std::lock_guard lock(mu_);
  bool found = false;
  for (auto& [key, flag] : cancellable_) {
    if (key == id_key) {
      flag->store(true);
      found = true;
    }
  }
  return found;
}

void Peer::wake() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->wake_.cancel(); });
}

void Peer::close_socket() {
  std::deque<Line> failed;
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    failed.swap(lines_);
  }
  for (auto& line : failed) {
    if (line.done) line.done->set(false);
  }
  reading_ = false;
  boost::system::error_code ignored;
  socket_.shutdown(Socket::shutdown_both, ignored);
  socket_.close(ignored);
}

asio::awaitable<void> Peer::write_loop() {
  const auto token = asio::experimental::as_tuple(asio::use_awaitable);
  asio::steady_timer deadline(socket_.get_executor());
  for (;;) {
    std::optional<Line> line;
    {
      std::lock_guard lock(mu_);
      if (closed_) break;
      if (!lines_.empty()) {
        line = std::move(lines_.front());
        lines_.pop_front();
      } else if (finishing_ && owed_ == 0) {
        break;  // everything answered and written
      }
    }
    if (!line) {
      // Woken by wake() (a cancel) when there is something to write or to finish.
      wake_.expires_at(asio::steady_timer::time_point::max());
      co_await wake_.async_wait(token);
      continue;
    }
    deadline.expires_after(kWriteTimeout);
    auto result = co_await (asio::async_write(socket_, asio::buffer(line->data), token) ||
                            deadline.async_wait(token));
    const bool written = result.index() == 0 && !std::get<0>(std::get<0>(result));
    if (line->done) line->done->set(written);
    if (!written) break;  // gone, or read nothing for kWriteTimeout: dropped
  }
  close_socket();
}

}  // namespace secchats::cli::daemon
