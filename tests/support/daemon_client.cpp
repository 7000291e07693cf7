#include "support/daemon_client.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace secchats::testing {
namespace {

using Clock = std::chrono::steady_clock;

// Responses are filed under their id serialized as JSON, so 7, "7" and null stay distinct.
std::string id_key(const boost::json::value& id) {
  return boost::json::serialize(id);
}

int ms_until(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

RpcReply reply_from(const boost::json::object& o) {
  RpcReply r;
  r.raw = o;
  if (const auto* res = o.if_contains("result")) {
    r.kind = RpcReply::Kind::kResult;
    r.result = *res;
    return r;
  }
  r.kind = RpcReply::Kind::kError;
  if (const auto* err = o.if_contains("error"); err && err->is_object()) {
    const auto& e = err->as_object();
    if (const auto* c = e.if_contains("code"); c && c->is_int64()) r.code = c->as_int64();
    if (const auto* m = e.if_contains("message"); m && m->is_string()) {
      r.message = std::string(m->as_string());
    }
  }
  return r;
}

}  // namespace

boost::json::object parse_object(const std::string& text, bool* ok) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  const bool good = !ec && v.is_object();
  if (ok) *ok = good;
  return good ? v.as_object() : boost::json::object{};
}

std::vector<boost::json::object> RpcReply::objects() const {
  std::vector<boost::json::object> out;
  if (kind != Kind::kResult || !result.is_array()) return out;
  for (const auto& v : result.as_array()) {
    if (v.is_object()) out.push_back(v.as_object());
  }
  return out;
}

std::string RpcReply::describe() const {
  switch (kind) {
    case Kind::kTimeout:
      return "(no answer before the timeout)";
    case Kind::kClosed:
      return "(the daemon closed the connection)";
    default:
      return boost::json::serialize(raw);
  }
}

std::unique_ptr<DaemonClient> DaemonClient::connect(const std::filesystem::path& socket,
                                                    std::string* error) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string path = socket.string();
  if (path.size() >= sizeof addr.sun_path) {
    if (error) *error = "socket path too long";
    return nullptr;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    if (error) *error = std::strerror(errno);
    return nullptr;
  }
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    if (error) *error = std::strerror(errno);
    ::close(fd);
    return nullptr;
  }
  return std::unique_ptr<DaemonClient>(new DaemonClient(fd));
}

DaemonClient::~DaemonClient() {
  close_socket();
}

void DaemonClient::close_socket() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool DaemonClient::send_line(const std::string& line) {
  if (fd_ < 0) return false;
  std::string data = line + "\n";
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

std::int64_t DaemonClient::send_request(const std::string& method,
                                        const boost::json::object& params) {
  const std::int64_t id = next_id_++;
  boost::json::object req{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
  req["params"] = params;
  return send_line(boost::json::serialize(req)) ? id : -1;
}

void DaemonClient::file(boost::json::value v) {
  if (v.is_object()) {
    auto& o = v.as_object();
    if (o.contains("id") && (o.contains("result") || o.contains("error"))) {
      replies_[id_key(o.at("id"))] = std::move(o);
      return;
    }
    if (o.contains("method") && !o.contains("id")) {
      notifications_.push_back(std::move(o));
      return;
    }
  }
  raw_.push_back(std::move(v));
}

bool DaemonClient::pump(Clock::time_point deadline) {
  for (;;) {
    if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      boost::system::error_code ec;
      auto v = boost::json::parse(line, ec);
      file(ec ? boost::json::value(boost::json::string(line)) : std::move(v));
      return true;
    }
    if (fd_ < 0) return false;
    pollfd p{fd_, POLLIN, 0};
    const int wait_ms = ms_until(deadline);
    const int got = ::poll(&p, 1, wait_ms);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    char buf[65536];
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      close_socket();
      continue;  // a last line without a newline is not a line
    }
    buffer_.append(buf, static_cast<std::size_t>(n));
  }
}

std::optional<RpcReply> DaemonClient::take_reply(const std::string& key) {
  auto it = replies_.find(key);
  if (it == replies_.end()) return std::nullopt;
  RpcReply r = reply_from(it->second);
  replies_.erase(it);
  return r;
}

