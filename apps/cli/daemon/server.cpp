#include "daemon/server.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/experimental/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <memory>
#include <set>
#include <thread>

#include "daemon/dispatcher.hpp"
#include "daemon/jsonrpc.hpp"
#include "daemon/peer.hpp"
#include "daemon/worker.hpp"

namespace secchats::cli::daemon {
namespace asio = boost::asio;
namespace json = boost::json;
using asio::local::stream_protocol;
using namespace asio::experimental::awaitable_operators;

namespace {

std::string lock_path(const std::string& home) {
  return home + "/daemon.lock";
}

// The lock file's text when another process holds it, else "".
std::string held_lock_text(const std::string& home) {
  const int fd = ::open(lock_path(home).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  std::string text;
  if (::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
    std::array<char, 4096> buf{};
    const ssize_t n = ::pread(fd, buf.data(), buf.size(), 0);
    if (n > 0) text.assign(buf.data(), static_cast<std::size_t>(n));
  }
  ::close(fd);
  return text;
}

}  // namespace

Result<DaemonLock> DaemonLock::acquire(const std::string& home, const std::string& socket) {
  const int fd = ::open(lock_path(home).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Error(ErrorCode::kInternal,
                 "cannot open " + lock_path(home) + ": " + std::strerror(errno));
  }
  // A command checking for a daemon holds a shared lock for a moment: try a few times.
  for (int attempt = 0;; ++attempt) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) break;
    if (attempt == 20) {
      std::array<char, 64> buf{};
      const ssize_t n = ::pread(fd, buf.data(), buf.size() - 1, 0);
      ::close(fd);
      std::string pid = n > 0 ? std::string(buf.data(), static_cast<std::size_t>(n)) : "";
      pid = pid.substr(0, pid.find('\n'));
      return Error(ErrorCode::kAlreadyExists, pid.empty() ? "?" : pid);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  const std::string text = std::to_string(::getpid()) + "\n" + socket + "\n";
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    ::close(fd);
    return Error(ErrorCode::kInternal, "cannot write " + lock_path(home));
  }
  return DaemonLock(fd);
}

DaemonLock::~DaemonLock() {
  if (fd_ >= 0) {
    (void)!::ftruncate(fd_, 0);
    ::close(fd_);
  }
}

std::string running_daemon_socket(const std::string& home) {
  const std::string text = held_lock_text(home);
  const std::size_t first = text.find('\n');
  if (first == std::string::npos) return {};
  std::string socket = text.substr(first + 1);
  if (const std::size_t end = socket.find('\n'); end != std::string::npos) socket.resize(end);
  return socket;
}

long running_daemon_pid(const std::string& home) {
  const std::string text = held_lock_text(home);
  return text.empty() ? 0 : std::atol(text.c_str());
}

namespace {

constexpr auto kLineTimeout = std::chrono::seconds(10);  // to finish a line once begun

struct State {
  Client& client;
  std::string home;
  Worker worker;
  std::set<std::shared_ptr<Peer>> peers;  // I/O thread only: the open connections
  State(Client& c, std::string h) : client(c), home(std::move(h)), worker(c) {}
};

// The answers of one line: a batch's come back as one array once all are in.
struct Answers {
  std::shared_ptr<Peer> peer;
  bool batch = false;
  std::mutex mu;
  std::size_t pending = 0;
  std::vector<std::string> lines;

  void add(std::string answer) {
    if (!batch) {
      if (!answer.empty()) peer->send(std::move(answer));
      return;
    }
    std::lock_guard lock(mu);
    if (!answer.empty()) lines.push_back(std::move(answer));
    if (--pending > 0 || lines.empty()) return;
    std::string all = "[";
    for (std::size_t i = 0; i < lines.size(); ++i)
      all += (i ? "," : "") + lines[i];
    all += "]";
    peer->send(std::move(all));
  }
};

// Progress notifications: at most four a second, plus each phase's first and last.
class ProgressThrottle {
 public:
  bool due(const json::object& p) {
    const auto now = std::chrono::steady_clock::now();
    const json::value* phase = p.if_contains("phase");
    const std::string name = phase && phase->is_string() ? std::string(phase->as_string()) : "";
    const bool complete = p.if_contains("doneBytes") && p.if_contains("totalBytes") &&
                          p.at("doneBytes") == p.at("totalBytes");
    if (name != phase_ || complete || now - last_ >= std::chrono::milliseconds(250)) {
      phase_ = name;
      last_ = now;
      return true;
    }
    return false;
  }

