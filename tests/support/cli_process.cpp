#include "support/cli_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

extern char** environ;

namespace secchats::testing {
namespace {

constexpr auto kRunLimit = std::chrono::seconds(90);

std::vector<std::string> environment_with(const EnvVars& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string entry(*e);
    bool overridden = false;
    for (const auto& [k, v] : extra) {
      if (entry.rfind(k + "=", 0) == 0) overridden = true;
    }
    if (!overridden) env.push_back(std::move(entry));
  }
  for (const auto& [k, v] : extra)
    env.push_back(k + "=" + v);
  return env;
}

struct Spawned {
  pid_t pid;
  int in_fd, out_fd, err_fd;
};

Spawned spawn(const std::vector<std::string>& args, const EnvVars& env_vars) {
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
    throw std::runtime_error("pipe failed");
  }
  auto env = environment_with(env_vars);
  std::vector<char*> argv, envp;
  for (const auto& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : env)
    envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    setsid();  // no controlling terminal: the CLI must never block on a prompt
    dup2(in[0], STDIN_FILENO);
    dup2(out[1], STDOUT_FILENO);
    dup2(err[1], STDERR_FILENO);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  return {pid, in[1], out[0], err[0]};
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::vector<std::string> CliResult::lines() const {
  std::vector<std::string> result;
  std::size_t start = 0;
  while (start < out.size()) {
    std::size_t end = out.find('\n', start);
    if (end == std::string::npos) end = out.size();
    result.push_back(out.substr(start, end - start));
    start = end + 1;
  }
  return result;
}

CliUser::CliUser(std::filesystem::path home, std::string password)
    : home_(std::move(home)), password_(std::move(password)) {}

std::filesystem::path CliUser::binary() {
  return std::filesystem::path(SECCHATS_TEST_BIN_DIR) / "secchats";
}

CliResult CliUser::run(const std::vector<std::string>& args, bool json,
                       const std::string& stdin_text, const EnvVars& extra_env) const {
  std::vector<std::string> argv{binary().string(), "--home", home_.string()};
  if (json) argv.push_back("--json");
  argv.insert(argv.end(), args.begin(), args.end());
  EnvVars env{{"SECCHATS_PASSWORD", password_}};
  for (const auto& kv : extra_env)
    env.push_back(kv);
  Spawned p = spawn(argv, env);
  if (!stdin_text.empty()) (void)!write(p.in_fd, stdin_text.data(), stdin_text.size());
  close(p.in_fd);

  CliResult result;
  const auto deadline = std::chrono::steady_clock::now() + kRunLimit;
  pollfd fds[2] = {{p.out_fd, POLLIN, 0}, {p.err_fd, POLLIN, 0}};
  int open_fds = 2;
  while (open_fds > 0 && std::chrono::steady_clock::now() < deadline) {
    if (poll(fds, 2, 200) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[8192];
      const ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        (i == 0 ? result.out : result.err).append(buf, static_cast<std::size_t>(n));
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) close(f.fd);
  }
  int status = 0;
  if (open_fds > 0) {
    kill(p.pid, SIGKILL);
    waitpid(p.pid, &status, 0);
    result.exit_code = -1;
    return result;
  }
  waitpid(p.pid, &status, 0);
  result.exit_code = decode_status(status);
  return result;
}

CliBackground::CliBackground(const CliUser& user, const std::vector<std::string>& args) {
  std::vector<std::string> argv{CliUser::binary().string(), "--home", user.home().string(),
                                "--json"};
  argv.insert(argv.end(), args.begin(), args.end());
  Spawned p = spawn(argv, {{"SECCHATS_PASSWORD", user.password()}});
  close(p.in_fd);
  pid_ = p.pid;
  out_fd_ = p.out_fd;
  err_fd_ = p.err_fd;
  fcntl(err_fd_, F_SETFL, O_NONBLOCK);
}

CliBackground::~CliBackground() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (out_fd_ >= 0) close(out_fd_);
  if (err_fd_ >= 0) close(err_fd_);
}

std::optional<std::string> CliBackground::next_line(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto nl = out_buffer_.find('\n'); nl != std::string::npos) {
      std::string line = out_buffer_.substr(0, nl);
      out_buffer_.erase(0, nl + 1);
      return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || out_fd_ < 0) return std::nullopt;
    pollfd p{out_fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    const ssize_t n = read(out_fd_, buf, sizeof buf);
    if (n <= 0) {
      close(out_fd_);
      out_fd_ = -1;
      continue;
    }
    out_buffer_.append(buf, static_cast<std::size_t>(n));
  }
}

int CliBackground::wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
      return -1;
    }
    // Keep the pipes drained so the process never blocks on a full one.
    if (out_fd_ >= 0) {
      pollfd p{out_fd_, POLLIN, 0};
      if (poll(&p, 1, 20) > 0) {
        char buf[4096];
        const ssize_t n = read(out_fd_, buf, sizeof buf);
        if (n > 0) {
          out_buffer_.append(buf, static_cast<std::size_t>(n));
        } else {
          close(out_fd_);
          out_fd_ = -1;
        }
      }
    } else {
      usleep(20000);
    }
    stderr_text();
  }
  pid_ = -1;
  return decode_status(status);
}

int CliBackground::stop(int signal) {
  if (pid_ <= 0) return -1;
  kill(pid_, signal);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return decode_status(status);
}

std::string CliBackground::stderr_text() {
  char buf[4096];
  for (;;) {
    const ssize_t n = read(err_fd_, buf, sizeof buf);
    if (n <= 0) break;
    err_.append(buf, static_cast<std::size_t>(n));
  }
  return err_;
}

}  // namespace secchats::testing
