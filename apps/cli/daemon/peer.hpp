// One client connection of the daemon (docs/cli.md, "The daemon"). The connection's two
// coroutines own its socket on the I/O thread: the reader (server.cpp) and write_loop, which
// writes the queued lines one after another, each within kWriteTimeout, so a peer that does
// not read never blocks the I/O thread or the other connections. Any thread hands lines over
// with send() / send_tracked(); the worker waits for an event's write (send_tracked) so that
// "taken" means the line is in the socket.
#pragma once

#include <boost/asio.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace secchats::cli::daemon {

inline constexpr auto kWriteTimeout = std::chrono::seconds(10);  // per line; then dropped

// The outcome of one queued line, for a thread that waits for it.
class WriteDone {
 public:
  // True once the whole line is in the socket; false when the connection failed or was
  // closed first, or TIMEOUT passed.
  bool wait(std::chrono::milliseconds timeout);
  void set(bool ok);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int state_ = 0;  // 0 pending, 1 written, 2 failed
};

class Peer : public std::enable_shared_from_this<Peer> {
 public:
  using Socket = boost::asio::local::stream_protocol::socket;
  explicit Peer(Socket socket);
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  // Any thread: queues LINE and '\n' and returns at once. False if the connection is closed
  // (the line is dropped).
  bool send(std::string line);
  // Any thread: as send; the result says when the line was written (or failed).
  std::shared_ptr<WriteDone> send_tracked(std::string line);

  // A request of this connection is on its way to the worker / was answered. The connection
  // is not closed after its reader ended while answers are still owed.
  void call_begun(std::size_t n = 1);
  void call_done();

  // Any thread: read no more; write what is queued and owed, then close. Used at stop, when
  // the reader ends, and to end a subscription at stop.
  void finish();
  // Any thread: false once the connection is closed or finishing.
  bool open();
  // Any thread: true once the connection is closed: a write failed (the client has gone, as
  // a CLI ended by Ctrl-C) or was not read for kWriteTimeout. Nothing more reaches it.
  bool closed();

  // Any thread: the transfers of this connection that `cancelRequest` may stop (docs/cli.md,
  // "Cancelling a request"), keyed by their request id serialized as JSON. The flag is set
  // by cancel() and read by the transfer at each chunk.
  std::shared_ptr<std::atomic<bool>> track_cancellable(std::string id_key);
  void untrack_cancellable(const std::shared_ptr<std::atomic<bool>>& flag);
  // True if a tracked request has that id (it is now asked to stop); false if none does.
  bool cancel(const std::string& id_key);

  // I/O thread only.
  Socket& socket() { return socket_; }
  bool reading() const { return reading_; }
  // Writes queued lines until the connection closes; the coroutine that owns the writes.
  boost::asio::awaitable<void> write_loop();

 private:
  struct Line {
    std::string data;  // with the '\n'
    std::shared_ptr<WriteDone> done;
  };
  std::shared_ptr<WriteDone> queue(std::string line, bool tracked);
  void wake();          // any thread: write_loop looks at the queue again
  void close_socket();  // I/O thread: shut down and close; fail what is queued

  Socket socket_;
  boost::asio::steady_timer wake_;
  bool reading_ = true;  // I/O thread only
  std::mutex mu_;
  std::deque<Line> lines_;
  std::size_t owed_ = 0;  // calls begun and not yet answered
  bool finishing_ = false;
  bool closed_ = false;
  std::vector<std::pair<std::string, std::shared_ptr<std::atomic<bool>>>> cancellable_;
};

}  // namespace secchats::cli::daemon
