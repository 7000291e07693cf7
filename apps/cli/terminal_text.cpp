#include "terminal_text.hpp"

#include <cstdint>
#include <optional>

namespace secchats::cli {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// One decoded UTF-8 sequence: its code point and length, or nothing if the bytes at `s[i]` do
// not start a well-formed sequence (overlong forms, surrogates and values past U+10FFFF are
// not well-formed: RFC 3629).
struct CodePoint {
  char32_t value;
  std::size_t length;
};

std::optional<CodePoint> decode(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<std::uint8_t>(s[k]); };
  const std::uint8_t b0 = byte(i);
  if (b0 < 0x80) return CodePoint{b0, 1};
  std::size_t length = 0;
  char32_t value = 0;
  char32_t min = 0;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    length = 2, value = b0 & 0x1fu, min = 0x80;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    length = 3, value = b0 & 0x0fu, min = 0x800;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    length = 4, value = b0 & 0x07u, min = 0x10000;
  } else {
    return std::nullopt;
  }
  if (s.size() - i < length) return std::nullopt;
  for (std::size_t k = 1; k < length; ++k) {
    const std::uint8_t b = byte(i + k);
    if ((b & 0xc0u) != 0x80u) return std::nullopt;
    value = (value << 6) | (b & 0x3fu);
  }
  if (value < min || value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) return std::nullopt;
  return CodePoint{value, length};
}

// Characters a terminal would act on (move, erase, recolour) or that reorder or hide text.
bool must_escape(char32_t c) {
  if (c < 0x20 || c == 0x7f) return true;                      // C0 controls, DEL
  if (c >= 0x80 && c <= 0x9f) return true;                     // C1 controls (0x9b is CSI)
  if (c == 0x061c || c == 0x200e || c == 0x200f) return true;  // ALM, LRM, RLM
  if (c >= 0x202a && c <= 0x202e) return true;                 // LRE, RLE, PDF, LRO, RLO
  if (c >= 0x2066 && c <= 0x2069) return true;                 // LRI, RLI, FSI, PDI
  if (c == 0x2028 || c == 0x2029) return true;                 // line and paragraph separators
  if (c == 0x200b || (c >= 0x2060 && c <= 0x2064) || c == 0xfeff) return true;  // invisible
  return false;
}

void append_escape(std::string& out, char32_t c) {
  switch (c) {
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    default:
      break;
  }
  if (c < 0x80) {
    out += "\\x";
    out += kHex[(c >> 4) & 0xfu];
    out += kHex[c & 0xfu];
    return;
  }
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4)
    out += kHex[(c >> shift) & 0xfu];
}

// Appends `s` escaped; with `quoted`, also '"' and '\\' (so a quoted name cannot end early).
void append_escaped(std::string& out, std::string_view s, bool quoted) {
  for (std::size_t i = 0; i < s.size();) {
    const auto cp = decode(s, i);
    if (!cp) {  // not UTF-8: keep the byte, visibly
      const auto b = static_cast<std::uint8_t>(s[i]);
      out += "\\x";
      out += kHex[b >> 4];
      out += kHex[b & 0xfu];
      ++i;
      continue;
    }
    if (must_escape(cp->value)) {
      append_escape(out, cp->value);
    } else if (quoted && (cp->value == '"' || cp->value == '\\')) {
      out += '\\';
      out += static_cast<char>(cp->value);
    } else {
      out.append(s.substr(i, cp->length));
    }
    i += cp->length;
  }
}

bool only_spaces_and_breaks(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\n' && c != '\r') return false;
  }
  return true;
}

// A name that renders bare must not look like any part of the "name (id)" form.
bool needs_quotes(std::string_view name) {
  if (name.front() == ' ' || name.back() == ' ') return true;
  for (char c : name) {
    switch (c) {
      case '"':
      case '\\':
      case '(':
      case ')':
      case '[':
      case ']':
      case ':':
      case '#':
        return true;
      default:
        break;
    }
  }
  return escape_inline(name) != name;
}

}  // namespace

std::string escape_inline(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  append_escaped(out, s, false);
  return out;
}

std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    if (const auto cp = decode(s, i)) {
      out.append(s.substr(i, cp->length));
      i += cp->length;
    } else {
      out += "\xef\xbf\xbd";
      ++i;
    }
  }
  return out;
}

std::string render_message_text(std::string_view text) {
  if (text.empty()) return "(empty message)";
  std::string out;
  if (only_spaces_and_breaks(text)) {
    out = "(blank: \"";
    append_escaped(out, text, true);
    out += "\")";
    return out;
  }
  out.reserve(text.size());
  std::size_t start = 0;
  while (true) {
    const std::size_t nl = text.find('\n', start);
    std::string_view line =
        text.substr(start, nl == std::string_view::npos ? text.npos : nl - start);
    // "\r\n" is one line break; a lone "\r" stays in the line, escaped.
    if (nl != std::string_view::npos && !line.empty() && line.back() == '\r') line.remove_suffix(1);
    append_escaped(out, line, false);
    if (nl == std::string_view::npos) break;
    out += '\n';
    out += kContinuation;
    start = nl + 1;
  }
  return out;
}

std::string render_name(std::string_view name) {
  if (name.empty()) return "(no name)";
  if (!needs_quotes(name)) return std::string(name);
  std::string out = "\"";
  append_escaped(out, name, true);
  out += '"';
  return out;
}

std::string render_field(std::string_view name) {
  if (name.empty() || needs_quotes(name) || name.find(',') == std::string_view::npos) {
    return render_name(name);
  }
  std::string out = "\"";
  append_escaped(out, name, true);
  out += '"';
  return out;
}

std::string short_id(std::string_view id) {
  return escape_inline(id.substr(0, 8));
}

std::string render_person(std::string_view nickname, std::string_view user_id) {
  std::string out = render_name(nickname);
  out += " (";
  out += short_id(user_id);
  out += ')';
  return out;
}

}  // namespace secchats::cli
