// Text as PostgreSQL takes it (UTF8 database encoding): libpq sends text parameters as
// C strings, so a NUL byte would silently cut a value short, and invalid UTF-8 fails the
// statement (SQLSTATE 22021), which would abort a whole write batch.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace secchats::server::postgres {

// True when `s` has no NUL byte and is well-formed UTF-8 (no overlong forms or surrogates).
inline bool valid_text(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<std::uint8_t>(s[i]);
    if (c == 0) return false;
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<std::uint8_t>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    const std::uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

// A text[] literal ({"a","b"}) for a `$1::text[]` parameter: every element quoted, with '"'
// and '\' escaped (PostgreSQL docs, "Array Value Input").
inline std::string text_array_literal(std::span<const std::string> values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

}  // namespace secchats::server::postgres
