// The account, friend, chat, message, sync and listen commands (docs/cli.md), registered on
// the top-level App through AddSubcommand like the group and attachment commands.
#pragma once

#include <CLI/CLI.hpp>

#include "command.hpp"

namespace secchats::cli {

void add_core_commands(CLI::App& app, Args& a, const AddSubcommand& sub);

}  // namespace secchats::cli
