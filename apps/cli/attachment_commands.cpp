#include "attachment_commands.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>

#include "input_files.hpp"
#include "progress_bar.hpp"
#include "terminal_text.hpp"

namespace secchats::cli {
namespace {

namespace fs = std::filesystem;

volatile std::sig_atomic_t g_interrupted = 0;

extern "C" void on_interrupt(int) {
  g_interrupted = 1;
}

// While a transfer runs, the first Ctrl-C (SIGINT) only asks the library to stop at its next
// progress callback (at most 256 KiB later), which leaves the transfer resumable; the handler
// then resets itself, so a second Ctrl-C ends the process at once, as usual.
class InterruptGuard {
 public:
  InterruptGuard() {
    g_interrupted = 0;
    struct sigaction sa {};
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND | SA_RESTART;
    ::sigaction(SIGINT, &sa, &previous_);
  }
  ~InterruptGuard() { ::sigaction(SIGINT, &previous_, nullptr); }
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;
  bool interrupted() const { return g_interrupted != 0; }
  // After a transfer that succeeded, only printing its result is left: a Ctrl-C then must not
  // turn a done transfer into an exit 130 with half an answer, so SIGINT stays ignored.
  void ignore_from_now_on() {
    previous_ = {};
    previous_.sa_handler = SIG_IGN;
    sigemptyset(&previous_.sa_mask);
  }

