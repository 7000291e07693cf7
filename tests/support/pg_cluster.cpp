#include "support/pg_cluster.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace secchats::testing {
namespace {

namespace fs = std::filesystem;

// The Debian packages put the server binaries under /usr/lib/postgresql/<major>/bin; libpq-dev's
// pg_config reports that directory. Fall back to the newest installed major.
fs::path find_bindir() {
  if (FILE* p = popen("pg_config --bindir 2>/dev/null", "r")) {
    std::array<char, 512> buf{};
    std::string out;
    while (fgets(buf.data(), static_cast<int>(buf.size()), p) != nullptr)
      out += buf.data();
    pclose(p);
    while (!out.empty() && (out.back() == '\n' || out.back() == ' '))
      out.pop_back();
    if (!out.empty() && fs::exists(fs::path(out) / "initdb")) return out;
  }
  std::error_code ec;
  int best = -1;
  fs::path best_dir;
  for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    int major = std::atoi(e.path().filename().c_str());
    if (major > best && fs::exists(e.path() / "bin" / "initdb")) {
      best = major;
      best_dir = e.path() / "bin";
    }
  }
  if (best < 0)
    throw std::runtime_error(
        "PgCluster: no PostgreSQL server binaries (initdb) found; run scripts/install-deps");
  return best_dir;
}

// A port nobody listens on right now (the kernel's pick for port 0). Another process may take
// it before postgres binds; start() retries on a bind failure.
unsigned short free_port() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("PgCluster: socket() failed");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    close(fd);
    throw std::runtime_error("PgCluster: could not find a free port");
  }
  close(fd);
  return ntohs(a.sin_port);
}

// Every parent of `p` must be searchable by `nobody` for the server to reach its directory.
bool traversable_by_others(const fs::path& p) {
  for (fs::path cur = p; !cur.empty(); cur = cur.parent_path()) {
    struct stat st {};
    if (stat(cur.c_str(), &st) != 0 || (st.st_mode & S_IXOTH) == 0) return false;
    if (cur == cur.root_path()) break;
  }
  return true;
}

fs::path make_temp_dir() {
  fs::path base = fs::temp_directory_path();
  if (geteuid() == 0 && !traversable_by_others(base)) base = "/tmp";
  std::string pattern = (base / "secchats-pg-XXXXXX").string();
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) throw std::runtime_error("PgCluster: mkdtemp failed");
  return buf.data();
}

std::string read_tail(const fs::path& file, std::size_t max_bytes = 4000) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (s.size() > max_bytes) s = "..." + s.substr(s.size() - max_bytes);
  return s;
}

// Runs argv (optionally as nobody through setpriv) with cwd `cwd`, stdout+stderr appended to
// `log`; returns the exit status (or -1 when it did not exit normally).
int run(std::vector<std::string> args, bool as_nobody, const fs::path& cwd, const fs::path& log) {
  if (as_nobody) {
    std::vector<std::string> pre = {"/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup",
                                    "--clear-groups", "--"};
    args.insert(args.begin(), pre.begin(), pre.end());
  }
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out < 0) throw std::runtime_error("PgCluster: cannot open " + log.string());
  pid_t pid = fork();
  if (pid < 0) {
    close(out);
    throw std::runtime_error("PgCluster: fork failed");
  }
  if (pid == 0) {
    dup2(out, STDOUT_FILENO);
    dup2(out, STDERR_FILENO);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    // The caller's cwd (a build tree under /root) may be closed to nobody; initdb and postgres
    // complain when they cannot resolve it.
    if (chdir(cwd.c_str()) != 0) _exit(126);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void chown_tree(const fs::path& p, uid_t uid, gid_t gid) {
  if (chown(p.c_str(), uid, gid) != 0)
    throw std::runtime_error("PgCluster: chown failed on " + p.string());
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(p, ec))
    if (lchown(e.path().c_str(), uid, gid) != 0)
      throw std::runtime_error("PgCluster: chown failed on " + e.path().string());
}

}  // namespace

