// A throwaway PostgreSQL cluster owned by a test: initdb into a temporary directory, postgres
// on a free loopback port, removed again by the destructor. Uses the Debian packages'
// binaries (pg_config --bindir, else /usr/lib/postgresql/<newest>/bin); nothing is assumed
// to be running. PostgreSQL refuses to run as root, so under root the cluster runs as the
// unprivileged user `nobody` (setpriv), with its directory handed to that user.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

namespace secchats::testing {

class PgCluster {
 public:
  // initdb + start; waits until it accepts connections. Throws std::runtime_error with the
  // server's log on failure (tests only). Takes about 1-3 s.
  static std::unique_ptr<PgCluster> start();
  // One cluster per test binary, started on first use and stopped at exit.
  static PgCluster& shared();
  ~PgCluster();  // immediate stop, directory removed
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  unsigned short port() const { return port_; }
  // A libpq URI for database `db` on this cluster (superuser "postgres", no password).
  std::string uri(const std::string& db = "postgres") const;
  // CREATE DATABASE with a fresh unique name; returns its URI. Each test takes its own.
  std::string create_database();

  // Stops the server (pg_ctl stop -m fast, or -m immediate when `crash`), and starts it
  // again on the same port and directory.
  void stop(bool crash = false);
  void restart_stopped();
  bool running() const { return running_; }

 private:
  PgCluster() = default;
  void launch();
  void init_data_dir(const std::filesystem::path& data, const std::filesystem::path& log);
  void start_watchdog();

  std::filesystem::path dir_;
  std::filesystem::path bindir_;
  unsigned short port_ = 0;
  bool running_ = false;
  bool as_nobody_ = false;
  int next_db_ = 0;
  int watchdog_fd_ = -1;  // write end of the pipe the clean-up watchdog waits on
};

}  // namespace secchats::testing
