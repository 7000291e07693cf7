// Starts the real secchats-server binary for a test and stops it again.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace secchats::testing {

class ServerProcess {
 public:
  struct Options {
    std::filesystem::path data_dir;
    std::vector<std::string> extra_args;
    // 0 = any free port; a restart passes the previous port so clients keep their URL.
    unsigned short port = 0;
  };

  // Launches on 127.0.0.1 with a free port and waits for "listening on". Throws on failure
  // (tests only): the message includes the server's stderr. With "--tls-listen" among the
  // extra args, also waits for the first "(https)" listener on 127.0.0.1.
  explicit ServerProcess(Options options);
  ~ServerProcess();  // SIGKILL if still running
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  unsigned short port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // The first HTTPS listener on 127.0.0.1 (0 without --tls-listen).
  unsigned short https_port() const { return https_port_; }
  std::string https_url() const { return "https://127.0.0.1:" + std::to_string(https_port_); }
  // The base64 certificate pin the server printed at start ("" without TLS).
  const std::string& tls_pin() const { return tls_pin_; }
  pid_t pid() const { return pid_; }

  // Sends SIGTERM and waits; returns the exit status (-1 if it had to be killed).
  int terminate(std::chrono::milliseconds grace = std::chrono::seconds(15));
  // kill -9: simulates a crash or power cut.
  void kill_hard();
  // Everything the server wrote to stderr so far.
  std::string stderr_text();

  static std::filesystem::path binary();

 private:
  void drain_stderr(int timeout_ms);

  Options options_;
  pid_t pid_ = -1;
  int stderr_fd_ = -1;
  unsigned short port_ = 0;
  unsigned short https_port_ = 0;
  std::string tls_pin_;
  std::string stderr_;
};

}  // namespace secchats::testing
