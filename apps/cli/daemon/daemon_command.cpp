#include "daemon/daemon_command.hpp"

#include <filesystem>

#include "daemon/server.hpp"

namespace secchats::cli {

namespace fs = std::filesystem;

// A Unix socket path has at most 107 bytes (sun_path is 108 with its NUL).
constexpr std::size_t kMaxSocketPathBytes = 107;

void cmd_daemon(Command& c) {
  const Args& a = c.args();
  if (!Client::exists(a.home)) (void)c.client();  // the usual "no account in HOME" failure
  const std::string socket =
      fs::absolute(a.socket.empty() ? fs::path(a.home) / "daemon.sock" : fs::path(a.socket))
          .lexically_normal()
          .string();
  if (socket.size() > kMaxSocketPathBytes) {
    throw Failure{"socket path longer than 107 bytes: " + socket, kExitUsage};
  }
  auto lock = daemon::DaemonLock::acquire(a.home, socket);
  if (!lock.ok()) {
    if (lock.error().code() == ErrorCode::kAlreadyExists) {
      throw Failure{
          "another secchats daemon serves " + a.home + " (pid " + lock.error().message() + ")",
          kExitBusy};
    }
    throw Failure{lock.error().message(), kExitFailure};
  }
  Client& client = c.client();
  const Status served = daemon::serve(client, a.home, socket, [&] {
    c.out().line("serving " + a.home + " on " + socket, JsonLine()
                                                            .add("event", "daemonReady")
                                                            .add("socket", socket)
                                                            .add("userId", client.user_id())
                                                            .str());
  });
  if (!served.ok()) throw Failure{served.error().message(), exit_code_for(served.error())};
}

}  // namespace secchats::cli
