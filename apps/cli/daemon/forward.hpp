// The CLI's side of the daemon (docs/cli.md, "The daemon"): when HOME/daemon.lock is held and
// its socket accepts a connection, the parsed command is sent as a JSON-RPC request and the
// answer printed exactly as direct mode prints it (same lines, exit codes, stderr format).
#pragma once

#include <optional>

#include "cli_app.hpp"

namespace secchats::cli {

// The exit code after the daemon served LEAF (the parsed subcommand of CLI), or nullopt when
// no daemon serves the account (run it here). A daemon that goes away before answering:
// one line "the secchats daemon stopped before answering …", exit 1 — never "sent".
std::optional<int> run_via_daemon(CliApp& cli, CLI::App& leaf);

}  // namespace secchats::cli
