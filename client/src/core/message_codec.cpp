#include "message_codec.hpp"

#include <unicode/uchar.h>

#include <algorithm>
#include <array>
#include <optional>

#include "file_descriptor.hpp"
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

namespace {

// One UTF-8 sequence at the start of `text`: its length and code point, or length 0 if it is
// not a valid sequence (truncated, overlong, a surrogate, above U+10FFFF).
struct Utf8Char {
  std::size_t len = 0;
  std::uint32_t cp = 0;
};

Utf8Char next_utf8(std::string_view text) {
  const auto c = static_cast<unsigned char>(text[0]);
  const std::size_t len = c < 0x80           ? 1
                          : (c >> 5) == 0x6  ? 2
                          : (c >> 4) == 0xE  ? 3
                          : (c >> 3) == 0x1E ? 4
                                             : 0;
  if (len == 0 || len > text.size()) return {};
  std::uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
  for (std::size_t k = 1; k < len; ++k) {
    const auto d = static_cast<unsigned char>(text[k]);
    if ((d & 0xC0) != 0x80) return {};
    cp = (cp << 6) | (d & 0x3F);
  }
  if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
      (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return {};
  }
  return {len, cp};
}

// A code point that shows something: not white space, not a control or format character,
// not default-ignorable (variation selectors, fillers) and assigned.
bool visible(std::uint32_t cp) {
  const auto c = static_cast<UChar32>(cp);
  if (u_isUWhiteSpace(c) || u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT)) {
    return false;
  }
  switch (u_charType(c)) {
    case U_CONTROL_CHAR:
    case U_FORMAT_CHAR:
    case U_UNASSIGNED:
    case U_SURROGATE:
    case U_LINE_SEPARATOR:
    case U_PARAGRAPH_SEPARATOR:
    case U_SPACE_SEPARATOR:
      return false;
    default:
      return true;
  }
}

}  // namespace

std::string display_text(std::string_view text, std::size_t max_bytes) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(std::min(text.size(), max_bytes));
  std::size_t i = 0;
  while (i < text.size()) {
    const Utf8Char ch = next_utf8(text.substr(i));
    // One invalid byte at a time: each becomes one U+FFFD and decoding resumes after it.
    const std::string_view piece = ch.len > 0 ? text.substr(i, ch.len) : kReplacement;
    if (out.size() + piece.size() > max_bytes) break;
    out.append(piece);
    i += ch.len > 0 ? ch.len : 1;
  }
  return out;
}

bool is_valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const Utf8Char ch = next_utf8(text.substr(i));
    if (ch.len == 0) return false;
    i += ch.len;
  }
  return true;
}

bool has_visible_character(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const Utf8Char ch = next_utf8(text.substr(i));
    if (ch.len > 0 && visible(ch.cp)) return true;
    i += ch.len > 0 ? ch.len : 1;
  }
  return false;
}

Status check_outgoing_text(std::string_view what, std::string_view text) {
  if (text.empty()) return Error(ErrorCode::kInvalidArgument, std::string(what) + " is empty");
  if (!is_valid_utf8(text)) {
    return Error(ErrorCode::kInvalidArgument, std::string(what) + " is not valid UTF-8");
  }
  if (!has_visible_character(text)) {
    return Error(
        ErrorCode::kInvalidArgument,
        std::string(what) + " has no visible character (only spaces or control characters)");
  }
  return ok_status();
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
  // As the reference UI writes it (COMPAT.md §5, vectors/reference-ui-forms.json): the "text"
  // of an image is the base64 of its bytes, and that text is base64'd like every content.
  m.content = base64_encode(base64_encode(png));
  return m;
}

protocol::Message make_reaction(const Sender& from, std::string_view to_id, std::int64_t message_id,
                                std::int64_t now_ms, std::int64_t target_message_id,
                                std::string_view new_reaction, std::string_view old_reaction) {
  auto m = base(from, to_id, message_id, now_ms, "EMOJI");
  m.reply_to_message_id = target_message_id;
  // The enum names, as the reference UI writes and reads them (COMPAT.md §5).
  m.new_emoji = new_reaction.empty() ? std::string(kNoReaction) : std::string(new_reaction);
  m.old_emoji = old_reaction.empty() ? std::string(kNoReaction) : std::string(old_reaction);
  return m;
}

