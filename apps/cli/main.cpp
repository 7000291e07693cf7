// secchats — the command-line client. Parses arguments, then either hands the command to a
// running `secchats daemon` (daemon/forward.hpp) or unlocks the store and runs it here
// (direct mode). Every command has a --json form; every failure is one line on stderr and a
// distinct exit code (exit_codes.hpp, docs/cli.md).
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>

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

// CLI11 answers a word that names no command with "A subcommand is required"; the user is
// told which word it was (docs/cli.md, exit 2).
std::string parse_error_text(const CLI::App& app, const CLI::ParseError& e) {
  if (std::string_view(e.get_name()) != "RequiredError") return e.what();
  std::string path;
  const CLI::App* at = &app;
  for (bool deeper = true; deeper;) {
    deeper = false;
    for (const CLI::App* s : at->get_subcommands()) {
      path += s->get_name() + " ";
      at = s;
      deeper = true;
      break;
    }
  }
  if (at->get_require_subcommand_min() == 0) return e.what();  // a leaf's missing argument
  for (const std::string& word : app.remaining()) {
    if (!word.empty() && word.front() != '-') {
      return "unknown command: " + path + escape_inline(word) + " (see " +
             (path.empty() ? "" : "secchats " + path) + "--help)";
    }
  }
  return "no command given (see " + (path.empty() ? "" : "secchats " + path) + "--help)";
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
    Output(a.json).error(parse_error_text(app, e), kExitUsage);
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