std::unique_ptr<PgCluster> PgCluster::start() {
  std::unique_ptr<PgCluster> c(new PgCluster());
  c->bindir_ = find_bindir();
  c->dir_ = make_temp_dir();
  c->as_nobody_ = geteuid() == 0;
  c->start_watchdog();
  fs::path log = c->dir_ / "initdb.log";
  std::ofstream(log).close();
  if (c->as_nobody_) {
    passwd* pw = getpwnam("nobody");
    if (pw == nullptr) throw std::runtime_error("PgCluster: no user 'nobody' to run postgres as");
    chown_tree(c->dir_, pw->pw_uid, pw->pw_gid);
  }
  fs::path data = c->dir_ / "data";
  c->init_data_dir(data, log);
  {
    // Later settings override earlier ones in postgresql.conf. The port is given on the
    // command line at each start (see launch()).
    std::ofstream conf(data / "postgresql.conf", std::ios::app);
    conf << "\n# secchats test fixture\n"
         << "listen_addresses = '127.0.0.1'\n"
         << "unix_socket_directories = ''\n"
         << "fsync = on\n"
         << "synchronous_commit = on\n"
         << "shared_buffers = 16MB\n"
         << "max_connections = 200\n"
         << "max_wal_size = 256MB\n"
         << "timezone = 'UTC'\n"
         << "log_min_messages = warning\n"
         << "log_line_prefix = '%m [%p] '\n";
  }
  std::string last_error;
  for (int attempt = 0; attempt < 3; ++attempt) {
    c->port_ = free_port();
    try {
      c->launch();
      return c;
    } catch (const std::runtime_error& e) {
      last_error = e.what();
      // Only a lost race for the port is worth another try.
      if (last_error.find("could not bind") == std::string::npos &&
          last_error.find("could not create any TCP/IP sockets") == std::string::npos)
        break;
    }
  }
  std::error_code ec;
  fs::remove_all(c->dir_, ec);
  c->dir_.clear();
  throw std::runtime_error(last_error);
}

namespace {

// initdb takes seconds on a busy machine, and ctest runs every test in its own process (one
// cluster each). So the first cluster's freshly initialised directory is kept as a template
// (never started, so identical to initdb's output) and later clusters copy it. Keyed by
// major version and the uid the server runs as; published by an atomic rename, so
// concurrent test processes either see a complete template or none.
fs::path template_path(const fs::path& bindir, const fs::path& base) {
  std::string major = bindir.parent_path().filename().string();
  return base / ("secchats-pg-template-" + major + "-" + std::to_string(geteuid()));
}

}  // namespace

void PgCluster::init_data_dir(const fs::path& data, const fs::path& log) {
  const fs::path tmpl = template_path(bindir_, dir_.parent_path());
  std::error_code ec;
  if (fs::exists(tmpl / "complete", ec) && fs::exists(tmpl / "data" / "PG_VERSION", ec)) {
    if (run({"/bin/cp", "-a", (tmpl / "data").string(), data.string()}, as_nobody_, dir_, log) == 0)
      return;
    fs::remove_all(data, ec);  // a damaged template: fall back to initdb
  }
  // --no-sync only skips the fsync of initdb's own files; the server keeps fsync on, because
  // the storage tests assert durability across crashes.
  int rc = run({(bindir_ / "initdb").string(), "-D", data.string(), "-A", "trust", "-U", "postgres",
                "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"},
               as_nobody_, dir_, log);
  if (rc != 0) {
    std::string tail = read_tail(log);
    fs::remove_all(dir_, ec);
    dir_.clear();
    throw std::runtime_error("PgCluster: initdb failed (exit " + std::to_string(rc) + "): " + tail);
  }
  // Publish the template; losing the race to another process is fine.
  const fs::path staging = tmpl.string() + ".tmp-" + std::to_string(getpid());
  fs::remove_all(staging, ec);
  fs::create_directory(staging, ec);
  if (as_nobody_) {
    if (passwd* pw = getpwnam("nobody"); pw != nullptr) chown_tree(staging, pw->pw_uid, pw->pw_gid);
  }
  if (!ec && run({"/bin/cp", "-a", data.string(), (staging / "data").string()}, as_nobody_, dir_,
                 log) == 0) {
    std::ofstream(staging / "complete") << "initdb output, never started\n";
    fs::rename(staging, tmpl, ec);
  }
  fs::remove_all(staging, ec);
}

void PgCluster::launch() {
  fs::path log = dir_ / "server.log";
  // Appended to across restarts; a failure message shows only this start's lines.
  std::ofstream(log, std::ios::app).close();
  if (as_nobody_) {
    passwd* pw = getpwnam("nobody");
    if (pw != nullptr && chown(log.c_str(), pw->pw_uid, pw->pw_gid) != 0)
      throw std::runtime_error("PgCluster: chown failed on " + log.string());
  }
  auto before = fs::file_size(log);
  fs::path ctl_log = dir_ / "pg_ctl.log";
  int rc = run({(bindir_ / "pg_ctl").string(), "start", "-w", "-t", "60", "-D",
                (dir_ / "data").string(), "-l", log.string(), "-o", "-p " + std::to_string(port_)},
               as_nobody_, dir_, ctl_log);
  if (rc != 0) {
    std::string tail = read_tail(log);
    if (tail.size() > before) tail = tail.substr(std::min<std::size_t>(before, tail.size()));
    // pg_ctl gave up; make sure no half-started postmaster lingers.
    run({(bindir_ / "pg_ctl").string(), "stop", "-m", "immediate", "-D", (dir_ / "data").string()},
        as_nobody_, dir_, ctl_log);
    throw std::runtime_error("PgCluster: postgres did not start on 127.0.0.1:" +
                             std::to_string(port_) + " (pg_ctl exit " + std::to_string(rc) +
                             "); server log: " + tail + "; pg_ctl: " + read_tail(ctl_log, 1000));
  }
  running_ = true;
}

