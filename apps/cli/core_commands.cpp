// The account, friend, message and sync commands of secchats (docs/cli.md): each handler gets
// the parsed Args through Command, unlocks through Command::client() (or uses the daemon's
// borrowed Client) and prints through Output, so direct mode and the daemon share them.
#include "core_commands.hpp"

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

#include "attachment_commands.hpp"
#include "command.hpp"
#include "exit_codes.hpp"
#include "group_commands.hpp"
#include "input_files.hpp"
#include "output.hpp"
#include "password_source.hpp"
#include "secchats/client.hpp"
#include "secchats/qr/qr.hpp"
#include "terminal_text.hpp"

namespace secchats::cli {
namespace {

namespace fs = std::filesystem;

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
  c.out().sent(c.value_or_fail(client.send_text(f.user_id, text_argument(c, c.args().text))));
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
    std::string human = "#" + std::to_string(m.message_id) + "  " + what + "  " +
                        delivery_text(m.delivery, p.attempts, p.last_error);
    if (m.attachment) {
      j.add("attachment", attachment_json(*m.attachment));
      human += "  [" + attachment_text(*m.attachment) + "]";
      if (m.attachment->upload_state == "uploading") {
        human += " upload unfinished: run the same send-file again to resume";
      }
    }
    c.out().line(human, j.str());
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

void add_core_commands(CLI::App& app, Args& a, const AddSubcommand& sub) {
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
  // Said plainly: CLI11's PositiveNumber names its range as a 300-digit double and says 0 is
  // in it.
  const CLI::Validator at_least_one(
      [](std::string& v) -> std::string {
        std::size_t n = 0;
        const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        if (ec == std::errc() && end == v.data() + v.size() && n >= 1) return {};
        return "N must be a whole number of at least 1";
      },
      "N >= 1", "AT_LEAST_ONE");
  history->add_option("--limit", a.limit, "only the newest N (N >= 1)")->check(at_least_one);
  history->add_option("--save-images", a.save_images,
                      "write images to DIR/<messageId>.jpg or .png");
  auto* passwd = sub(&app, "passwd", "change the store password", cmd_passwd);
  passwd->add_option(
      "--new-password-file", a.new_password_file,
      "read the new password from this file (else $SECCHATS_NEW_PASSWORD or a prompt)");
}

}  // namespace secchats::cli
