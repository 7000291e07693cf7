// secchats — the command-line client. Parses arguments, unlocks the store, calls libsecchats,
// prints. Every command has a --json form; every failure is one line on stderr and a
// distinct exit code (exit_codes.hpp, docs/cli.md).
#include <poll.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <mutex>
#include <thread>

#include "exit_codes.hpp"
#include "input_files.hpp"
#include "output.hpp"
#include "password_source.hpp"
#include "secchats/client.hpp"
#include "secchats/qr/qr.hpp"
#include "terminal_text.hpp"

namespace fs = std::filesystem;
using namespace secchats;
using namespace secchats::cli;

namespace {

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
};

// A failure that ends the command: what to print and the exit code.
struct Failure {
  std::string text;
  int code;
};

std::string default_home() {
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.secchats";
  return ".secchats";
}

class Command {
 public:
  explicit Command(const Args& args) : args_(args), out_(args.json) {}
  const Output& out() const { return out_; }

  // Unlocks the store; a wrong password gets its own exit code.
  Client& client() {
    if (client_) return *client_;
    if (!Client::exists(args_.home)) {
      throw Failure{
          "no account in " + args_.home + " (run: secchats init --server URL --nick NAME)",
          kExitNotFound};
    }
    SecretString password =
        password_or_fail({"SECCHATS_PASSWORD", args_.password_file, "Password: ", false});
    auto opened = Client::open(args_.home, password);
    if (!opened.ok()) {
      const auto& e = opened.error();
      throw Failure{e.message(), e.code() == ErrorCode::kUnauthenticated ? kExitWrongPassword
                                                                         : exit_code_for(e)};
    }
    client_ = std::move(*opened);
    return *client_;
  }

  SecretString password_or_fail(const PasswordSource& source) {
    auto p = read_password(source);
    if (!p.ok()) throw Failure{p.error().message(), kExitUsage};
    return std::move(*p);
  }

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
  std::unique_ptr<Client> client_;
};

// A photo FILE for send-image: read whole (the library decodes, orients and scales it),
// but never more than the largest photo the library takes plus one byte, which is refused
// here without reading on (docs/cli.md, exit 2).
constexpr std::size_t kImageReadLimit = Client::kMaxPhotoInputBytes + 1;

std::vector<std::uint8_t> read_image_or_fail(const std::string& path) {
  auto bytes = read_input_file(path, kImageReadLimit);
  if (!bytes.ok()) throw Failure{bytes.error().message(), kExitUsage};
  if (bytes->size() > Client::kMaxPhotoInputBytes) {
    throw Failure{path + ": photo larger than 64 MiB", kExitUsage};
  }
  return std::move(bytes).value();
}

void check_input_or_fail(const std::string& path) {
  if (Status s = check_input_file(path); !s.ok()) throw Failure{s.error().message(), kExitUsage};
}

// The library refuses a bad image without sending anything; name the file in the reason.
template <typename T>
T image_sent_or_fail(Command& c, const std::string& path, Result<T> r) {
  if (!r.ok() && (r.error().code() == ErrorCode::kInvalidArgument ||
                  r.error().code() == ErrorCode::kTooLarge)) {
    throw Failure{path + ": " + r.error().message(), kExitUsage};
  }
  return c.value_or_fail(std::move(r));
}

// MESSAGE_ID as --json prints it (a string of decimal digits, docs/cli.md) or as history
// shows it: "123", "#123", and with the double quotes a script may paste along ("\"123\"").
std::int64_t parse_message_id(const std::string& text) {
  std::int64_t v = 0;
  std::string_view s = text;
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  if (!s.empty() && s.front() == '#') s.remove_prefix(1);
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) {
    throw Failure{
        "MESSAGE_ID must be a message id: digits, as --json prints it or as shown "
        "after # in history",
        kExitUsage};
  }
  return v;
}

