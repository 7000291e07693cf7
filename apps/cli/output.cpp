#include "output.hpp"

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <iostream>

#include "progress_bar.hpp"
#include "terminal_text.hpp"

namespace secchats::cli {

struct JsonLine::Impl {
  boost::json::object object;
};

JsonLine::JsonLine() : impl_(std::make_unique<Impl>()) {}
JsonLine::~JsonLine() = default;
JsonLine::JsonLine(JsonLine&&) noexcept = default;
JsonLine& JsonLine::operator=(JsonLine&&) noexcept = default;
JsonLine& JsonLine::add(std::string_view key, std::string_view value) {
  impl_->object[key] = valid_utf8(value);
  return *this;
}
JsonLine& JsonLine::add(std::string_view key, std::int64_t value) {
  impl_->object[key] = value;
  return *this;
}
JsonLine& JsonLine::add_id(std::string_view key, std::int64_t id) {
  impl_->object[key] = std::to_string(id);
  return *this;
}
JsonLine& JsonLine::add(std::string_view key, bool value) {
  impl_->object[key] = value;
  return *this;
}
JsonLine& JsonLine::add(std::string_view key, const JsonLine& object) {
  impl_->object[key] = object.impl_->object;
  return *this;
}
std::string JsonLine::str() const {
  return boost::json::serialize(impl_->object);
}

std::string attachment_text(const AttachmentInfo& a) {
  std::string text = a.kind == "image"   ? "photo"
                     : a.kind == "voice" ? "voice note"
                     : a.kind == "video" ? "video"
                     : a.kind == "file"  ? "file"
                                         : escape_inline(a.kind);
  text += " " + render_field(a.file_name);
  text += ", " + render_field(a.media_type);
  text += ", " + human_size(a.size);
  if (a.width > 0 && a.height > 0) {
    text += ", " + std::to_string(a.width) + "×" + std::to_string(a.height);
  }
  if (a.duration_ms > 0) text += ", " + human_duration((a.duration_ms + 500) / 1000);
  return text;
}

JsonLine attachment_json(const AttachmentInfo& a) {
  JsonLine j;
  j.add("kind", a.kind)
      .add("mediaType", a.media_type)
      .add("fileName", a.file_name)
      .add("size", static_cast<std::int64_t>(a.size))
      .add("width", std::int64_t{a.width})
      .add("height", std::int64_t{a.height})
      .add("durationMs", a.duration_ms)
      .add("thumbnailBytes", static_cast<std::int64_t>(a.thumbnail.size()))
      .add("savedPath", a.saved_path)
      .add("uploadState", a.upload_state);
  return j;
}

std::string describe_short_id(std::string_view id) {
  return short_id(id) + (id.size() > 8 ? "…" : "");
}

std::string_view chat_kind_name(ChatKind kind) {
  return kind == ChatKind::kGroup ? "group" : "friend";
}

std::string_view origin_name(GroupOrigin origin) {
  switch (origin) {
    case GroupOrigin::kCreated:
      return "created";
    case GroupOrigin::kInvited:
      return "invited";
    case GroupOrigin::kInPerson:
      return "in-person";
  }
  return "created";
}

namespace {

std::string clock_time(std::int64_t ms) {
  if (ms <= 0) return "--:--";
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%H:%M", &tm);
  return buf;
}

std::string who(const MessageInfo& m) {
  if (m.outgoing) return "you";
  return render_person(m.from_name, m.from_user_id);
}

}  // namespace

void Output::line(std::string_view human, std::string_view json_line) const {
  if (!write_error_.empty()) return;
  if (sink_) {
    if (!sink_(json_ ? json_line : human)) write_error_ = "the reader is gone";
    return;
  }
  errno = 0;
  if (json_) {
    std::cout << json_line << '\n';
  } else {
    std::cout << human << '\n';
  }
  std::cout.flush();
  if (!std::cout) {
    const int err = errno;
    write_error_ = err != 0 ? std::strerror(err) : "output stream failed";
  }
}

void Output::message(const MessageInfo& m) const {
  JsonLine j;
  j.add("event", "message")
      .add("chat", m.chat_id)
      .add("chatKind", chat_kind_name(m.chat_kind))
      .add("fromUserId", m.from_user_id)
      .add("fromName", m.from_name)
      .add_id("messageId", m.message_id)
      .add("type", m.type)
      .add("sentAt", m.sender_timestamp)
      .add("serverTimestamp", m.server_timestamp)
      .add("outgoing", m.outgoing);
  std::string body;
  if (m.type == "TEXT") {
    j.add("text", m.text);
    body = render_message_text(m.text);
  } else if (m.type == "IMG") {
    j.add("imageBytes", static_cast<std::int64_t>(m.image.size()));
    body = "[image, " + std::to_string(m.image.size()) + " bytes]";
  } else if (m.type == "EMOJI") {
    j.add_id("replyTo", m.reply_to_message_id).add("emoji", m.emoji);
    if (m.emoji.empty()) {
      body = "removed a reaction from #";
    } else {
      body = "reacted ";
      body += escape_inline(reaction_symbol(m.emoji));
      body += " (";
      body += escape_inline(m.emoji);
      body += ") to #";
    }
    body += std::to_string(m.reply_to_message_id);
  } else if (m.type == "FILE" && m.attachment) {
    const AttachmentInfo& a = *m.attachment;
    j.add("attachment", attachment_json(a));
    body = "[" + attachment_text(a) + "]";
    if (!a.saved_path.empty()) body += " saved to " + escape_inline(a.saved_path);
    if (a.upload_state == "uploading") {
      body += " (upload unfinished: send the same file again to resume)";
    }
  } else {
    body = "[";
    body += escape_inline(m.type);
    body += " message]";
  }
  // Built by appends: GCC 12 at -O3 reports a false -Wrestrict on "[" + std::string.
  std::string human = "[";
  human += clock_time(m.sender_timestamp);
  human += "] ";
  if (m.chat_kind == ChatKind::kGroup) {
    human += "(group ";
    human += describe_short_id(m.chat_id);
    human += ") ";
  }
  human += who(m);
  human += ": ";
  human += body;
  human += "  #";
  human += std::to_string(m.message_id);
  line(human, j.str());
}

namespace {

// The JSON of a `sent` line, for a send and for one the outbox delivered later alike.
JsonLine sent_json(const MessageInfo& m) {
  JsonLine j;
  j.add("event", "sent")
      .add("chat", m.chat_id)
      .add("chatKind", chat_kind_name(m.chat_kind))
      .add_id("messageId", m.message_id)
      .add("type", m.type);
  if (m.attachment) j.add("attachment", attachment_json(*m.attachment));
  return j;
}

}  // namespace

void Output::sent(const MessageInfo& m) const {
  std::string human = "sent #" + std::to_string(m.message_id);
  if (m.attachment) human += " (" + attachment_text(*m.attachment) + ")";
  line(human, sent_json(m).str());
}

void Output::sent_from_outbox(const Event& e) const {
  // Like the `sent #ID` line of a send, naming the chat since it was queued by an earlier
  // command.
  const MessageInfo& m = e.message;
  JsonLine j = sent_json(m);
  j.add("fromOutbox", true);
  const std::string group = "group " + render_person(e.invite.name, e.invite.group_id);
  std::string human;
  if (m.type == "INVITE") {
    j.add("invitee", e.user_id);
    human = "sent the invite of " + render_person(e.text, e.user_id) + " to " + group +
            " (queued earlier)";
  } else {
    human = "sent #" + std::to_string(m.message_id) + " (queued earlier) to " +
            (m.chat_kind == ChatKind::kGroup ? group : render_person(e.text, e.user_id));
  }
  line(human, j.str());
}

void Output::event(const Event& e) const {
  switch (e.kind) {
    case Event::Kind::kFriendRequest:
      line("friend request from " + e.user_id + " (secchats accept " + e.user_id + ")",
           JsonLine().add("event", "friendRequest").add("userId", e.user_id).str());
      break;
    case Event::Kind::kFriendAccepted:
      line(e.user_id + " accepted your friend request",
           JsonLine().add("event", "friendAccepted").add("userId", e.user_id).str());
      break;
    case Event::Kind::kGroupInvite:
      line("invited to group " + render_name(e.invite.name) + " (" +
               escape_inline(e.invite.group_id) + ") by " +
               render_person(e.invite.from_nickname, e.invite.from_user_id),
           JsonLine()
               .add("event", "groupInvite")
               .add("groupId", e.invite.group_id)
               .add("name", e.invite.name)
               .add("fromUserId", e.invite.from_user_id)
               .add("fromName", e.invite.from_nickname)
               .str());
      break;
    case Event::Kind::kMessage:
      message(e.message);
      break;
    case Event::Kind::kWarning:
      line("warning: " + escape_inline(e.text),
           JsonLine().add("event", "warning").add("text", e.text).str());
      break;
    case Event::Kind::kSent:
      sent_from_outbox(e);
      break;
  }
}

void Output::error(std::string_view text, int exit_code) const {
  if (json_) {
    std::cerr << JsonLine().add("error", text).add("exitCode", std::int64_t{exit_code}).str()
              << '\n';
  } else {
    std::cerr << "secchats: " << text << '\n';
  }
}

}  // namespace secchats::cli