 private:
  std::string phase_;
  std::chrono::steady_clock::time_point last_{};
};

void submit_call(State& state, const std::shared_ptr<Answers>& answers, Call call) {
  const std::shared_ptr<Peer> peer = answers->peer;
  const json::value id = call.id ? *call.id : json::value(nullptr);
  const bool answered = call.id.has_value();
  Worker::Job job;
  job.refuse = [answers, peer, id, answered] {
    answers->add(answered ? error_response(id, 1, "the daemon is stopping") : "");
    peer->call_done();
  };
  if (call.method == "subscribe" || call.method == "unsubscribe") {
    job.run = [&state, answers, peer, id, answered, call](Client&) {
      bool text = false;
      for (const auto& member : call.params) {
        const json::value& v = member.value();
        if (member.key() != "format" || !v.is_string() ||
            (v.as_string() != "text" && v.as_string() != "json")) {
          answers->add(answered
                           ? error_response(id, kInvalidParams,
                                            "subscribe takes only format (\"json\" or \"text\")")
                           : "");
          peer->call_done();
          return;
        }
        text = v.as_string() == "text";
      }
      json::object result;
      if (call.method == "subscribe") {
        state.worker.subscribe(peer, text);
        result["subscribed"] = true;
      } else {
        state.worker.unsubscribe(peer.get());
        result["subscribed"] = false;
      }
      answers->add(answered ? result_response(id, std::move(result)) : "");
      peer->call_done();
    };
  } else {
    // A transfer with an id may be stopped by the connection's `cancelRequest`; the flag is
    // untracked before the answer goes out, so a cancel after the answer says false.
    std::shared_ptr<std::atomic<bool>> cancel_flag;
    if (answered && is_transfer_method(call.method)) {
      cancel_flag = peer->track_cancellable(json::serialize(id));
    }
    const auto untrack = [peer, cancel_flag] {
      if (cancel_flag) peer->untrack_cancellable(cancel_flag);
    };
    job.refuse = [answers, peer, id, answered, untrack] {
      untrack();
      answers->add(answered ? error_response(id, 1, "the daemon is stopping") : "");
      peer->call_done();
    };
    job.run = [&state, answers, peer, id, answered, call, cancel_flag, untrack](Client& client) {
      if (peer->closed()) {
        // Its client has gone (or was dropped for not reading): nobody waits for this answer,
        // and a flood of requests left behind must not hold up the other connections.
        untrack();
        answers->add("");
        peer->call_done();
        return;
      }
      auto throttle = std::make_shared<ProgressThrottle>();
      const Answer a = run_call(
          client, state.home, call,
          [&](json::object p) {
            if (!throttle->due(p)) return;
            json::object params;
            params["requestId"] = id;
            for (auto& member : p)
              params[member.key()] = member.value();
            peer->send(notification("progress", std::move(params)));
          },
          [&peer, &cancel_flag] { return peer->closed() || (cancel_flag && cancel_flag->load()); });
      untrack();
      if (!answered) {
        answers->add("");
      } else if (a.ok) {
        answers->add(result_response(id, a.result));
      } else {
        answers->add(error_response(id, a.code, a.message));
      }
      peer->call_done();
    };
  }
  state.worker.submit(std::move(job));
}

// `cancelRequest` {"id": ID} (docs/cli.md, "Cancelling a request"): answered at once on the
// I/O thread, not queued behind the transfer it stops. {"cancelled":true}: a transfer of
// this connection with that id is queued or running and stops at its next chunk (its own
// answer then is error 130 "stopped at …", or its real outcome if it finished first);
// {"cancelled":false}: no such transfer is in flight (unknown id, already answered, or not a
// transfer), and nothing changes.
std::string cancel_request(const std::shared_ptr<Peer>& peer, const Call& call) {
  const json::value* target = call.params.if_contains("id");
  if (call.params.size() != 1 || !target || !(target->is_string() || target->is_number())) {
    return call.id ? error_response(*call.id, kInvalidParams,
                                    "cancelRequest takes id: the id of a request in flight")
                   : "";
  }
  const bool cancelled = peer->cancel(json::serialize(*target));
  if (!call.id) return "";
  json::object result;
  result["cancelled"] = cancelled;
  return result_response(*call.id, std::move(result));
}

void handle_line(State& state, const std::shared_ptr<Peer>& peer, std::string_view line) {
  ParsedLine parsed = parse_line(line);
  auto answers = std::make_shared<Answers>();
  answers->peer = peer;
  answers->batch = parsed.batch;
  answers->pending = parsed.items.size();
  for (const auto& item : parsed.items) {
    if (item.call) peer->call_begun();
  }
  for (auto& item : parsed.items) {
    if (item.call && item.call->method == "cancelRequest") {
      answers->add(cancel_request(peer, *item.call));
      peer->call_done();
    } else if (item.call) {
      submit_call(state, answers, std::move(*item.call));
    } else {
      answers->add(std::move(item.answer));
    }
  }
}

asio::awaitable<void> run_writes(std::shared_ptr<Peer> peer) {
  co_await peer->write_loop();
}

// Reads newline-delimited requests until the peer ends, stalls mid-line for kLineTimeout,
// sends a line over 1 MiB, or the daemon stops (Peer::finish). Answers are written by the
// peer's write_loop; the connection closes once they are all out.
asio::awaitable<void> serve_connection(State& state, stream_protocol::socket socket) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
      cred.uid != ::getuid()) {
    std::cerr << "secchats daemon: refused a connection from another user\n";
    co_return;
  }
  const auto executor = co_await asio::this_coro::executor;
  auto peer = std::make_shared<Peer>(std::move(socket));
  state.peers.insert(peer);
  asio::co_spawn(executor, run_writes(peer), asio::detached);
  const auto token = asio::experimental::as_tuple(asio::use_awaitable);
  asio::steady_timer timer(executor);
  std::string buffer;
  std::array<char, 65536> chunk{};
  auto line_deadline = std::chrono::steady_clock::now();
  while (peer->reading()) {
    std::size_t n = 0;
    if (buffer.empty()) {
      auto [ec, got] = co_await peer->socket().async_read_some(asio::buffer(chunk), token);
      if (ec) break;
      n = got;
      line_deadline = std::chrono::steady_clock::now() + kLineTimeout;
    } else {
      timer.expires_at(line_deadline);
      auto result = co_await (peer->socket().async_read_some(asio::buffer(chunk), token) ||
                              timer.async_wait(token));
      if (result.index() == 1) break;  // a line begun and not finished in time
      auto [ec, got] = std::get<0>(result);
      if (ec) break;
      n = got;
    }
    if (!peer->reading()) break;  // the daemon is stopping: take no more requests
    buffer.append(chunk.data(), n);
    std::size_t start = 0;
    for (std::size_t nl; (nl = buffer.find('\n', start)) != std::string::npos; start = nl + 1) {
      std::string_view line(buffer.data() + start, nl - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
      handle_line(state, peer, line);
    }
    buffer.erase(0, start);
    if (!buffer.empty() && start > 0)
      line_deadline = std::chrono::steady_clock::now() + kLineTimeout;
    if (buffer.size() > kMaxLineBytes) {
      peer->send(error_response(nullptr, kInvalidRequest, "a line longer than 1 MiB"));
      break;
    }
  }
  peer->finish();  // what is owed is still answered, then the writer closes
  state.worker.submit({[&state, peer](Client&) { state.worker.unsubscribe(peer.get()); }, [] {}});
  state.peers.erase(peer);
}

asio::awaitable<void> accept_loop(State& state, stream_protocol::acceptor& acceptor) {
  const auto token = asio::experimental::as_tuple(asio::use_awaitable);
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(token);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) continue;
    asio::co_spawn(acceptor.get_executor(), serve_connection(state, std::move(socket)),
                   asio::detached);
  }
}

}  // namespace