 private:
  struct sigaction previous_ {};
};

std::size_t terminal_width() {
  winsize ws{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The bar only on a terminal, JSON events only with --json, else nothing (docs/cli.md).
ProgressReporter make_reporter(const Command& c) {
  if (c.served()) {
    return ProgressReporter(ProgressReporter::Mode::kJson, 0, c.serving().progress, steady_ms);
  }
  if (c.out().json()) {
    return ProgressReporter(
        ProgressReporter::Mode::kJson, 0, [&c](std::string_view json) { c.out().line("", json); },
        steady_ms);
  }
  if (::isatty(STDERR_FILENO) == 1) {
    return ProgressReporter(
        ProgressReporter::Mode::kBar, terminal_width(),
        [](std::string_view text) { std::cerr << text << std::flush; }, steady_ms);
  }
  return ProgressReporter(ProgressReporter::Mode::kNone, 0, {}, steady_ms);
}

// Runs one transfer with progress and Ctrl-C handling. A transfer that Ctrl-C stopped ends
// the command with one line and exit 130; any other result is handed back.
template <typename T, typename Run>
Result<T> transfer(Command& c, Run run) {
  ProgressReporter reporter = make_reporter(c);
  // The daemon keeps SIGINT for its own clean stop, which lets the transfer finish.
  std::optional<InterruptGuard> guard;
  if (!c.served()) guard.emplace();
  // Served: the requester that went away (a CLI ended by Ctrl-C) is this run's Ctrl-C.
  const auto interrupted = [&guard, &c] {
    if (guard) return guard->interrupted();
    return c.serving().cancelled && c.serving().cancelled();
  };
  Result<T> r = run([&](const TransferProgress& p) {
    reporter(p);
    // A reader of --json output that has gone: stop at a resumable point as well (the
    // command then ends with "cannot write output").
    return !interrupted() && c.out().written();
  });
  reporter.finish();
  if (r.ok() && guard) guard->ignore_from_now_on();
  if (!r.ok() && interrupted() && r.error().code() == ErrorCode::kUnavailable) {
    throw Failure{"stopped at " + reporter.where() + "; run the same command again to resume",
                  kExitInterrupted};
  }
  return r;
}

// The relay's limits are refusals of this file (exit 5), not network trouble or bad usage.
int send_exit_code(const Error& e) {
  if (e.code() == ErrorCode::kTooLarge) return kExitRefused;  // 413: over its blob limit
  if (e.code() == ErrorCode::kUnavailable && e.message().starts_with("relay storage full")) {
    return kExitRefused;  // 507: quota or disk reserve
  }
  return exit_code_for(e);
}

SendFileOptions send_options(const Args& a, const char* kind) {
  SendFileOptions options;
  options.kind = kind;
  options.file_name = a.name;
  return options;
}

void send_attachment(Command& c, bool group, const char* kind) {
  const Args& a = c.args();
  if (Status s = check_attachment_file(a.file); !s.ok()) {
    throw Failure{s.error().message(), kExitUsage};
  }
  Client& client = c.client();
  std::string chat_id;
  if (group) {
    chat_id = c.value_or_fail(client.find_group(a.group)).group_id;
  } else {
    chat_id = c.value_or_fail(client.find_friend(a.id)).user_id;
  }
  const SendFileOptions options = send_options(a, kind);
  auto sent = transfer<MessageInfo>(c, [&](const ProgressCallback& progress) {
    return group ? client.send_group_file(chat_id, a.file, options, progress)
                 : client.send_file(chat_id, a.file, options, progress);
  });
  if (!sent.ok()) {
    const Error& e = sent.error();
    // What is wrong with this file (not audio, ...): name it. Other reasons stand alone.
    const bool about_file = e.code() == ErrorCode::kInvalidArgument &&
                            !e.message().starts_with("files need protocol v2");
    throw Failure{about_file ? a.file + ": " + e.message() : e.message(), send_exit_code(e)};
  }
  c.out().sent(*sent);
}

void cmd_send_file(Command& c) {
  send_attachment(c, false, c.args().as_file ? "file" : "auto");
}
void cmd_group_send_file(Command& c) {
  send_attachment(c, true, c.args().as_file ? "file" : "auto");
}
void cmd_send_voice(Command& c) {
  send_attachment(c, false, "voice");
}
void cmd_group_send_voice(Command& c) {
  send_attachment(c, true, "voice");
}

void cmd_download(Command& c) {
  const Args& a = c.args();
  const std::int64_t message_id = parse_message_id(a.message_id);
  Client& client = c.client();
  const std::string chat_id = c.value_or_fail(client.find_chat(a.id)).second;
  const fs::path out = a.out.empty() ? fs::path(".") : fs::path(a.out);
  auto written = transfer<fs::path>(c, [&](const ProgressCallback& progress) {
    return client.download(chat_id, message_id, out, progress);
  });
  if (!written.ok()) {
    const Error& e = written.error();
    if (e.code() == ErrorCode::kCorrupt) {
      // The relay (or something on the way) served bytes that are not what the friend sent.
      throw Failure{e.message() + "; ask the sender to send it again", kExitRefused};
    }
    throw Failure{e.message(), exit_code_for(e)};
  }
  const fs::path path = fs::absolute(*written);
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  c.out().line("saved to " + escape_inline(path.string()),
               JsonLine()
                   .add("event", "downloaded")
                   .add("chat", chat_id)
                   .add_id("messageId", message_id)
                   .add("path", path.string())
                   .add("size", static_cast<std::int64_t>(ec ? 0 : size))
                   .str());
}

}  // namespace

void add_attachment_commands(CLI::App& app, CLI::App& group, Args& a, const AddSubcommand& sub) {
  auto* send_file =
      sub(&app, "send-file", "send a file, photo or video, encrypted (v2 friends)", cmd_send_file);
  send_file->add_option("FRIEND", a.id)->required();
  send_file->add_option("PATH", a.file)->required();
  send_file->add_flag("--as-file", a.as_file,
                      "send the bytes untouched (a photo is otherwise re-encoded without "
                      "metadata)");
  send_file->add_option("--name", a.name, "the file name your friend sees (default: PATH's)");

  auto* send_voice = sub(&app, "send-voice",
                         "send a voice note (Ogg/Opus, or audio converted to it)", cmd_send_voice);
  send_voice->add_option("FRIEND", a.id)->required();
  send_voice->add_option("FILE", a.file)->required();
  send_voice->add_option("--name", a.name, "the file name your friend sees");

  auto* download = sub(&app, "download", "download and decrypt an attachment", cmd_download);
  download->add_option("CHAT", a.id, "friend or group")->required();
  download->add_option("MESSAGE_ID", a.message_id)->required();
  download->add_option("--out", a.out,
                       "a new file, or a directory for the sender's file name (default: .)");

  auto* gsend_file =
      sub(&group, "send-file", "send a file, photo or video to a v2 group", cmd_group_send_file);
  gsend_file->add_option("GROUP", a.group)->required();
  gsend_file->add_option("PATH", a.file)->required();
  gsend_file->add_flag("--as-file", a.as_file, "send the bytes untouched");
  gsend_file->add_option("--name", a.name, "the file name members see");

  auto* gsend_voice =
      sub(&group, "send-voice", "send a voice note to a v2 group", cmd_group_send_voice);
  gsend_voice->add_option("GROUP", a.group)->required();
  gsend_voice->add_option("FILE", a.file)->required();
  gsend_voice->add_option("--name", a.name, "the file name members see");
}

}  // namespace secchats::cli
