// What every command handler shares: the parsed arguments, the failure that ends a command,
// and Command (the unlocked store and the output). Handlers live in main.cpp and, by
// subject, in their own files (group_commands.cpp, attachment_commands.cpp).
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "exit_codes.hpp"
#include "output.hpp"
#include "password_source.hpp"
#include "secchats/client.hpp"

namespace secchats::cli {

struct Args {
  std::string home;
  bool json = false;
  bool clear_tls = false;  // connection --clear
  std::optional<std::string> password_file;
  std::optional<std::string> new_password_file;
  // Per-command values.
  std::string server, nick, id, text, file, group, name, reaction, png, payload, save_images;
  std::string message_id;
  std::string qr_out, confirm, scan;  // verify
  std::size_t limit = 0;
  bool qr = false;
  bool show_payload = false;
  // init: how to reach the relay securely (kept in the store).
  std::string ca_file, pin_sha256;
  bool allow_insecure_http = false;
  // send-file / send-voice / download.
  bool as_file = false;  // send-file --as-file: the bytes untouched, kind "file"
  std::string out;       // download --out
  std::string socket;    // daemon --socket
};

// A failure that ends the command: what to print and the exit code.
struct Failure {
  std::string text;
  int code;
};

// How a command runs inside `secchats daemon` (docs/cli.md, "The daemon"): on the daemon's
// already unlocked Client, printing into a collecting Output, with progress as a stream of
// JSON objects (the `progress` lines) and without touching stdin or signals.
struct Served {
  Client* client = nullptr;                        // borrowed; outlives the command
  std::function<void(std::string_view)> progress;  // one `progress` JSON object per call
  // True once the requester has gone: a transfer then stops at a resumable point, as after
  // Ctrl-C in direct mode (docs/cli.md, "Attachments: progress and Ctrl-C"). May be empty.
  std::function<bool()> cancelled;
};

class Command {
 public:
  explicit Command(const Args& args) : args_(args), out_(args.json) {}
  Command(const Args& args, Output out, Served served)
      : args_(args), out_(std::move(out)), served_(std::move(served)) {}
  const Output& out() const { return out_; }
  // Run by the daemon: no stdin ("-" stays a literal dash), no SIGINT handling.
  bool served() const { return served_.client != nullptr; }
  const Served& serving() const { return served_; }

  // Unlocks the store (or hands out the daemon's); a wrong password gets its own exit code.
  Client& client();
  SecretString password_or_fail(const PasswordSource& source);

  template <typename T>
  T value_or_fail(Result<T> r) {
    if (!r.ok()) throw Failure{r.error().message(), exit_code_for(r.error())};
    return std::move(r).value();
  }
  void ok_or_fail(Status s) {
    if (!s.ok()) throw Failure{s.error().message(), exit_code_for(s.error())};
  }

  const Args& args() const { return args_; }

 private:
  const Args& args_;
  Output out_;
  Served served_;
  std::unique_ptr<Client> client_;
};

using Handler = void (*)(Command&);
// Adds a subcommand NAME under PARENT whose handler is FN (main.cpp keeps the list).
using AddSubcommand =
    std::function<CLI::App*(CLI::App* parent, const char* name, const char* help, Handler fn)>;

// MESSAGE_ID as --json prints it (a string of decimal digits, docs/cli.md) or as history
// shows it: "123", "#123", and with the double quotes a script may paste along ("\"123\"").
std::int64_t parse_message_id(const std::string& text);

// "-" means: read the text from standard input (for long or scripted messages); not when
// served by the daemon (the CLI sends what it read from its own stdin).
std::string text_argument(const Command& c, const std::string& text);

// A file argument the library opens itself: refused with "cannot read FILE: ..." (exit 2).
void check_input_or_fail(const std::string& path);

// An image FILE for send-image: read whole (bounded), or Failure exit 2.
std::vector<std::uint8_t> read_image_or_fail(const std::string& path);

// The library refuses a bad image without sending anything; name the file in the reason.
template <typename T>
T image_sent_or_fail(Command& c, const std::string& path, Result<T> r) {
  if (!r.ok() && (r.error().code() == ErrorCode::kInvalidArgument ||
                  r.error().code() == ErrorCode::kTooLarge)) {
    throw Failure{path + ": " + r.error().message(), kExitUsage};
  }
  return c.value_or_fail(std::move(r));
}

}  // namespace secchats::cli