RpcReply DaemonClient::wait_reply_value(const boost::json::value& id,
                                        std::chrono::milliseconds timeout) {
  const std::string key = id_key(id);
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (auto r = take_reply(key)) return *r;
    if (!pump(deadline)) {
      if (auto r = take_reply(key)) return *r;
      RpcReply none;
      none.kind = fd_ < 0 ? RpcReply::Kind::kClosed : RpcReply::Kind::kTimeout;
      return none;
    }
  }
}

RpcReply DaemonClient::wait_reply(std::int64_t id, std::chrono::milliseconds timeout) {
  if (id < 0) {
    RpcReply r;
    r.kind = RpcReply::Kind::kClosed;
    return r;
  }
  return wait_reply_value(boost::json::value(id), timeout);
}

RpcReply DaemonClient::call(const std::string& method, const boost::json::object& params,
                            std::chrono::milliseconds timeout) {
  return wait_reply(send_request(method, params), timeout);
}

std::optional<boost::json::object> DaemonClient::next_notification(
    std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (!notifications_.empty()) {
      auto o = std::move(notifications_.front());
      notifications_.pop_front();
      return o;
    }
    if (!pump(deadline)) return std::nullopt;
  }
}

std::optional<boost::json::object> DaemonClient::next_event(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    auto n = next_notification(std::chrono::milliseconds(ms_until(deadline)));
    if (!n) return std::nullopt;
    const auto* m = n->if_contains("method");
    if (!m || !m->is_string() || m->as_string() != "event") continue;
    const auto* p = n->if_contains("params");
    if (p && p->is_object()) return p->as_object();
    return boost::json::object{};
  }
}

std::optional<boost::json::value> DaemonClient::next_raw(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (!raw_.empty()) {
      auto v = std::move(raw_.front());
      raw_.pop_front();
      return v;
    }
    if (!pump(deadline)) return std::nullopt;
  }
}

// ---- DaemonProcess ----

namespace {

std::vector<std::string> daemon_args(const DaemonProcess::Options& options) {
  std::vector<std::string> args{"daemon"};
  if (options.socket) {
    args.push_back("--socket");
    args.push_back(options.socket->string());
  }
  args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());
  return args;
}

}  // namespace

DaemonProcess::DaemonProcess(const CliUser& user, Options options)
    : process_(user, daemon_args(options)),
      socket_(options.socket.value_or(user.home() / "daemon.sock")) {
  if (options.wait_ready) wait_ready(options.ready_timeout);
}

DaemonProcess::~DaemonProcess() {
  if (running_) kill_hard();
}

bool DaemonProcess::wait_ready(std::chrono::milliseconds timeout) {
  if (ready_) return true;
  auto line = process_.next_line(timeout);
  if (!line) return false;
  ready_line_ = *line;
  bool ok = false;
  auto o = parse_object(*line, &ok);
  if (!ok) return false;
  const auto* ev = o.if_contains("event");
  if (!ev || !ev->is_string() || ev->as_string() != "daemonReady") return false;
  if (const auto* s = o.if_contains("socket"); s && s->is_string()) {
    socket_ = std::string(s->as_string());
  }
  if (const auto* u = o.if_contains("userId"); u && u->is_string()) {
    user_id_ = std::string(u->as_string());
  }
  ready_ = true;
  return true;
}

std::unique_ptr<DaemonClient> DaemonProcess::connect(std::string* error) const {
  return DaemonClient::connect(socket_, error);
}

int DaemonProcess::terminate(std::chrono::milliseconds grace) {
  if (!running_) return -1;
  signal(SIGTERM);
  return wait(grace);
}

void DaemonProcess::kill_hard() {
  if (!running_) return;
  process_.stop(SIGKILL);
  running_ = false;
}

void DaemonProcess::signal(int signal) {
  if (running_ && process_.pid() > 0) ::kill(process_.pid(), signal);
}

int DaemonProcess::wait(std::chrono::milliseconds timeout) {
  if (!running_) return -1;
  const int status = process_.wait(timeout);
  running_ = false;
  return status;
}

std::optional<std::string> DaemonProcess::next_line(std::chrono::milliseconds timeout) {
  return process_.next_line(timeout);
}

std::string DaemonProcess::stderr_text() {
  return process_.stderr_text();
}

}  // namespace secchats::testing
