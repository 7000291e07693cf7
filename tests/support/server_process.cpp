#include "support/server_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <regex>
#include <stdexcept>
#include <thread>

namespace secchats::testing {

std::filesystem::path ServerProcess::binary() {
  return std::filesystem::path(SECCHATS_TEST_BIN_DIR) / "secchats-server";
}

ServerProcess::ServerProcess(Options options) : options_(std::move(options)) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  std::vector<std::string> args = {binary().string(), "--listen",
                                   "127.0.0.1:" + std::to_string(options_.port), "--data-dir",
                                   options_.data_dir.string()};
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    dup2(fds[1], STDERR_FILENO);
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);
  stderr_fd_ = fds[0];
  fcntl(stderr_fd_, F_SETFL, O_NONBLOCK);

  static const std::regex kListening(R"(listening on 127\.0\.0\.1:(\d+) \(http\))");
  static const std::regex kListeningTls(R"(listening on 127\.0\.0\.1:(\d+) \(https\))");
  static const std::regex kPin(R"(--pin-sha256 ([A-Za-z0-9+/=]+))");
  bool tls = false;
  for (const auto& a : options_.extra_args)
    tls |= a == "--tls-listen";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    drain_stderr(50);
    std::smatch m;
    std::smatch m_tls;
    if (std::regex_search(stderr_, m, kListening) &&
        (!tls || std::regex_search(stderr_, m_tls, kListeningTls))) {
      port_ = static_cast<unsigned short>(std::stoi(m[1].str()));
      if (tls) {
        https_port_ = static_cast<unsigned short>(std::stoi(m_tls[1].str()));
        std::smatch pin;
        if (std::regex_search(stderr_, pin, kPin)) tls_pin_ = pin[1].str();
      }
      return;
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("server exited during start-up: " + stderr_);
    }
  }
  kill_hard();
  throw std::runtime_error("server did not report 'listening on' in time: " + stderr_);
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) kill_hard();
  if (stderr_fd_ >= 0) close(stderr_fd_);
}

void ServerProcess::drain_stderr(int timeout_ms) {
  if (stderr_fd_ < 0) return;
  pollfd p{stderr_fd_, POLLIN, 0};
  if (poll(&p, 1, timeout_ms) <= 0) return;
  char buf[4096];
  for (;;) {
    ssize_t n = read(stderr_fd_, buf, sizeof buf);
    if (n <= 0) break;
    stderr_.append(buf, static_cast<std::size_t>(n));
  }
}

std::string ServerProcess::stderr_text() {
  drain_stderr(0);
  return stderr_;
}

int ServerProcess::terminate(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      drain_stderr(0);
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    drain_stderr(10);
  }
  kill_hard();
  return -1;
}

void ServerProcess::kill_hard() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

}  // namespace secchats::testing
