// Runs the real `secchats` binary for end-to-end tests, the way a script would.
#pragma once

#include <sys/types.h>

#include <csignal>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace secchats::testing {

struct CliResult {
  int exit_code = -1;  // -1: killed after the time limit
  std::string out;
  std::string err;
  // stdout split into lines (without the newline).
  std::vector<std::string> lines() const;
};

using EnvVars = std::vector<std::pair<std::string, std::string>>;

// One CLI user: a home directory and a password (passed as $SECCHATS_PASSWORD).
class CliUser {
 public:
  CliUser(std::filesystem::path home, std::string password);
  static std::filesystem::path binary();

  // Runs `secchats --home HOME --json ARGS...` (json=false drops --json) and waits.
  CliResult run(const std::vector<std::string>& args, bool json = true,
                const std::string& stdin_text = "", const EnvVars& extra_env = {}) const;

  const std::filesystem::path& home() const { return home_; }
  const std::string& password() const { return password_; }

 private:
  std::filesystem::path home_;
  std::string password_;
};

// A long-running CLI process (`listen`) whose stdout is read line by line.
class CliBackground {
 public:
  CliBackground(const CliUser& user, const std::vector<std::string>& args);
  ~CliBackground();  // SIGKILL if still running
  CliBackground(const CliBackground&) = delete;
  CliBackground& operator=(const CliBackground&) = delete;

  // The next complete stdout line, or nullopt if none arrives within `timeout`.
  std::optional<std::string> next_line(std::chrono::milliseconds timeout);
  // Sends `signal` (SIGTERM unless told: SIGINT is Ctrl-C), waits; returns the exit status as
  // the shell reports it (128+signal if signalled).
  int stop(int signal = SIGTERM);
  // Waits for the process to end by itself (at most `timeout`, then SIGKILL: -1).
  int wait(std::chrono::milliseconds timeout);
  std::string stderr_text();
  // The process id while it runs (-1 once reaped).
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string out_buffer_;
  std::string err_;
};

}  // namespace secchats::testing