PgCluster::~PgCluster() {
  if (dir_.empty()) {
    if (watchdog_fd_ >= 0) close(watchdog_fd_);
    return;
  }
  if (running_) {
    try {
      stop(/*crash=*/true);
    } catch (...) {
      // Fall through to the kill below.
    }
  }
  // Whatever pg_ctl said, no postmaster may outlive the fixture: SIGKILL what the pid file
  // names, if it still runs.
  std::ifstream pidfile(dir_ / "data" / "postmaster.pid");
  pid_t pid = 0;
  if (pidfile >> pid && pid > 0 && kill(pid, 0) == 0) {
    kill(pid, SIGKILL);
    for (int i = 0; i < 100 && kill(pid, 0) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
  // Nothing left for the watchdog: closing its pipe lets it exit.
  if (watchdog_fd_ >= 0) close(watchdog_fd_);
}

void PgCluster::start_watchdog() {
  // A test binary that crashes or is killed (a ctest timeout) never runs the destructor. A
  // shell in its own session waits for EOF on a pipe only this process holds open, then
  // stops the postmaster (SIGQUIT: immediate shutdown) and removes the directory. After a
  // normal destructor run the directory is gone and the shell just exits.
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("PgCluster: pipe failed");
  std::string script =
      "read _ignored; D=\"$0\"; P=$(head -n 1 \"$D/data/postmaster.pid\" 2>/dev/null); "
      "if [ -n \"$P\" ]; then kill -QUIT \"$P\" 2>/dev/null; "
      "for i in 1 2 3 4 5 6 7 8 9 10; do kill -0 \"$P\" 2>/dev/null || break; sleep 0.2; done; "
      "kill -KILL \"$P\" 2>/dev/null; fi; rm -rf \"$D\"";
  std::string dir = dir_.string();
  std::vector<char*> argv = {const_cast<char*>("/bin/sh"), const_cast<char*>("-c"), script.data(),
                             dir.data(), nullptr};
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    throw std::runtime_error("PgCluster: fork failed");
  }
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec (the parent may have threads).
    setsid();
    dup2(fds[0], STDIN_FILENO);
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) {
      dup2(devnull, STDOUT_FILENO);
      dup2(devnull, STDERR_FILENO);
    }
    if (chdir("/") != 0) _exit(126);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[0]);
  watchdog_fd_ = fds[1];
  // The shell is reparented to init when we exit; nobody waits for it, and it must not become
  // a zombie of a long-running test binary either.
  std::thread([pid] {
    int status = 0;
    waitpid(pid, &status, 0);
  }).detach();
}

std::string PgCluster::uri(const std::string& db) const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + db;
}

std::string PgCluster::create_database() {
  std::string name = "secchats_test_" + std::to_string(getpid()) + "_" + std::to_string(next_db_++);
  fs::path log = dir_ / "psql.log";
  int rc = run({(bindir_ / "psql").string(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", uri(), "-c",
                "CREATE DATABASE " + name},
               /*as_nobody=*/false, dir_, log);
  if (rc != 0)
    throw std::runtime_error("PgCluster: CREATE DATABASE failed (psql exit " + std::to_string(rc) +
                             "): " + read_tail(log, 1000));
  return uri(name);
}

void PgCluster::stop(bool crash) {
  if (!running_) return;
  fs::path ctl_log = dir_ / "pg_ctl.log";
  int rc = run({(bindir_ / "pg_ctl").string(), "stop", "-w", "-t", "60", "-m",
                crash ? "immediate" : "fast", "-D", (dir_ / "data").string()},
               as_nobody_, dir_, ctl_log);
  running_ = false;
  if (rc != 0)
    throw std::runtime_error("PgCluster: pg_ctl stop failed (exit " + std::to_string(rc) +
                             "): " + read_tail(ctl_log, 1000));
}

void PgCluster::restart_stopped() {
  if (running_) return;
  launch();
}

PgCluster& PgCluster::shared() {
  // Destroyed with the other statics when the test binary exits, which stops the server and
  // removes its directory.
  static std::unique_ptr<PgCluster> cluster = start();
  return *cluster;
}

}  // namespace secchats::testing
