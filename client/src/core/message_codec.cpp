#include "message_codec.hpp"

#include <array>
#include <optional>

#include "secchats/common/encoding.hpp"

namespace secchats {
namespace {

struct Reaction {
  std::string_view name;
  std::string_view short_name;
  std::string_view symbol;  // what travels in newEmoji/oldEmoji
};

// EMO_HEART → "❤" is fixed by the reference vector; the other characters follow the names.
constexpr std::array<Reaction, 8> kReactions{{
    {"EMO_SMILE", "smile", "\xF0\x9F\x98\x8A"},            // 😊
    {"EMO_HEART", "heart", "\xE2\x9D\xA4"},                // ❤
    {"EMO_THUMB_UP", "thumb_up", "\xF0\x9F\x91\x8D"},      // 👍
    {"EMO_GRIN_STARS", "grin_stars", "\xF0\x9F\xA4\xA9"},  // 🤩
    {"EMO_THUMB_DOWN", "thumb_down", "\xF0\x9F\x91\x8E"},  // 👎
    {"EMO_ANGRY", "angry", "\xF0\x9F\x98\xA0"},            // 😠
    {"EMO_POOP", "poop", "\xF0\x9F\x92\xA9"},              // 💩
    {"EMO_SMILE_PLUS", "none", ""},
}};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Strips a trailing emoji variation selector (U+FE0F), which keyboards add to ❤.
std::string_view without_variation_selector(std::string_view s) {
  constexpr std::string_view kVs16 = "\xEF\xB8\x8F";
  if (s.size() >= kVs16.size() && s.substr(s.size() - kVs16.size()) == kVs16) {
    s.remove_suffix(kVs16.size());
  }
  return s;
}

}  // namespace

const std::vector<std::string>& reaction_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& r : kReactions)
      v.emplace_back(r.name);
    return v;
  }();
  return names;
}

Result<std::string> normalize_reaction(std::string_view input) {
  const std::string_view bare = without_variation_selector(input);
  for (const auto& r : kReactions) {
    if (iequals(input, r.name) || iequals(input, r.short_name) ||
        (!r.symbol.empty() && bare == r.symbol)) {
      return std::string(r.name);
    }
  }
  if (input.empty()) return std::string("EMO_SMILE_PLUS");
  std::string names;
  for (const auto& r : kReactions) {
    if (!names.empty()) names += ", ";
    names += r.short_name;
  }
  return Error(ErrorCode::kInvalidArgument, "unknown reaction; use one of: " + names);
}

std::string reaction_symbol(std::string_view name) {
  for (const auto& r : kReactions) {
    if (r.name == name) return std::string(r.symbol);
  }
  return std::string(name);
}

namespace core {
namespace {

protocol::Message base(const Sender& from, std::string_view to_id, std::int64_t message_id,
                       std::int64_t now_ms, std::string_view type) {
  protocol::Message m;
  m.from_user_id = from.user_id;
  m.from_name = from.nickname;
  m.to_id = std::string(to_id);
  m.message_id = message_id;
  m.type = std::string(type);
  m.timestamp = now_ms;
  return m;
}

// Reads UTF-8 text whose code points are all below U+0100 as one byte per code point (how
// the reference vector carries image bytes); fails on anything else.
std::optional<std::vector<std::uint8_t>> utf8_to_latin1(std::string_view s) {
  std::vector<std::uint8_t> out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<std::uint8_t>(s[i]);
    if (c < 0x80) {
      out.push_back(c);
    } else if ((c == 0xC2 || c == 0xC3) && i + 1 < s.size()) {
      const auto d = static_cast<std::uint8_t>(s[i + 1]);
      if ((d & 0xC0) != 0x80) return std::nullopt;
      out.push_back(static_cast<std::uint8_t>(((c & 0x03) << 6) | (d & 0x3F)));
      ++i;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

}  // namespace

std::string display_text(std::string_view text, std::size_t max_bytes, bool multiline) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(std::min(text.size(), max_bytes));
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t len = c < 0x80           ? 1
                      : (c >> 5) == 0x6  ? 2
                      : (c >> 4) == 0xE  ? 3
                      : (c >> 3) == 0x1E ? 4
                                         : 0;
    std::uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    bool valid = len > 0 && i + len <= text.size();
    for (std::size_t k = 1; valid && k < len; ++k) {
      const auto d = static_cast<unsigned char>(text[i + k]);
      valid = (d & 0xC0) == 0x80;
      cp = (cp << 6) | (d & 0x3F);
    }
    // Overlong forms, surrogates and out-of-range code points are invalid too.
    if (valid &&
        ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
         (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))) {
      valid = false;
    }
    std::string_view piece = valid ? text.substr(i, len) : kReplacement;
    i += valid ? len : 1;
    const bool control = cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0);
    if (valid && control && !(multiline && (cp == '\n' || cp == '\t'))) continue;
    if (out.size() + piece.size() > max_bytes) break;
    out.append(piece);
  }
  return out;
}