protocol::Message make_update(const Sender& from, std::string_view to_id, std::int64_t message_id,
                              std::int64_t now_ms, const std::optional<std::string>& content) {
  auto m = base(from, to_id, message_id, now_ms, "UPDATE");
  if (content) m.content = base64_encode(*content);
  return m;
}

protocol::Message make_file(const Sender& from, std::string_view to_id, std::int64_t message_id,
                            std::int64_t now_ms, std::string_view descriptor) {
  auto m = base(from, to_id, message_id, now_ms, "FILE");
  m.content = base64_encode(descriptor);
  return m;
}

Result<std::string> file_descriptor_text(const protocol::Message& m) {
  auto text = base64_decode_to_string(m.content.value_or(""));
  if (!text) return Error(ErrorCode::kInvalidArgument, "message content is not base64");
  return std::move(*text);
}

Result<std::vector<std::uint8_t>> decode_image_text(std::string_view text) {
  static constexpr std::array<std::uint8_t, 8> kPngSignature = {0x89, 'P',  'N',  'G',
                                                                '\r', '\n', 0x1a, '\n'};
  static constexpr std::array<std::uint8_t, 3> kJpegSignature = {0xFF, 0xD8, 0xFF};
  auto starts = [](const std::vector<std::uint8_t>& b, const auto& sig) {
    return b.size() >= sig.size() && std::equal(sig.begin(), sig.end(), b.begin());
  };
  auto is_image = [&starts](const std::vector<std::uint8_t>& b) {
    return starts(b, kPngSignature) || starts(b, kJpegSignature);
  };
  // Every form we accept, in the order tried: the reference UI's (the text is the base64 of
  // the bytes), the bytes themselves (content was base64 once), and the reference library's
  // vector form (each byte a Latin-1 character, UTF-8 encoded). The first that yields a PNG
  // or JPEG signature wins (the reference UI sends either). The forms cannot be confused: a
  // raw PNG starts with byte 0x89 and a raw JPEG with 0xFF, the Latin-1 forms with C2 89 and
  // C3 BF, none of which is in the base64 alphabet, and base64 text never starts with them.
  std::optional<std::vector<std::uint8_t>> ui_form = base64_decode(text);
  if (ui_form && is_image(*ui_form)) return std::move(*ui_form);
  std::vector<std::uint8_t> raw(text.begin(), text.end());
  if (is_image(raw)) return raw;
  std::optional<std::vector<std::uint8_t>> latin1 = utf8_to_latin1(text);
  if (latin1 && is_image(*latin1)) return std::move(*latin1);
  // Not a PNG or JPEG in any form: kept as the sender's UI would read it, for the caller to judge.
  if (ui_form && !ui_form->empty()) return std::move(*ui_form);
  if (latin1) return std::move(*latin1);
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
      // Everything the friend typed, controls included; only invalid UTF-8 is replaced.
      info.text = display_text(*text);
    } else {
      SC_ASSIGN_OR_RETURN(info.image, decode_image_text(*text));
    }
  } else if (info.type == "FILE") {
    SC_ASSIGN_OR_RETURN(std::string descriptor, file_descriptor_text(m));
    auto decoded = decode_file_descriptor(descriptor);
    secure_wipe(descriptor);
    if (!decoded.ok()) return std::move(decoded).error();
    info.attachment = std::move(decoded->info);
  } else if (info.type == "EMOJI") {
    auto name = normalize_reaction(m.new_emoji.value_or(""));
    // A name (what the reference UI sends) or an emoji character (older clients); shown as
    // the emoji (reaction_symbol).
    info.emoji = name.ok() ? (*name == kNoReaction ? std::string() : *name)
                           : display_text(m.new_emoji.value_or(""), 64);
  } else {
    // Unknown types (UPDATE, future ones) are kept as they came, undecoded.
    info.text = display_text(content);
  }
  return info;
}

}  // namespace core
}  // namespace secchats
