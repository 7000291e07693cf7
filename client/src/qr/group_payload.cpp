// The in-person group payload (docs/qr-payload.md): formatting and a strict parser.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "secchats/common/encoding.hpp"
#include "secchats/common/secret.hpp"
#include "secchats/qr/qr.hpp"

namespace secchats::qr {
namespace {

constexpr std::string_view kPrefix = "SECCHATS-GROUP:";
constexpr std::string_view kVersion = "1";
constexpr std::size_t kFields = 5;  // magic, version, group id, key, name
constexpr std::size_t kMinGroupIdChars = 32;
constexpr std::size_t kMaxGroupIdChars = 128;
constexpr std::size_t kKeyBytes = 32;
constexpr std::size_t kMaxNameBytes = 100;
// Longest well-formed payload is 15 + 2 + 128 + 1 + 44 + 1 + 134 = 325 characters.
constexpr std::size_t kMaxPayloadChars = 512;

constexpr char kBase64UrlAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

Error invalid(std::string reason) {
  return Error(ErrorCode::kInvalidArgument, std::move(reason));
}

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  auto byte = [&](std::size_t k) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[k]));
  };
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out.push_back(kBase64UrlAlphabet[(v >> 18) & 63]);
    out.push_back(kBase64UrlAlphabet[(v >> 12) & 63]);
    out.push_back(kBase64UrlAlphabet[(v >> 6) & 63]);
    out.push_back(kBase64UrlAlphabet[v & 63]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const std::uint32_t v = byte(i) << 16;
    out.push_back(kBase64UrlAlphabet[(v >> 18) & 63]);
    out.push_back(kBase64UrlAlphabet[(v >> 12) & 63]);
  } else if (rest == 2) {
    const std::uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8);
    out.push_back(kBase64UrlAlphabet[(v >> 18) & 63]);
    out.push_back(kBase64UrlAlphabet[(v >> 12) & 63]);
    out.push_back(kBase64UrlAlphabet[(v >> 6) & 63]);
  }
  return out;
}

// Strict base64url without padding: only the URL-safe alphabet, no '=', no impossible length,
// and unused trailing bits must be zero (so every byte string has exactly one encoding).
std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string standard;
  standard.reserve(text.size() + 2);
  for (char c : text) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      standard.push_back(c);
    } else if (c == '-') {
      standard.push_back('+');
    } else if (c == '_') {
      standard.push_back('/');
    } else {
      return std::nullopt;
    }
  }
  while (standard.size() % 4 != 0)
    standard.push_back('=');
  auto decoded = base64_decode_to_string(standard);
  if (!decoded || base64url_encode(*decoded) != text) return std::nullopt;
  return decoded;
}

// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. Also refuses C0/C1
// control characters and DEL, so a scanned name cannot smuggle terminal escape sequences.
enum class NameCheck { kOk, kBadUtf8, kControl };
NameCheck check_name(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    std::uint32_t cp = 0;
    std::size_t len = 0;
    if (b0 < 0x80) {
      cp = b0;
      len = 1;
    } else if (b0 >= 0xC2 && b0 <= 0xDF) {
      cp = b0 & 0x1Fu;
      len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      cp = b0 & 0x0Fu;
      len = 3;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      cp = b0 & 0x07u;
      len = 4;
    } else {
      return NameCheck::kBadUtf8;
    }
    if (i + len > s.size()) return NameCheck::kBadUtf8;
    for (std::size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0u) != 0x80u) return NameCheck::kBadUtf8;
      cp = (cp << 6) | (b & 0x3Fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return NameCheck::kBadUtf8;
    }
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) return NameCheck::kControl;
    i += len;
  }
  return NameCheck::kOk;
}

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t pos = text.find(sep, start);
    if (pos == std::string_view::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, pos - start));
    start = pos + 1;
  }
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

SecretString format_group_payload(const GroupPayload& payload) {
  std::string out;
  out.reserve(kMaxPayloadChars);
  out.append(kPrefix);
  out.append(kVersion);
  out.push_back(':');
  out.append(payload.group_id);
  out.push_back(':');
  out.append(payload.key.view());
  out.push_back(':');
  out.append(base64url_encode(payload.name));
  return SecretString(std::move(out));
}

Result<GroupPayload> parse_group_payload(std::string_view text) {
  if (text.substr(0, kPrefix.size()) != kPrefix) return invalid("not a Secure Chats group code");
  if (text.size() > kMaxPayloadChars) return invalid("group code too long");

  const std::vector<std::string_view> fields = split(text.substr(kPrefix.size()), ':');
  // The version comes first so that a future format with other fields gets the right reason.
  const std::string_view version = fields[0];
  if (version != kVersion) {
    if (all_digits(version) && version.size() <= 9) {
      return invalid("unsupported version " + std::string(version));
    }
    return invalid("malformed version field");
  }
  if (fields.size() + 1 != kFields) {
    return invalid("malformed group code: expected " + std::to_string(kFields) +
                   " ':'-separated fields, got " + std::to_string(fields.size() + 1));
  }

  const std::string_view group_id = fields[1];
  const std::string_view key = fields[2];
  const std::string_view name = fields[3];

  if (group_id.empty()) return invalid("missing group id");
  if (!is_lower_hex(group_id)) return invalid("group id must be lowercase hex");
  if (group_id.size() < kMinGroupIdChars || group_id.size() > kMaxGroupIdChars) {
    return invalid("group id must be 32 to 128 hex characters");
  }

  if (key.empty()) return invalid("missing group key");
  auto key_bytes = base64_decode(key);
  if (!key_bytes) return invalid("group key is not valid base64");
  const std::size_t key_size = key_bytes->size();
  // Canonical form only: the key string is the AES password (COMPAT.md section 5), so two
  // spellings of the same bytes would be two different keys.
  const bool canonical = base64_encode(*key_bytes) == key;
  secure_wipe(*key_bytes);
  if (!canonical) return invalid("group key is not valid base64");
  if (key_size != kKeyBytes) return invalid("group key must be 32 bytes");

  auto name_bytes = base64url_decode(name);
  if (!name_bytes) return invalid("group name is not valid base64url (no padding)");
  if (name_bytes->size() > kMaxNameBytes) return invalid("group name longer than 100 bytes");
  switch (check_name(*name_bytes)) {
    case NameCheck::kOk:
      break;
    case NameCheck::kBadUtf8:
      return invalid("group name is not valid UTF-8");
    case NameCheck::kControl:
      return invalid("group name contains control characters");
  }

  GroupPayload payload;
  payload.group_id = std::string(group_id);
  payload.key = SecretString(std::string(key));
  payload.name = std::move(*name_bytes);
  return payload;
}

}  // namespace secchats::qr