protocol::Message make_text(const Sender& from, std::string_view to_id, std::int64_t message_id,
                            std::int64_t now_ms, std::string_view text) {
  auto m = base(from, to_id, message_id, now_ms, "TEXT");
  m.content = base64_encode(text);
  return m;
}

protocol::Message make_image(const Sender& from, std::string_view to_id, std::int64_t message_id,
                             std::int64_t now_ms, const std::vector<std::uint8_t>& png) {
  auto m = base(from, to_id, message_id, now_ms, "IMG");
  // As the reference client writes it (vector aes256gcm_messages[2]): each byte becomes the
  // character of the same code point, the text is UTF-8 encoded, then base64'd.
  std::string text;
  text.reserve(png.size() * 2);
  for (std::uint8_t byte : png) {
    if (byte < 0x80) {
      text.push_back(static_cast<char>(byte));
    } else {
      text.push_back(static_cast<char>(0xC0 | (byte >> 6)));
      text.push_back(static_cast<char>(0x80 | (byte & 0x3F)));
    }
  }
  m.content = base64_encode(text);
  return m;
}

protocol::Message make_reaction(const Sender& from, std::string_view to_id, std::int64_t message_id,
                                std::int64_t now_ms, std::int64_t target_message_id,
                                std::string_view new_reaction, std::string_view old_reaction) {
  auto m = base(from, to_id, message_id, now_ms, "EMOJI");
  m.reply_to_message_id = target_message_id;
  m.new_emoji = reaction_symbol(new_reaction);
  m.old_emoji = reaction_symbol(old_reaction);
  return m;
}

protocol::Message make_update(const Sender& from, std::string_view to_id, std::int64_t message_id,
                              std::int64_t now_ms, const std::optional<std::string>& content) {
  auto m = base(from, to_id, message_id, now_ms, "UPDATE");
  if (content) m.content = base64_encode(*content);
  return m;
}

Result<std::vector<std::uint8_t>> decode_image_text(std::string_view text) {
  // A PNG in byte-text form starts with U+0089, which is not in the base64 alphabet, so
  // trying base64 first cannot misread it.
  if (auto bytes = base64_decode(text); bytes && !bytes->empty()) return std::move(*bytes);
  if (auto bytes = utf8_to_latin1(text)) return std::move(*bytes);
  return Error(ErrorCode::kInvalidArgument, "image content is neither base64 nor byte text");
}

Result<MessageInfo> interpret(const protocol::Message& m, ChatKind kind, std::string_view chat_id,
                              std::string_view relay_sender_id, std::int64_t server_timestamp) {
  MessageInfo info;
  info.chat_id = std::string(chat_id);
  info.chat_kind = kind;
  info.from_user_id = std::string(relay_sender_id);
  info.from_name = display_text(m.from_name.value_or(""), 64);
  info.message_id = m.message_id;
  info.type = display_text(m.type.value_or(""), 32);
  info.sender_timestamp = m.timestamp;
  info.server_timestamp = server_timestamp;
  info.reply_to_message_id = m.reply_to_message_id;

  const std::string content = m.content.value_or("");
  if (info.type == "TEXT" || info.type == "IMG") {
    auto text = base64_decode_to_string(content);
    if (!text) return Error(ErrorCode::kInvalidArgument, "message content is not base64");
    if (info.type == "TEXT") {
      info.text = display_text(*text, text->size(), /*multiline=*/true);
    } else {
      SC_ASSIGN_OR_RETURN(info.image, decode_image_text(*text));
    }
  } else if (info.type == "EMOJI") {
    auto name = normalize_reaction(m.new_emoji.value_or(""));
    info.emoji =
        name.ok() ? (*name == "EMO_SMILE_PLUS" ? std::string() : *name) : m.new_emoji.value_or("");
  } else {
    // Unknown types (UPDATE, future ones) are kept as they came, undecoded.
    info.text = display_text(content, content.size());
  }
  return info;
}

}  // namespace core
}  // namespace secchats
