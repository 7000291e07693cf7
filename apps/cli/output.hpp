// Everything the CLI prints goes through Output: human text, or with --json exactly one JSON
// object per line (stdout), flushed per line so `listen` can be piped.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "secchats/client.hpp"

namespace secchats::cli {

class Output {
 public:
  // Where lines go instead of stdout (the daemon collects them for a JSON-RPC result): gets
  // the line without its newline (the JSON object, or the human text); false if it could not
  // take it, which counts as a write error.
  using LineSink = std::function<bool(std::string_view line)>;

  explicit Output(bool json, LineSink sink = {}) : json_(json), sink_(std::move(sink)) {}
  bool json() const { return json_; }

  // Prints `human` in text mode, or the JSON object `json_line` (already serialised), and
  // flushes. A write error (a closed pipe, a full disk) is remembered: nothing more is
  // written, and written() turns false.
  void line(std::string_view human, std::string_view json_line) const;
  // Every line so far reached stdout; else write_error() says why (strerror).
  bool written() const { return write_error_.empty(); }
  const std::string& write_error() const { return write_error_; }
  void event(const Event& e) const;
  void message(const MessageInfo& m) const;
  // The relay took a message this command sent: "sent #ID", JSON {"event":"sent", chat,
  // chatKind, messageId, type} (docs/cli.md).
  void sent(const MessageInfo& m) const;
  // An Event::kSent: "sent #ID (queued earlier) to <chat>", the same JSON as sent() plus
  // "fromOutbox":true (docs/cli.md).
  void sent_from_outbox(const Event& e) const;
  // One line on stderr: "secchats: <text>" or {"error":...,"code":...}.
  void error(std::string_view text, int exit_code) const;

 private:
  bool json_;
  LineSink sink_;
  mutable std::string write_error_;
};

// Builds a JSON object line from key/value pairs without exposing the JSON library.
class JsonLine {
 public:
  JsonLine();
  ~JsonLine();
  JsonLine(JsonLine&&) noexcept;
  JsonLine& operator=(JsonLine&&) noexcept;
  JsonLine& add(std::string_view key, std::string_view value);
  JsonLine& add(std::string_view key, const char* value) {
    return add(key, std::string_view(value));
  }
  JsonLine& add(std::string_view key, std::int64_t value);
  // A 64-bit id (messageId, replyTo) as a JSON string of its decimal digits: jq 1.6,
  // JavaScript and awk read JSON numbers as doubles and would round ids above 2^53.
  JsonLine& add_id(std::string_view key, std::int64_t id);
  JsonLine& add(std::string_view key, bool value);
  // A nested object (its members as built).
  JsonLine& add(std::string_view key, const JsonLine& object);
  std::string str() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// An attachment in human output: `photo "x.jpg", image/jpeg, 2.3 MiB, 4032×3024` — kind,
// file name and media type (both peer-controlled, so as render_name shows names), size in
// binary units, then pixels and duration when known.
std::string attachment_text(const AttachmentInfo& a);
// The JSON "attachment" object of history, sync, listen and sent (docs/cli.md).
JsonLine attachment_json(const AttachmentInfo& a);

std::string describe_short_id(std::string_view id);
std::string_view chat_kind_name(ChatKind kind);
std::string_view origin_name(GroupOrigin origin);

}  // namespace secchats::cli
