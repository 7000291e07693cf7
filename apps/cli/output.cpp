#include "output.hpp"

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <iostream>

namespace secchats::cli {

struct JsonLine::Impl {
  boost::json::object object;
};

JsonLine::JsonLine() : impl_(std::make_unique<Impl>()) {}
JsonLine::~JsonLine() = default;
JsonLine& JsonLine::add(std::string_view key, std::string_view value) {
  impl_->object[key] = value;
  return *this;
}
JsonLine& JsonLine::add(std::string_view key, std::int64_t value) {
  impl_->object[key] = value;
  return *this;
}
JsonLine& JsonLine::add(std::string_view key, bool value) {
  impl_->object[key] = value;
  return *this;
}
std::string JsonLine::str() const {
  return boost::json::serialize(impl_->object);
}

std::string describe_short_id(std::string_view id) {
  return std::string(id.substr(0, 8)) + (id.size() > 8 ? "…" : "");
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
  if (!m.from_name.empty()) return m.from_name;
  return describe_short_id(m.from_user_id);
}

}  // namespace

void Output::line(std::string_view human, std::string_view json_line) const {
  if (!write_error_.empty()) return;
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
      .add("messageId", m.message_id)
      .add("type", m.type)
      .add("sentAt", m.sender_timestamp)
      .add("serverTimestamp", m.server_timestamp)
      .add("outgoing", m.outgoing);
  std::string body;
  if (m.type == "TEXT") {
    j.add("text", m.text);
    body = m.text;
  } else if (m.type == "IMG") {
    j.add("imageBytes", static_cast<std::int64_t>(m.image.size()));
    body = "[image, " + std::to_string(m.image.size()) + " bytes]";
  } else if (m.type == "EMOJI") {
    j.add("replyTo", m.reply_to_message_id).add("emoji", m.emoji);
    body = m.emoji.empty() ? "removed a reaction from #" + std::to_string(m.reply_to_message_id)
                           : "reacted " + reaction_symbol(m.emoji) + " (" + m.emoji + ") to #" +
                                 std::to_string(m.reply_to_message_id);
  } else {
    body = "[" + m.type + " message]";
  }
  // Built by appends: GCC 12 at -O3 reports a false -Wrestrict on "[" + std::string.
  std::string human = "[";
  human += clock_time(m.sender_timestamp);
  human += "] ";
  if (m.chat_kind == ChatKind::kGroup) human += "(group " + describe_short_id(m.chat_id) + ") ";
  human += who(m) + ": " + body + "  #" + std::to_string(m.message_id);
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
      line("invited to group \"" + e.invite.name + "\" (" + e.invite.group_id + ") by " +
               (e.invite.from_nickname.empty() ? e.invite.from_user_id : e.invite.from_nickname),
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
      line("warning: " + e.text, JsonLine().add("event", "warning").add("text", e.text).str());
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
