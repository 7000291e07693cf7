// Attachments from the command line (docs/cli.md, protocol-v2.md §15): send-file,
// send-voice, group send-file, group send-voice and download, each with a progress bar or
// --json progress events (progress_bar.hpp) and Ctrl-C that stops at a resumable point.
#pragma once

#include "command.hpp"

namespace secchats::cli {

// Adds send-file, send-voice and download to APP, and send-file, send-voice to GROUP.
void add_attachment_commands(CLI::App& app, CLI::App& group, Args& a, const AddSubcommand& sub);

}  // namespace secchats::cli
