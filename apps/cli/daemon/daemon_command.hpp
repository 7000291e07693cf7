// `secchats daemon [--socket PATH]` (docs/cli.md, "The daemon: one unlock for scripts and
// bots"): takes HOME/daemon.lock (exit 7 if another daemon has it), unlocks the store once,
// serves every command on the socket until SIGTERM/SIGINT, then exits 0.
#pragma once

#include "command.hpp"

namespace secchats::cli {

void cmd_daemon(Command& c);

}  // namespace secchats::cli