// "-" means: read the text from standard input (for long or scripted messages).
std::string text_argument(const std::string& text) {
  if (text != "-") return text;
  std::string all{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  while (!all.empty() && (all.back() == '\n' || all.back() == '\r'))
    all.pop_back();
  return all;
}

// ---------------------------------------------------------------------------------------------
// Commands

void cmd_init(Command& c) {
  const auto& a = c.args();
  if (Client::exists(a.home)) throw Failure{"an account already exists in " + a.home, kExitUsage};
  SecretString password =
      c.password_or_fail({"SECCHATS_PASSWORD", a.password_file, "New password: ", true});
  ConnectionOptions connection;
  // Stored with the account: absolute, so later commands work from any directory.
  if (!a.ca_file.empty()) connection.ca_file = fs::absolute(a.ca_file).string();
  connection.pin_sha256 = a.pin_sha256;
  connection.allow_insecure_http = a.allow_insecure_http;
  auto client =
      c.value_or_fail(Client::create_account(a.home, password, a.server, a.nick, connection));
  c.out().line("Your Secure Chats ID: " + client->user_id() +
                   "\nShare it with friends; they add you with: secchats add " + client->user_id(),
               JsonLine()
                   .add("event", "initialized")
                   .add("userId", client->user_id())
                   .add("nickname", client->nickname())
                   .add("server", client->server_url())
                   .str());
}

void cmd_id(Command& c) {
  Client& client = c.client();
  JsonLine j;
  j.add("userId", client.user_id())
      .add("nickname", client.nickname())
      .add("server", client.server_url());
  std::string human = client.user_id();
  if (c.args().qr) {
    std::string art = c.value_or_fail(qr::render_terminal(client.user_id()));
    j.add("qr", art);
    human = art + "\n" + human;
  }
  c.out().line(human, j.str());
}

void cmd_add(Command& c) {
  Client& client = c.client();
  c.ok_or_fail(client.add_friend(c.args().id));
  if (client.find_friend(c.args().id).ok()) {  // they had asked us: adding them back accepted
    c.out().line("you and " + c.args().id + " are friends now (they had asked you too)",
                 JsonLine().add("event", "accepted").add("userId", c.args().id).str());
    return;
  }
  c.out().line("friend request sent to " + c.args().id + "; it completes when they accept",
               JsonLine().add("event", "requestSent").add("userId", c.args().id).str());
}

void cmd_requests(Command& c) {
  for (const auto& r : c.value_or_fail(c.client().requests())) {
    c.out().line((r.incoming ? "from " : "to   ") + r.user_id +
                     (r.incoming ? "  (accept or decline)" : "  (waiting for them)"),
                 JsonLine()
                     .add("userId", r.user_id)
                     .add("direction", r.incoming ? "incoming" : "outgoing")
                     .add("at", r.at_ms)
                     .str());
  }
}

void cmd_accept(Command& c) {
  FriendInfo f = c.value_or_fail(c.client().accept(c.args().id));
  c.out().line("you and " + f.user_id + " are friends now",
               JsonLine().add("event", "accepted").add("userId", f.user_id).str());
}

void cmd_decline(Command& c) {
  c.ok_or_fail(c.client().decline(c.args().id));
  c.out().line("declined " + c.args().id,
               JsonLine().add("event", "declined").add("userId", c.args().id).str());
}

// How a friend's verification state reads in `friends`.
std::string verification_text(const FriendInfo& f) {
  if (f.sending_blocked)
    return "KEY CHANGED, sending blocked (run: secchats verify " + f.user_id + ")";
  if (f.identity_changed)
    return "KEY CHANGED, not verified (run: secchats verify " + f.user_id + ")";
  if (f.verified) return "verified";
  // Safety numbers exist only for v2 friends.
  return f.protocol == "v2" ? "not verified" : "";
}

void cmd_friends(Command& c) {
  for (const auto& f : c.value_or_fail(c.client().friends())) {
    std::string human = render_person(f.nickname, f.user_id) + "  " + f.user_id + "  " + f.protocol;
    if (const std::string v = verification_text(f); !v.empty()) human += "  " + v;
    c.out().line(human, JsonLine()
                            .add("userId", f.user_id)
                            .add("nickname", f.nickname)
                            .add("protocol", f.protocol)
                            .add("verified", f.verified)
                            .add("identityChanged", f.identity_changed)
                            .add("sendingBlocked", f.sending_blocked)
                            .str());
  }
}

// The chat list the desktop app shows: newest activity first, with unread counts.
void cmd_chats(Command& c) {
  for (const auto& chat : c.value_or_fail(c.client().chats())) {
    const bool group = chat.kind == ChatKind::kGroup;
    std::string human =
        group ? "group " + render_name(chat.title) : render_person(chat.title, chat.chat_id);
    human += "  " + chat.chat_id + "  " + chat.protocol;
    if (chat.unread > 0) human += "  " + std::to_string(chat.unread) + " unread";
    if (chat.closed) human += "  (closed)";
    JsonLine json;
    json.add("chat", chat.chat_id)
        .add("kind", group ? "group" : "friend")
        .add("title", chat.title)
        .add("protocol", chat.protocol)
        .add("unread", chat.unread)
        .add("messages", chat.message_count)
        .add("lastActivity", chat.last_activity_ms)
        .add("closed", chat.closed);
    if (chat.last_message) json.add_id("lastMessageId", chat.last_message->message_id);
    c.out().line(human, json.str());
  }
}

// Shows the TLS settings, or replaces them (after the library tried them on the relay): for a
// renewed certificate with a new pin, or a new private CA.
void cmd_connection(Command& c) {
  const auto& a = c.args();
  Client& client = c.client();
  const bool change =
      !a.ca_file.empty() || !a.pin_sha256.empty() || a.allow_insecure_http || a.clear_tls;
  if (change) {
    ConnectionOptions connection;
    if (!a.ca_file.empty()) {
      check_input_or_fail(a.ca_file);
      connection.ca_file = fs::absolute(a.ca_file).string();
    }
    connection.pin_sha256 = a.pin_sha256;
    connection.allow_insecure_http = a.allow_insecure_http;
    c.ok_or_fail(client.set_connection(connection));
  }
  const ConnectionOptions now = client.connection();
  std::string human = "relay " + client.server_url();
  if (!now.pin_sha256.empty()) human += "  pin " + now.pin_sha256;
  if (!now.ca_file.empty()) human += "  CA file " + now.ca_file;
  if (now.allow_insecure_http) human += "  plain http allowed";
  if (change) human = "connection updated (tried on the relay): " + human;
  c.out().line(human, JsonLine()
                          .add("event", change ? "connectionUpdated" : "connection")
                          .add("server", client.server_url())
                          .add("pinSha256", now.pin_sha256)
                          .add("caFile", now.ca_file)
                          .add("allowInsecureHttp", now.allow_insecure_http)
                          .str());
}

void cmd_verify(Command& c) {
  const auto& a = c.args();
  Client& client = c.client();
  FriendInfo f = c.value_or_fail(client.find_friend(a.id));
  const std::string name = render_person(f.nickname, f.user_id);
  if (!a.scan.empty()) check_input_or_fail(a.scan);
  if (std::error_code ec; !a.qr_out.empty() && fs::is_directory(a.qr_out, ec)) {
    throw Failure{"cannot write " + a.qr_out + ": is a directory", kExitUsage};
  }
  if (!a.confirm.empty() || !a.scan.empty()) {
    SecretString given =
        a.scan.empty() ? SecretString(a.confirm) : c.value_or_fail(qr::read_png(a.scan));
    Status marked = client.mark_verified(f.user_id, given.view());
    if (!marked.ok()) {
      // A mismatch is a security refusal (the two phones see different keys), not a typo in
      // the command line: exit 5, like every other refused insecure thing.
      const bool mismatch = marked.error().message() == kSafetyNumbersDoNotMatch;
      throw Failure{mismatch ? "safety numbers do not match: do not trust this chat until you "
                               "find out why (the keys may have been substituted)"
                             : marked.error().message(),
                    mismatch ? kExitRefused : exit_code_for(marked.error())};
    }
    c.out().line("verified: your safety number with " + name + " matches",
                 JsonLine().add("event", "verified").add("userId", f.user_id).str());
    return;
  }
  SafetyNumberInfo n = c.value_or_fail(client.safety_number(f.user_id));
  if (!a.qr_out.empty()) c.ok_or_fail(qr::write_png(n.qr_payload, a.qr_out));
  // Two lines of six groups, as both phones show it.
  std::string human = "Safety number with " + name + ":\n  " + n.formatted.substr(0, 35) + "\n  " +
                      n.formatted.substr(36) + "\n";
  human += n.verified           ? "verified"
           : n.identity_changed ? "their identity key CHANGED and is not verified"
                                : "not verified";
  human += "\nCompare it with the number on the screen of " + name +
           " (in person, or over a call you trust), then run:\n  secchats verify " + f.user_id +
           " --confirm \"DIGITS\"   (or --scan THEIR_QR.png)";
  if (!a.qr_out.empty()) human += "\nQR code written to " + a.qr_out;
  JsonLine j;
  j.add("userId", f.user_id)
      .add("nickname", f.nickname)
      .add("safetyNumber", n.formatted)
      .add("digits", n.digits)
      .add("qrPayload", n.qr_payload)
      .add("verified", n.verified)
      .add("identityChanged", n.identity_changed);
  if (!a.qr_out.empty()) j.add("qrPng", a.qr_out);
  c.out().line(human, j.str());
}

void cmd_send(Command& c) {
  Client& client = c.client();
  FriendInfo f = c.value_or_fail(client.find_friend(c.args().id));
  c.out().sent(c.value_or_fail(client.send_text(f.user_id, text_argument(c.args().text))));
}

void cmd_send_image(Command& c) {
  auto png = read_image_or_fail(c.args().file);
  Client& client = c.client();
  FriendInfo f = c.value_or_fail(client.find_friend(c.args().id));
  c.out().sent(image_sent_or_fail(c, c.args().file, client.send_image(f.user_id, std::move(png))));
}

void cmd_react(Command& c) {
  const std::int64_t target = parse_message_id(c.args().message_id);
  Client& client = c.client();
  FriendInfo f = c.value_or_fail(client.find_friend(c.args().id));
  c.out().sent(c.value_or_fail(client.react(f.user_id, target, c.args().reaction)));
}

// The sink of sync and listen: an event counts as taken only once its line reached stdout;
// one that did not is kept by the library and printed by the next sync or listen.
Client::EventSink printing_sink(Command& c) {
  return [&c](const Event& e) {
    c.out().event(e);
    return c.out().written();
  };
}

void cmd_sync(Command& c) {
  // Printed as each channel commits, so a failure half-way loses nothing already stored.
  c.ok_or_fail(c.client().sync(printing_sink(c)));
}

// Ends `listen` as soon as nobody reads our stdout any more (`listen | head -n 1`): poll
// reports POLLERR on a pipe whose reader is gone, and POLLHUP on a terminal that hung up.
// Ending is as safe as Ctrl-C (below): events not yet printed stay stored and the next sync or
// listen prints them. The one moment it waits for is between printing events and the library
// forgetting them (the end of a sync round), so that what was printed is not printed again.
// Regular files never report either condition, so for them this waits forever.
class ListenWatch {
 public:
  // The sink is printing: a sync round is under way.
  void printing() {
    std::lock_guard lock(mu_);
    busy_ = true;
  }
  // Between rounds (listen calls keep_going): what was printed has been forgotten.
  void between_rounds() {
    std::lock_guard lock(mu_);
    busy_ = false;
    idle_.notify_all();
  }
  void start() {
    std::thread([this] {
      pollfd p{STDOUT_FILENO, 0, 0};
      while (::poll(&p, 1, -1) < 0 && errno == EINTR) {
      }
      if ((p.revents & (POLLERR | POLLHUP | POLLNVAL)) == 0) return;
      std::unique_lock lock(mu_);
      idle_.wait(lock, [this] { return !busy_; });
      static constexpr std::string_view kText =
          "secchats: cannot write output: the reader of standard output is gone\n";
      (void)!::write(STDERR_FILENO, kText.data(), kText.size());
      std::_Exit(kExitFailure);
    }).detach();
  }

 private:
  std::mutex mu_;
  std::condition_variable idle_;
  bool busy_ = false;
};

void cmd_listen(Command& c) {
  Client& client = c.client();
  // Interrupting is safe at any moment: every sync round commits items and cursor together,
  // so Ctrl-C keeps its default meaning (terminate) instead of waiting for a held long-poll.
  if (!c.out().json()) std::cerr << "listening; Ctrl-C to stop\n";
  // Never destroyed: the watching thread may outlive this function until the process ends.
  static ListenWatch watch;
  watch.start();
  auto print = printing_sink(c);
  c.ok_or_fail(client.listen(
      [&](const Event& e) {
        watch.printing();
        return print(e);
      },
      [&c] {
        watch.between_rounds();
        return c.out().written();
      }));
}

// How an outbox item reads in `pending` and under its message in `history`.
std::string delivery_text(const std::string& delivery, int attempts,
                          const std::string& last_error) {
  std::string text =
      delivery == "failed" ? "FAILED, refused by the relay" : "pending, not sent yet";
  if (attempts > 0) {
    text += " (" + std::to_string(attempts) + (attempts == 1 ? " try" : " tries");
    if (!last_error.empty()) text += ": " + last_error;
    text += ")";
  }
  return text;
}

void cmd_pending(Command& c) {
  for (const auto& p : c.value_or_fail(c.client().pending())) {
    const MessageInfo& m = p.message;
    const std::string what =
        m.type == "INVITE" ? "invite of " + p.invitee + " to group " + m.chat_id
                           : std::string(m.type) + " to " +
                                 (m.chat_kind == ChatKind::kGroup ? "group " : "") + m.chat_id;
    JsonLine j;
    j.add("event", "pending")
        .add_id("messageId", m.message_id)
        .add("chat", m.chat_id)
        .add("chatKind", chat_kind_name(m.chat_kind))
        .add("type", m.type)
        .add("delivery", m.delivery)
        .add("attempts", std::int64_t{p.attempts})
        .add("lastError", p.last_error)
        .add("queuedAt", p.queued_at_ms);
    if (!p.invitee.empty()) j.add("invitee", p.invitee);
    c.out().line("#" + std::to_string(m.message_id) + "  " + what + "  " +
                     delivery_text(m.delivery, p.attempts, p.last_error),
                 j.str());
  }
}

void cmd_cancel(Command& c) {
  const std::int64_t id = parse_message_id(c.args().message_id);
  c.ok_or_fail(c.client().cancel_pending(id));
  c.out().line("cancelled #" + std::to_string(id) +
                   " here; if the relay had already taken it, the friend may still get it",
               JsonLine().add("event", "cancelled").add_id("messageId", id).str());
}

void cmd_history(Command& c) {
  Client& client = c.client();
  auto [kind, chat_id] = c.value_or_fail(client.find_chat(c.args().id));
  (void)kind;
  auto messages = c.value_or_fail(client.history(chat_id, c.args().limit));
  if (!c.args().save_images.empty()) {
    std::error_code ec;
    fs::create_directories(c.args().save_images, ec);
    if (ec)
      throw Failure{"cannot create " + c.args().save_images + ": " + ec.message(), kExitUsage};
  }
  std::vector<PendingSend> outbox;
  for (const auto& m : messages) {
    if (m.delivery == "pending" || m.delivery == "failed") {
      outbox = c.value_or_fail(client.pending());
      break;
    }
  }
  for (const auto& m : messages) {
    c.out().message(m);
    if (m.delivery == "pending" || m.delivery == "failed") {
      // Our message is still in the outbox: say so right under it.
      int attempts = 0;
      std::string last_error;
      for (const auto& p : outbox) {
        if (p.message.message_id == m.message_id) {
          attempts = p.attempts;
          last_error = p.last_error;
        }
      }
      c.out().line("  ^ #" + std::to_string(m.message_id) + " " +
                       delivery_text(m.delivery, attempts, last_error) +
                       " (secchats pending; secchats cancel " + std::to_string(m.message_id) + ")",
                   JsonLine()
                       .add("event", "delivery")
                       .add_id("messageId", m.message_id)
                       .add("chat", m.chat_id)
                       .add("delivery", m.delivery)
                       .add("attempts", std::int64_t{attempts})
                       .add("lastError", last_error)
                       .str());
    }
    if (m.type == "IMG" && !c.args().save_images.empty()) {
      // Named by what the bytes are: we send JPEG or PNG, and so does the reference UI.
      const bool jpeg =
          m.image.size() >= 3 && m.image[0] == 0xFF && m.image[1] == 0xD8 && m.image[2] == 0xFF;
      const fs::path file = fs::path(c.args().save_images) /
                            (std::to_string(m.message_id) + (jpeg ? ".jpg" : ".png"));
      std::ofstream png(file, std::ios::binary);
      png.write(reinterpret_cast<const char*>(m.image.data()),
                static_cast<std::streamsize>(m.image.size()));
      if (!png) throw Failure{"cannot write " + file.string(), kExitFailure};
    }
  }
  // Shown in full (no --limit): the chat is read, as in the desktop app.
  if (c.args().limit == 0) c.ok_or_fail(client.mark_read(chat_id));
}

void print_group(Command& c, const GroupInfo& g, std::string_view event) {
  JsonLine j;
  if (!event.empty()) j.add("event", event);
  j.add("groupId", g.group_id)
      .add("name", g.name)
      .add("origin", origin_name(g.origin))
      .add("protocol", g.protocol);
  if (!g.protocol_reason.empty()) j.add("protocolReason", g.protocol_reason);
  j.add("closed", g.closed);
  if (g.closed) j.add("removedBy", g.removed_by);
  std::string human = render_name(g.name);
  human += "  ";
  human += escape_inline(g.group_id);
  human += "  (";
  human += origin_name(g.origin);
  human += ", ";
  human += escape_inline(g.protocol);
  if (!g.protocol_reason.empty()) {
    human += ": ";
    human += escape_inline(g.protocol_reason);
  }
  human += ")";
  if (g.closed) {
    human += "  closed: ";
    human += escape_inline(g.removed_by);
    human += " removed you";
  }
  c.out().line(human, j.str());
}

void cmd_group_create(Command& c) {
  print_group(c, c.value_or_fail(c.client().create_group(c.args().name)), "groupCreated");
}

void cmd_group_invite(Command& c) {
  Client& client = c.client();
  GroupInfo g = c.value_or_fail(client.find_group(c.args().group));
  FriendInfo f = c.value_or_fail(client.find_friend(c.args().id));
  c.ok_or_fail(client.invite_to_group(g.group_id, f.user_id));
  c.out().line(
      "invited " + render_person(f.nickname, f.user_id) + " to " + render_name(g.name),
      JsonLine().add("event", "invited").add("groupId", g.group_id).add("userId", f.user_id).str());
}

void cmd_group_remove(Command& c) {
  Client& client = c.client();
  GroupInfo g = c.value_or_fail(client.find_group(c.args().group));
  c.ok_or_fail(client.remove_group_member(g.group_id, c.args().id));
  // Who was removed, as the library resolved it: a friend's nickname names that friend (an
  // ambiguous one was refused above); anything else was taken as the member's id.
  auto f = client.find_friend(c.args().id);
  const std::string member_id = f.ok() ? f->user_id : c.args().id;
  const std::string who =
      f.ok() ? render_person(f->nickname, f->user_id) : escape_inline(member_id);
  c.out().line(
      "removed " + who + " from " + render_name(g.name) + " (new group key sent to the others)",
      JsonLine().add("event", "removed").add("groupId", g.group_id).add("member", member_id).str());
}

void cmd_group_invites(Command& c) {
  for (const auto& i : c.value_or_fail(c.client().group_invites())) {
    c.out().line(render_name(i.name) + "  " + escape_inline(i.group_id) + "  from " +
                     render_person(i.from_nickname, i.from_user_id),
                 JsonLine()
                     .add("groupId", i.group_id)
                     .add("name", i.name)
                     .add("fromUserId", i.from_user_id)
                     .add("fromName", i.from_nickname)
                     .str());
  }
}

void cmd_group_join(Command& c) {
  print_group(c, c.value_or_fail(c.client().join_group(c.args().group)), "joined");
}

void cmd_group_decline(Command& c) {
  c.ok_or_fail(c.client().decline_group_invite(c.args().group));
  c.out().line("invite to " + escape_inline(c.args().group) + " declined (the inviter is not told)",
               JsonLine().add("event", "inviteDeclined").add("group", c.args().group).str());
}

void cmd_groups(Command& c) {
  for (const auto& g : c.value_or_fail(c.client().groups()))
    print_group(c, g, "");
}

void cmd_group_send(Command& c) {
  Client& client = c.client();
  GroupInfo g = c.value_or_fail(client.find_group(c.args().group));
  c.out().sent(c.value_or_fail(client.send_group_text(g.group_id, text_argument(c.args().text))));
}

void cmd_group_send_image(Command& c) {
  auto png = read_image_or_fail(c.args().file);
  Client& client = c.client();
  GroupInfo g = c.value_or_fail(client.find_group(c.args().group));
  c.out().sent(
      image_sent_or_fail(c, c.args().file, client.send_group_image(g.group_id, std::move(png))));
}

void cmd_group_react(Command& c) {
  const std::int64_t target = parse_message_id(c.args().message_id);
  Client& client = c.client();
  GroupInfo g = c.value_or_fail(client.find_group(c.args().group));
  c.out().sent(c.value_or_fail(client.react_in_group(g.group_id, target, c.args().reaction)));
}

void cmd_group_qr_create(Command& c) {
  Client& client = c.client();
  // Check the PNG can be written before anything is created.
  std::string png = c.args().png;
  if (!png.empty()) {
    std::error_code ec;
    const bool existed = fs::exists(png, ec);
    if (ec || fs::is_directory(png, ec) || !std::ofstream(png, std::ios::app)) {
      throw Failure{"cannot write " + png, kExitUsage};
    }
    if (!existed) fs::remove(png, ec);
  }
  auto [group, payload] = c.value_or_fail(client.create_in_person_group(c.args().name));
  if (png.empty()) png = "secchats-group-" + group.group_id.substr(0, 8) + ".png";
  c.ok_or_fail(qr::write_png(payload.view(), png));
  std::string art = c.value_or_fail(qr::render_terminal(payload.view()));
  JsonLine j;
  j.add("event", "groupCreated")
      .add("groupId", group.group_id)
      .add("name", group.name)
      .add("origin", origin_name(group.origin))
      .add("protocol", group.protocol)
      .add("png", png);
  if (c.args().show_payload) j.add("payload", payload.view());
  c.out().line(art + "\nScan this in person to join " + render_name(group.name) +
                   " (also saved as " + escape_inline(png) +
                   ").\nAnyone who sees this code can read the group: show it only to members.",
               j.str());
}

void cmd_group_qr_join(Command& c) {
  const auto& a = c.args();
  if (a.png.empty() == a.payload.empty()) {
    throw Failure{"give exactly one of --png FILE or --payload TEXT", kExitUsage};
  }
  // "--payload -" reads it from stdin, keeping the key out of argv and shell history.
  if (!a.png.empty()) check_input_or_fail(a.png);
  SecretString payload = !a.png.empty()     ? c.value_or_fail(qr::read_png(a.png))
                         : a.payload == "-" ? SecretString(text_argument("-"))
                                            : SecretString(a.payload);
  print_group(c, c.value_or_fail(c.client().join_in_person_group(payload.view())), "joined");
}

void cmd_passwd(Command& c) {
  const auto& a = c.args();
  if (!Client::exists(a.home)) throw Failure{"no account in " + a.home, kExitNotFound};
  SecretString old_password =
      c.password_or_fail({"SECCHATS_PASSWORD", a.password_file, "Current password: ", false});
  SecretString new_password = c.password_or_fail({"SECCHATS_NEW_PASSWORD", a.new_password_file,
                                                  "New password: ", true, "--new-password-file"});
  auto changed = Client::change_password(a.home, old_password, new_password);
  if (!changed.ok()) {
    throw Failure{changed.error().message(), changed.error().code() == ErrorCode::kUnauthenticated
                                                 ? kExitWrongPassword
                                                 : exit_code_for(changed.error())};
  }
  c.out().line("password changed", JsonLine().add("event", "passwordChanged").str());
}

}  // namespace

