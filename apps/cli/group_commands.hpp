// The `group ...` commands (docs/cli.md): create, invite, remove, invites, join, decline,
// send, send-image, react, qr-create, qr-join; and `groups`, which lists them.
#pragma once

#include "command.hpp"

namespace secchats::cli {

// Adds `groups` to APP and the `group` command with its subcommands; returns `group` (other
// files add their group subcommands to it).
CLI::App* add_group_commands(CLI::App& app, Args& a, const AddSubcommand& sub);

}  // namespace secchats::cli
