// Runs one JSON-RPC method call as the CLI command it names (docs/cli.md, "The daemon"):
// the method and params become the argv the CLI would parse (method_argv), a fresh CliApp
// parses it, and the command's handler runs on the daemon's unlocked Client with an Output
// that collects the lines it prints. So every method has the shapes of the command's --json
// output by construction.
#pragma once

#include <boost/json.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "cli_app.hpp"
#include "daemon/jsonrpc.hpp"
#include "secchats/client.hpp"
#include "secchats/common/result.hpp"

namespace secchats::cli::daemon {

// The argv (without the program name) for METHOD with PARAMS: the subcommand path
// ("group", "send-file"), then options as "--name=value" and flags as "--flag" (false:
// left out), then "--" and the positionals in their order. "format" ("json" or "text") is
// taken out into *text. Errors: kNotFound (-32601) for a method that is no command or is
// not served (init, passwd, listen, daemon); kInvalidArgument (-32602) for an unknown param
// or a value of the wrong JSON type (option_kind: flags take true/false, numeric options
// JSON numbers, the rest strings; "text":42 is refused, not sent as "42").
// The JSON type a param must have, from the CLI11 option's type (docs/cli.md "Params"):
// integers for INT/UINT options (`limit`), any number for FLOAT, strings for the rest.
// Flags (no value) are booleans and are told apart by get_expected_max() == 0.
enum class OptionKind { kText, kInteger, kNumber };
OptionKind option_kind(const CLI::Option& opt);

// The methods that are transfers (sendFile, sendVoice, download and the group forms): the
// ones a connection's close or a `cancelRequest` stops at a resumable point.
bool is_transfer_method(std::string_view method);

Result<std::vector<std::string>> method_argv(const CliApp& cli, std::string_view method,
                                             const boost::json::object& params, bool* text);

// The answer to a call: `result` (the array of --json objects, or of human lines with
// "format":"text"), or an error: `code` (-32601, -32602, or the CLI's exit code) and the
// command's one-line reason.
struct Answer {
  bool ok = false;
  boost::json::value result;
  int code = 0;
  std::string message;
};

// One `progress` object (docs/cli.md "Progress"), while a transfer runs.
using ProgressSink = std::function<void(boost::json::object progress)>;

// True once the requester has gone (its connection closed) or sent `cancelRequest` for the
// call: a transfer stops at its next chunk, resumable, as Ctrl-C stops it in direct mode.
using CancelCheck = std::function<bool()>;

// Runs CALL against CLIENT (HOME is the account directory) on the calling thread, which
// must be the one that owns CLIENT. Never throws.
Answer run_call(Client& client, const std::string& home, const Call& call,
                const ProgressSink& progress, const CancelCheck& cancelled = {});

}  // namespace secchats::cli::daemon
