// Test side of `secchats daemon` (docs/cli.md, "The daemon: one unlock for scripts and bots"):
// a JSON-RPC 2.0 client over the daemon's Unix socket, and a fixture that runs the real daemon.
#pragma once

#include <sys/types.h>

#include <csignal>

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/cli_process.hpp"

namespace secchats::testing {

// One answer of the daemon, or why there is none.
struct RpcReply {
  enum class Kind { kResult, kError, kTimeout, kClosed };
  Kind kind = Kind::kTimeout;
  boost::json::value result;  // kResult: the `result` member
  std::int64_t code = 0;      // kError: `error.code` (a CLI exit code or -32xxx)
  std::string message;        // kError: `error.message`
  boost::json::object raw;    // the whole response object (empty for kTimeout/kClosed)

  bool ok() const { return kind == Kind::kResult; }
  bool is_error() const { return kind == Kind::kError; }
  // The result as the objects the CLI prints with --json (empty if it is not an array of them).
  std::vector<boost::json::object> objects() const;
  // For gtest messages: the raw response or what happened instead.
  std::string describe() const;
};

// A connection to the daemon's socket: newline-delimited JSON, one object (or batch) per line.
// Every read has a timeout; nothing here throws. Responses are matched by id, notifications
// (no id) are queued in arrival order whatever the caller was waiting for.
class DaemonClient {
 public:
  static constexpr std::chrono::milliseconds kDefaultTimeout{60000};

  // Connects to the Unix socket at `socket`; nullptr (and `*error` set) if that fails.
  static std::unique_ptr<DaemonClient> connect(const std::filesystem::path& socket,
                                               std::string* error = nullptr);
  ~DaemonClient();
  DaemonClient(const DaemonClient&) = delete;
  DaemonClient& operator=(const DaemonClient&) = delete;

  // Sends `method` with `params` (by name) and a fresh numeric id; returns the id (-1 if the
  // write failed). Does not wait.
  std::int64_t send_request(const std::string& method, const boost::json::object& params = {});
  // Sends one raw line (a newline is appended): malformed input, batches, notifications.
  bool send_line(const std::string& line);
  // Waits for the response whose id is `id` (numeric ids from send_request).
  RpcReply wait_reply(std::int64_t id, std::chrono::milliseconds timeout = kDefaultTimeout);
  // Waits for the response whose `id` member equals `id` exactly (any JSON value, also null).
  RpcReply wait_reply_value(const boost::json::value& id,
                            std::chrono::milliseconds timeout = kDefaultTimeout);
  // send_request + wait_reply.
  RpcReply call(const std::string& method, const boost::json::object& params = {},
                std::chrono::milliseconds timeout = kDefaultTimeout);

  // The next message the daemon sent that is not a response to a pending id: notifications
  // first (e.g. {"jsonrpc":"2.0","method":"event","params":{…}}). nullopt on timeout/close.
  std::optional<boost::json::object> next_notification(
      std::chrono::milliseconds timeout = kDefaultTimeout);
  // The next `event` notification's params (skips other notifications, e.g. progress).
  std::optional<boost::json::object> next_event(
      std::chrono::milliseconds timeout = kDefaultTimeout);
  // The next whole line as received (a batch answer is an array); nullopt on timeout/close.
  // Lines already parsed into responses/notifications are not returned again.
  std::optional<boost::json::value> next_raw(std::chrono::milliseconds timeout = kDefaultTimeout);

  // Every notification received so far and not yet taken (without waiting).
  std::size_t queued_notifications() const { return notifications_.size(); }
  // True once the daemon closed the connection (EOF or error).
  bool closed() const { return fd_ < 0; }
  // Closes our side.
  void close_socket();
  int fd() const { return fd_; }

 private:
  explicit DaemonClient(int fd) : fd_(fd) {}
  // Reads and files one line within `deadline`; false on timeout or close.
  bool pump(std::chrono::steady_clock::time_point deadline);
  void file(boost::json::value v);
  std::optional<RpcReply> take_reply(const std::string& id_key);

  int fd_ = -1;
  std::int64_t next_id_ = 1;
  std::string buffer_;
  std::map<std::string, boost::json::object> replies_;  // by serialized id
  std::deque<boost::json::object> notifications_;
  std::deque<boost::json::value> raw_;  // lines that were neither (batches, garbage)
};

// The real `secchats daemon` for one CLI user's home, started with the user's password in
// $SECCHATS_PASSWORD and --json (so the ready line is {"event":"daemonReady",…}).
class DaemonProcess {
 public:
  struct Options {
    std::optional<std::filesystem::path> socket;  // --socket PATH; default HOME/daemon.sock
    std::vector<std::string> extra_args;
    bool wait_ready = true;  // wait for the daemonReady line in the constructor
    std::chrono::milliseconds ready_timeout{60000};
  };

  DaemonProcess(const CliUser& user, Options options);
  explicit DaemonProcess(const CliUser& user) : DaemonProcess(user, Options{}) {}
  ~DaemonProcess();  // SIGKILL if still running
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  // Waits for {"event":"daemonReady","socket":…,"userId":…}; false if the process printed
  // something else, ended or timed out (stderr_text() says why).
  bool wait_ready(std::chrono::milliseconds timeout);
  bool ready() const { return ready_; }
  // The socket the daemon named in its ready line (else the expected default path).
  const std::filesystem::path& socket() const { return socket_; }
  const std::string& user_id() const { return user_id_; }
  const std::string& ready_line() const { return ready_line_; }

  // A new connection to the socket; nullptr if it cannot connect.
  std::unique_ptr<DaemonClient> connect(std::string* error = nullptr) const;

  // SIGTERM and wait (shell-style status: 128+N when signalled; -1 if it had to be killed).
  int terminate(std::chrono::milliseconds grace = std::chrono::seconds(30));
  // kill -9 and reap: a crash.
  void kill_hard();
  // Sends `signal` without waiting.
  void signal(int signal);
  // Waits for the daemon to end by itself (e.g. a refused second daemon: exit 7).
  int wait(std::chrono::milliseconds timeout);
  // Further stdout lines after the ready line.
  std::optional<std::string> next_line(std::chrono::milliseconds timeout);
  std::string stderr_text();
  bool running() const { return running_; }

 private:
  CliBackground process_;
  std::filesystem::path socket_;
  std::string user_id_;
  std::string ready_line_;
  bool ready_ = false;
  bool running_ = true;
};

// Parses `text` as one JSON object; empty object (and `*ok` false) if it is not one.
boost::json::object parse_object(const std::string& text, bool* ok = nullptr);

}  // namespace secchats::testing
