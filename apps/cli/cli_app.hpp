// The secchats command line as a value: a fresh CLI11 App with every subcommand and its
// handler, built per invocation. `main` parses argv with it; `secchats daemon` builds one per
// JSON-RPC request and parses the argv the method's params map to (daemon/param_mapping.hpp),
// so both accept exactly the same arguments (docs/cli.md, "The daemon").
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "command.hpp"

namespace secchats::cli {

struct CliApp {
  Args args;  // filled by parse; the options point into it
  CLI::App app{"secchats — end-to-end encrypted chats from the terminal"};
  CLI::App* group = nullptr;  // `group`, parent of the group commands
  bool no_daemon = false;     // --no-daemon
  std::string daemon_socket;  // daemon --socket
  std::vector<std::pair<CLI::App*, Handler>> handlers;

  // The leaf subcommand that was parsed and its handler, or {nullptr, nullptr}.
  std::pair<CLI::App*, Handler> parsed() const;
};

// $HOME/.secchats (or .secchats without $HOME): the default --home.
std::string default_home();

// A new App; `home` is the default of --home.
std::unique_ptr<CliApp> make_cli_app(const std::string& home);

// "send-image" → "sendImage"; "MESSAGE_ID" → "messageId"; "--save-images" → "saveImages":
// the JSON-RPC name of a subcommand, positional or option (docs/cli.md, "Params").
std::string camel_case(std::string_view name);

// The JSON-RPC method of a parsed leaf subcommand: "send", "group.sendFile" (docs/cli.md).
std::string method_name(const CLI::App& leaf);

}  // namespace secchats::cli
