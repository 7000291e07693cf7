#include "daemon/forward.hpp"

#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <boost/json.hpp>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "daemon/dispatcher.hpp"
#include "daemon/server.hpp"
#include "progress_bar.hpp"
#include "terminal_text.hpp"

namespace secchats::cli {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

// Params the daemon opens as files: sent absolute (it has its own working directory).
bool is_path_param(std::string_view key) {
  return key == "file" || key == "path" || key == "saveImages" || key == "qrOut" || key == "scan" ||
         key == "png" || key == "out" || key == "caFile";
}

int connect_to(const std::string& path) {
  if (path.empty() || path.size() >= sizeof(sockaddr_un::sun_path)) return -1;
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

std::string stdin_text() {
  std::string all{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  while (!all.empty() && (all.back() == '\n' || all.back() == '\r'))
    all.pop_back();
  return all;
}

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::size_t terminal_width() {
  winsize ws{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

TransferProgress::Phase phase_from(std::string_view name) {
  if (name == "uploading") return TransferProgress::Phase::kUploading;
  if (name == "downloading") return TransferProgress::Phase::kDownloading;
  if (name == "verifying") return TransferProgress::Phase::kVerifying;
  return TransferProgress::Phase::kPreparing;
}

std::uint64_t uint_field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v) return 0;
  if (v->is_uint64()) return v->as_uint64();
  if (v->is_int64() && v->as_int64() > 0) return static_cast<std::uint64_t>(v->as_int64());
  return 0;
}

// VALUE as the JSON type the daemon checks for (daemon::option_kind): a number for a
// numeric option (`--limit 5` → 5), else the string. CLI11 has already accepted VALUE; a
// form it takes that is no plain number is sent as text, and the daemon's CLI11 judges it.
json::value param_value(const CLI::Option& opt, const std::string& value) {
  const char* first = value.data();
  const char* last = value.data() + value.size();
  switch (daemon::option_kind(opt)) {
    case daemon::OptionKind::kInteger: {
      std::int64_t n = 0;
      if (auto [end, ec] = std::from_chars(first, last, n); ec == std::errc() && end == last) {
        return n;
      }
      std::uint64_t u = 0;
      if (auto [end, ec] = std::from_chars(first, last, u); ec == std::errc() && end == last) {
        return u;
      }
      break;
    }
    case daemon::OptionKind::kNumber: {
      std::error_code ec;
      json::value v = json::parse(value, ec);
      if (!ec && v.is_number()) return v;
      break;
    }
    case daemon::OptionKind::kText:
      break;
  }
  return json::value(value);
}

// Waits until FD has something to read (or its end); false if first stdout's reader went
// away: poll reports POLLERR for a pipe whose reader is gone and POLLHUP for a terminal that
// hung up (a regular file or /dev/null reports neither).
bool wait_readable_while_stdout_read(int fd) {
  for (;;) {
    std::array<pollfd, 2> p{{{fd, POLLIN, 0}, {STDOUT_FILENO, 0, 0}}};
    if (::poll(p.data(), p.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return true;  // let recv report it
    }
    if ((p[1].revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) return false;
    if (p[0].revents != 0) return true;
  }
}

volatile std::sig_atomic_t g_served_interrupted = 0;

extern "C" void on_served_interrupt(int) {
  g_served_interrupted = 1;
}

// While a transfer is served, the first Ctrl-C (SIGINT) only asks the daemon to stop it
// (`cancelRequest`), and the command prints the answer that comes back: "stopped at …",
// exit 130, as in direct mode, or the outcome of a transfer that finished first. The handler
// resets itself, so a second Ctrl-C ends the process at once, as usual.
class InterruptGuard {
 public:
  InterruptGuard() {
    g_served_interrupted = 0;
    struct sigaction sa {};
    sa.sa_handler = on_served_interrupt;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;  // no SA_RESTART: poll() returns at once with EINTR
    ::sigaction(SIGINT, &sa, &previous_);
  }
  ~InterruptGuard() { ::sigaction(SIGINT, &previous_, nullptr); }
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;
  bool interrupted() const { return g_served_interrupted != 0; }

 private:
  struct sigaction previous_ {};
};

// True once FD has something to read (or its end); false after TIMEOUT_MS or a signal, so
// a Ctrl-C is seen within TIMEOUT_MS even if it came just before the wait.
bool wait_readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) > 0;
}

// The request id of the command (the cancel's is kCancelId).
constexpr int kRequestId = 1;
constexpr int kCancelId = 2;

}  // namespace

std::optional<int> run_via_daemon(CliApp& cli, CLI::App& leaf) {
  const Args& a = cli.args;
  const int fd = connect_to(daemon::running_daemon_socket(a.home));
  if (fd < 0) return std::nullopt;
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};

  const bool listen = leaf.get_name() == "listen" && leaf.get_parent() == &cli.app;
  json::object params;
  for (const CLI::Option* opt : leaf.get_options()) {
    if (opt->count() == 0 || opt == leaf.get_help_ptr()) continue;
    const std::string key =
        camel_case(opt->get_positional() || opt->get_lnames().empty() ? opt->get_name()
                                                                      : opt->get_lnames().front());
    if (opt->get_expected_max() == 0) {
      params[key] = true;
      continue;
    }
    std::string value = opt->results().empty() ? std::string() : opt->results().front();
    if ((key == "text" || key == "payload") && value == "-") value = stdin_text();
    if (is_path_param(key) && !value.empty()) value = fs::absolute(value).string();
    params[key] = param_value(*opt, value);
  }
  if (leaf.get_name() == "download" && !params.contains("out")) {
    params["out"] = fs::current_path().string();
  }
  if (!a.json) params["format"] = "text";
  json::object request;
  request["jsonrpc"] = "2.0";
  request["id"] = kRequestId;
  request["method"] = listen ? std::string("subscribe") : method_name(leaf);
  request["params"] = std::move(params);
  if (!send_all(fd, json::serialize(request) + "\n")) return std::nullopt;

  Output out(a.json);
  const auto fail = [&](const std::string& text, int code) {
    out.error(a.json ? text : escape_inline(text), code);
    return code;
  };
  std::optional<ProgressReporter> bar;
  if (!a.json && ::isatty(STDERR_FILENO) == 1) {
    bar.emplace(
        ProgressReporter::Mode::kBar, terminal_width(),
        [](std::string_view text) { std::cerr << text << std::flush; }, steady_ms);
  }
  const bool transfer = daemon::is_transfer_method(std::string(request["method"].as_string()));
  std::optional<InterruptGuard> guard;
  if (transfer) guard.emplace();
  bool cancel_sent = false;
  std::string buffer;
  char chunk[65536];
  bool subscribed = false;
  for (;;) {
    if (guard && guard->interrupted() && !cancel_sent) {
      json::object cancel;
      cancel["jsonrpc"] = "2.0";
      cancel["id"] = kCancelId;
      cancel["method"] = "cancelRequest";
      cancel["params"] = json::object{{"id", kRequestId}};
      cancel_sent = true;
      // If it cannot be sent the daemon is gone: the read below says so.
      (void)send_all(fd, json::serialize(cancel) + "\n");
    }
    const std::size_t nl = buffer.find('\n');
    if (nl == std::string::npos) {
      if (guard && !cancel_sent && !wait_readable(fd, 200)) continue;
      if (listen && !wait_readable_while_stdout_read(fd)) {
        // As direct mode's listen: `listen | head -n 1` ends once head has gone. What was
        // printed is taken; the rest stays with the daemon for the next subscriber.
        return fail("cannot write output: the reader of standard output is gone", kExitFailure);
      }
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        if (bar) bar->finish();
        return fail(subscribed ? "the secchats daemon stopped"
                               : "the secchats daemon stopped before answering; whether the "
                                 "command took effect is unknown (see: secchats pending, "
                                 "history)",
                    kExitFailure);
      }
      buffer.append(chunk, static_cast<std::size_t>(n));
      continue;
    }
    const std::string line = buffer.substr(0, nl);
    buffer.erase(0, nl + 1);
    std::error_code ec;
    json::value v = json::parse(line, ec);
    if (ec || !v.is_object()) continue;
    json::object& msg = v.as_object();
    if (const json::value* method = msg.if_contains("method"); method && method->is_string()) {
      json::value* p = msg.if_contains("params");
      if (!p || !p->is_object()) continue;
      json::object& params_in = p->as_object();
      if (method->as_string() == "progress") {
        params_in.stable_erase("requestId");  // the rest in order, as direct mode prints it
        if (a.json) {
          out.line("", json::serialize(params_in));
        } else if (bar) {
          const json::value* phase = params_in.if_contains("phase");
          TransferProgress tp;
          tp.phase = phase_from(phase && phase->is_string() ? std::string_view(phase->as_string())
                                                            : std::string_view());
          tp.done_bytes = uint_field(params_in, "doneBytes");
          tp.total_bytes = uint_field(params_in, "totalBytes");
          (*bar)(tp);
        }
      } else if (method->as_string() == "event") {
        const json::value* text = params_in.if_contains("text");
        if (a.json) {
          out.line("", json::serialize(params_in));
        } else if (text && text->is_string()) {
          out.line(text->as_string(), "");
        }
      }
      // As in direct mode, a reader that has gone ends the command; our closed connection
      // then stops a transfer at a resumable point in the daemon.
      if (!out.written()) return fail("cannot write output: " + out.write_error(), kExitFailure);
      continue;
    }
    if (const json::value* id = msg.if_contains("id"); id && *id == json::value(kCancelId)) {
      continue;  // the cancel's own answer: the request's answer below says what happened
    }
    if (bar) bar->finish();
    if (const json::value* error = msg.if_contains("error"); error && error->is_object()) {
      const json::object& e = error->as_object();
      const json::value* code = e.if_contains("code");
      const json::value* message = e.if_contains("message");
      int exit_code = code && code->is_int64() ? static_cast<int>(code->as_int64()) : kExitFailure;
      if (exit_code < 0) exit_code = kExitUsage;  // a JSON-RPC protocol error: our arguments
      return fail(message && message->is_string() ? std::string(message->as_string())
                                                  : "the daemon refused the request",
                  exit_code);
    }
    const json::value* result = msg.if_contains("result");
    if (listen) {
      subscribed = true;
      if (!a.json) std::cerr << "listening; Ctrl-C to stop\n";
      continue;
    }
    if (result && result->is_array()) {
      for (const json::value& item : result->as_array()) {
        if (item.is_string()) {
          out.line(item.as_string(), "");
        } else {
          out.line("", json::serialize(item));
        }
      }
    }
    if (!out.written()) return fail("cannot write output: " + out.write_error(), kExitFailure);
    return kExitOk;
  }
}

}  // namespace secchats::cli