Status serve(Client& client, const std::string& home, const std::string& socket_path,
             const std::function<void()>& ready) {
  asio::io_context io;
  State state(client, home);
  // We hold the lock: a socket file there is a dead daemon's.
  struct stat st {};
  if (::lstat(socket_path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return Error(ErrorCode::kInvalidArgument, socket_path + " exists and is not a socket");
    }
    ::unlink(socket_path.c_str());
  }
  stream_protocol::acceptor acceptor(io);
  boost::system::error_code ec;
  acceptor.open(stream_protocol(), ec);
  if (!ec) {
    const mode_t old = ::umask(0177);  // created 0600: no moment with wider access
    acceptor.bind(stream_protocol::endpoint(socket_path), ec);
    ::umask(old);
  }
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return Error(ErrorCode::kInternal, "cannot listen on " + socket_path + ": " + ec.message());

  asio::signal_set signals(io, SIGTERM, SIGINT);
  std::thread stopper;
  signals.async_wait([&](const boost::system::error_code& e, int) {
    if (e) return;
    std::cerr << "secchats daemon: stopping\n";
    acceptor.close();
    ::unlink(socket_path.c_str());
    state.worker.request_stop();
    // Once the worker has answered or refused every request, each connection writes what it
    // owes and closes (Peer::finish); io.run() returns when the last one has.
    stopper = std::thread([&] {
      state.worker.join();
      asio::post(io, [&state] {
        for (const auto& peer : state.peers)
          peer->finish();
      });
    });
  });
  state.worker.start();
  asio::co_spawn(io, accept_loop(state, acceptor), asio::detached);
  std::cerr << "secchats daemon: started\n";
  ready();
  io.run();
  if (stopper.joinable()) stopper.join();
  state.worker.request_stop();
  state.worker.join();
  ::unlink(socket_path.c_str());
  std::cerr << "secchats daemon: stopped\n";
  return ok_status();
}

}  // namespace secchats::cli::daemon