int main(int argc, char** argv) {
  // A relay that vanishes mid-write must give a clean error, not kill us with SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);

  Args a;
  a.home = default_home();
  CLI::App app{"secchats — end-to-end encrypted chats from the terminal"};
  app.require_subcommand(1);
  app.add_option("--home", a.home, "account directory")->capture_default_str();
  app.add_flag("--json", a.json, "one JSON object per line of output");
  app.add_option("--password-file", a.password_file,
                 "read the password from this file (else $SECCHATS_PASSWORD or a prompt)");

  std::vector<std::pair<CLI::App*, void (*)(Command&)>> handlers;
  auto sub = [&](CLI::App* parent, const char* name, const char* help, void (*fn)(Command&)) {
    CLI::App* s = parent->add_subcommand(name, help);
    handlers.emplace_back(s, fn);
    return s;
  };

  auto* init = sub(&app, "init", "register on a relay and create the encrypted store", cmd_init);
  init->add_option("--server", a.server,
                   "relay URL, e.g. https://relay.example.org or http://127.0.0.1:8080")
      ->required();
  init->add_option("--nick", a.nick, "your nickname (only friends ever see it)")->required();
  init->add_option("--ca-file", a.ca_file,
                   "https: trust the certificates in this PEM file instead of the system's");
  init->add_option("--pin-sha256", a.pin_sha256,
                   "https: accept only the certificate with this SHA-256 (base64 or hex, as "
                   "secchats-server prints it)");
  init->add_flag("--allow-insecure-http", a.allow_insecure_http,
                 "allow plain http:// to a relay that is not on this machine");
  auto* connection =
      sub(&app, "connection", "show the relay's TLS settings, or replace them", cmd_connection);
  connection->add_option("--ca-file", a.ca_file, "https: trust the certificates in this PEM file");
  connection->add_option("--pin-sha256", a.pin_sha256,
                         "https: accept only the certificate with this SHA-256 (a renewed "
                         "certificate's new pin)");
  connection->add_flag("--allow-insecure-http", a.allow_insecure_http,
                       "allow plain http:// to a relay that is not on this machine");
  connection->add_flag("--clear", a.clear_tls, "drop the pin and CA file (system CAs again)");
  sub(&app, "id", "print your ID", cmd_id)->add_flag("--qr", a.qr, "also draw it as a QR code");
  sub(&app, "add", "send a friend request", cmd_add)->add_option("ID", a.id)->required();
  sub(&app, "requests", "list pending friend requests", cmd_requests);
  sub(&app, "accept", "accept a friend request", cmd_accept)->add_option("ID", a.id)->required();
  sub(&app, "decline", "decline a friend request", cmd_decline)->add_option("ID", a.id)->required();
  sub(&app, "friends", "list friends", cmd_friends);
  sub(&app, "chats", "list chats, newest activity first, with unread counts", cmd_chats);
  auto* verify =
      sub(&app, "verify", "show or confirm the safety number with a friend (v2)", cmd_verify);
  verify->add_option("FRIEND", a.id)->required();
  auto* qr_out = verify->add_option("--qr-out", a.qr_out, "also write the number as a QR PNG");
  auto* confirm = verify->add_option("--confirm", a.confirm,
                                     "mark verified: the 60 digits the friend's screen shows");
  auto* scan = verify->add_option("--scan", a.scan,
                                  "mark verified: a PNG of the QR code on the friend's screen");
  confirm->excludes(scan);
  qr_out->excludes(confirm)->excludes(scan);
  auto* send = sub(&app, "send", "send a text message (TEXT '-' reads stdin)", cmd_send);
  send->add_option("FRIEND", a.id)->required();
  send->add_option("TEXT", a.text)->required();
  auto* send_image =
      sub(&app, "send-image", "send a photo (JPEG, PNG, WebP, GIF, HEIC)", cmd_send_image);
  send_image->add_option("FRIEND", a.id)->required();
  send_image->add_option("FILE", a.file)->required();
  auto* react = sub(&app, "react", "react to a message", cmd_react);
  react->add_option("FRIEND", a.id)->required();
  react->add_option("MESSAGE_ID", a.message_id)->required();
  react->add_option("EMOJI", a.reaction, "EMO_HEART, heart, ❤, ... or none")->required();
  sub(&app, "sync", "fetch everything new once and print it", cmd_sync);
  sub(&app, "listen", "wait for new traffic and print it as it arrives", cmd_listen);
  sub(&app, "pending", "list sends the relay has not taken yet (the outbox)", cmd_pending);
  sub(&app, "cancel", "drop a pending send (the relay may already have it)", cmd_cancel)
      ->add_option("MESSAGE_ID", a.message_id)
      ->required();
  auto* history = sub(&app, "history", "show a chat's messages", cmd_history);
  history->add_option("CHAT", a.id, "friend or group")->required();
  history->add_option("--limit", a.limit, "only the newest N (N >= 1)")->check(CLI::PositiveNumber);
  history->add_option("--save-images", a.save_images,
                      "write images to DIR/<messageId>.jpg or .png");
  sub(&app, "groups", "list groups", cmd_groups);
  auto* passwd = sub(&app, "passwd", "change the store password", cmd_passwd);
  passwd->add_option(
      "--new-password-file", a.new_password_file,
      "read the new password from this file (else $SECCHATS_NEW_PASSWORD or a prompt)");

  // Global options may also follow the command (`secchats friends --json`).
  for (auto* s : app.get_subcommands({}))
    s->fallthrough();
  CLI::App* group = app.add_subcommand("group", "group chats");
  group->require_subcommand(1);
  sub(group, "create", "create a group", cmd_group_create)->add_option("NAME", a.name)->required();
  auto* ginvite = sub(group, "invite", "invite a friend", cmd_group_invite);
  ginvite->add_option("GROUP", a.group)->required();
  ginvite->add_option("FRIEND", a.id)->required();
  auto* gremove = sub(group, "remove", "remove a member (v2: rekeys the group)", cmd_group_remove);
  gremove->add_option("GROUP", a.group)->required();
  gremove->add_option("MEMBER", a.id, "member id or friend nickname")->required();
  sub(group, "invites", "list group invites", cmd_group_invites);
  sub(group, "decline", "forget a group invite without joining", cmd_group_decline)
      ->add_option("GROUP", a.group)
      ->required();
  sub(group, "join", "join a group you were invited to", cmd_group_join)
      ->add_option("GROUP", a.group)
      ->required();
  auto* gsend = sub(group, "send", "send a text to a group", cmd_group_send);
  gsend->add_option("GROUP", a.group)->required();
  gsend->add_option("TEXT", a.text)->required();
  auto* gsend_image = sub(group, "send-image", "send a photo to a group", cmd_group_send_image);
  gsend_image->add_option("GROUP", a.group)->required();
  gsend_image->add_option("FILE", a.file)->required();
  auto* greact = sub(group, "react", "react to a group message", cmd_group_react);
  greact->add_option("GROUP", a.group)->required();
  greact->add_option("MESSAGE_ID", a.message_id)->required();
  greact->add_option("EMOJI", a.reaction)->required();
  auto* qr_create = sub(group, "qr-create", "create an in-person group and show its QR code",
                        cmd_group_qr_create);
  qr_create->add_option("NAME", a.name)->required();
  qr_create->add_option("--png", a.png, "where to write the PNG");
  qr_create->add_flag("--show-payload", a.show_payload, "also print the payload text (secret!)");
  auto* qr_join =
      sub(group, "qr-join", "join an in-person group from its QR code", cmd_group_qr_join);
  qr_join->add_option("--png", a.png, "a photo/screenshot of the code (PNG)");
  qr_join->add_option("--payload", a.payload, "the payload text ('-' reads stdin)");

  group->fallthrough();
  for (auto* s : group->get_subcommands({}))
    s->fallthrough();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    Output(a.json).error(e.what(), kExitUsage);
    return kExitUsage;
  }

  Command command(a);
  try {
    for (const auto& [subcommand, fn] : handlers) {
      if (subcommand->parsed()) {
        fn(command);
        // Output that did not reach stdout is no success (docs/cli.md).
        if (!command.out().written()) {
          command.out().error("cannot write output: " + command.out().write_error(), kExitFailure);
          return kExitFailure;
        }
        return kExitOk;
      }
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
