// secchats — the command-line client. Parses arguments, then either hands the command to a
// running `secchats daemon` (daemon/forward.hpp) or unlocks the store and runs it here
// (direct mode). Every command has a --json form; every failure is one line on stderr and a
// distinct exit code (exit_codes.hpp, docs/cli.md).
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <exception>

#include "cli_app.hpp"
#include "command.hpp"
#include "daemon/forward.hpp"
#include "daemon/server.hpp"
#include "exit_codes.hpp"
#include "output.hpp"
#include "terminal_text.hpp"

using namespace secchats;
using namespace secchats::cli;

namespace {

bool no_daemon_env() {
  const char* v = std::getenv("SECCHATS_NO_DAEMON");
  return v && std::strcmp(v, "1") == 0;
}

}  // namespace

int main(int argc, char** argv) {
  // A relay that vanishes mid-write must give a clean error, not kill us with SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);

  auto cli = make_cli_app(default_home());
  CLI::App& app = cli->app;
  Args& a = cli->args;
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    Output(a.json).error(e.what(), kExitUsage);
    return kExitUsage;
  }

  const auto [leaf, handler] = cli->parsed();
  if (leaf) {
    const std::string name = leaf->get_name();
    const bool top = leaf->get_parent() == &app;
    const bool own_process = top && (name == "init" || name == "daemon" || name == "passwd");
    if (top && name == "passwd") {
      // The daemon holds the unlocked key; changing it underneath is not done (docs/cli.md).
      if (const long pid = daemon::running_daemon_pid(a.home); pid > 0) {
        const std::string text = "a secchats daemon serves " + a.home + " (pid " +
                                 std::to_string(pid) + "): stop it first, then change the password";
        Output(a.json).error(a.json ? text : escape_inline(text), kExitBusy);
        return kExitBusy;
      }
    }
    if (!own_process && !cli->no_daemon && !no_daemon_env()) {
      if (auto code = run_via_daemon(*cli, *leaf)) return *code;
    }
  }

  Command command(a);
  try {
    if (handler) {
      handler(command);
      // Output that did not reach stdout is no success (docs/cli.md).
      if (!command.out().written()) {
        command.out().error("cannot write output: " + command.out().write_error(), kExitFailure);
        return kExitFailure;
      }
      return kExitOk;
    }
    command.out().error("no command given (see --help)", kExitUsage);
    return kExitUsage;
  } catch (const Failure& f) {
    if (!command.out().written()) {
      // The failure came from (or after) lost output: that is what the user must hear.
      command.out().error("cannot write output: " + command.out().write_error(), kExitFailure);
      return kExitFailure;
    }
    // One line even when the reason quotes a file name or a peer's string.
    command.out().error(a.json ? f.text : escape_inline(f.text), f.code);
    return f.code;
  } catch (const std::exception& e) {
    const std::string text = std::string("internal error: ") + e.what();
    command.out().error(a.json ? text : escape_inline(text), kExitFailure);
    return kExitFailure;
  }
}
