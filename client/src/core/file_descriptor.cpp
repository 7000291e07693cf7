#include "file_descriptor.hpp"

#include <boost/json.hpp>

#include <algorithm>

#include "message_codec.hpp"
#include "secchats/common/encoding.hpp"

namespace secchats::core {
namespace json = boost::json;
namespace {

constexpr std::int64_t kChunk = 65536;
constexpr std::int64_t kMaxSize = std::int64_t{1} << 40;

Error bad(std::string_view why) {
  return Error(ErrorCode::kInvalidArgument, "malformed attachment: " + std::string(why));
}

bool is_blob_id(std::string_view id) {
  return id.size() == 43 && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
         });
}

// A non-negative integer member, or 0 when absent; nullopt when present but not one.
std::optional<std::int64_t> number(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr) return 0;
  if (v->is_int64() && v->as_int64() >= 0) return v->as_int64();
  if (v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(v->as_uint64());
  }
  return std::nullopt;
}

std::string string_member(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr || !v->is_string()) return {};
  return std::string(v->as_string());
}

// Cuts `s` to at most `max` bytes on a UTF-8 character boundary.
std::string cut_utf8(std::string s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80)
    --cut;
  s.resize(cut);
  return s;
}

}  // namespace

std::string encode_file_descriptor(const FileDescriptor& d) {
  json::object o;
  o["v"] = 1;
  o["blob"] = d.blob_id;
  o["key"] = base64_encode(d.key.span());
  o["nonce"] = base64_encode(d.nonce_prefix);
  o["chunk"] = kChunk;
  o["size"] = d.info.size;
  o["sha256"] = d.sha256_hex;
  o["kind"] = d.info.kind;
  o["type"] = d.info.media_type;
  o["name"] = d.info.file_name;
  if (d.info.width > 0) o["w"] = d.info.width;
  if (d.info.height > 0) o["h"] = d.info.height;
  if (!d.info.thumbnail.empty()) o["thumb"] = base64_encode(d.info.thumbnail);
  if (d.info.duration_ms > 0) o["duration_ms"] = d.info.duration_ms;
  std::string out = json::serialize(o);
  // The key's base64 in the JSON tree is freed with it; overwrite it first.
  auto& key_text = o["key"].as_string();
  secure_wipe(key_text.data(), key_text.size());
  return out;
}

Result<FileDescriptor> decode_file_descriptor(std::string_view text) {
  json::error_code ec;
  json::value parsed = json::parse(text, ec);
  if (ec || !parsed.is_object()) return bad("not a JSON object");
  const json::object& o = parsed.as_object();
  auto v = number(o, "v");
  if (!o.contains("v") || !v || *v != 1) return bad("unsupported version");
  auto chunk = number(o, "chunk");
  if (!chunk || *chunk != kChunk) return bad("chunk size is not 65536");
  auto size = number(o, "size");
  if (!o.contains("size") || !size || *size > kMaxSize) return bad("bad size");

  FileDescriptor d;
  d.blob_id = string_member(o, "blob");
  if (!is_blob_id(d.blob_id)) return bad("bad blob id");
  std::string key_text = string_member(o, "key");
  auto key = base64_decode(key_text);
  secure_wipe(key_text);
  if (!key || key->size() != 32) {
    if (key) secure_wipe(*key);
    return bad("bad key");
  }
  d.key = SecretBytes(*key);
  secure_wipe(*key);
  auto nonce = base64_decode(string_member(o, "nonce"));
  if (!nonce || nonce->size() != 19) return bad("bad nonce prefix");
  d.nonce_prefix = std::move(*nonce);
  d.sha256_hex = string_member(o, "sha256");
  if (d.sha256_hex.size() != 64 || !is_lower_hex(d.sha256_hex)) return bad("bad sha256");

  AttachmentInfo& info = d.info;
  info.size = static_cast<std::uint64_t>(*size);
  const std::string kind = string_member(o, "kind");
  info.kind = (kind == "image" || kind == "voice" || kind == "video") ? kind : "file";
  info.media_type = display_text(string_member(o, "type"), 127);
  if (info.media_type.empty()) info.media_type = "application/octet-stream";
  info.file_name = display_text(string_member(o, "name"), kMaxFileNameBytes);
  auto w = number(o, "w");
  auto h = number(o, "h");
  auto duration = number(o, "duration_ms");
  info.width = w && *w <= 1000000 ? static_cast<std::uint32_t>(*w) : 0;
  info.height = h && *h <= 1000000 ? static_cast<std::uint32_t>(*h) : 0;
  info.duration_ms = duration.value_or(0);
  if (auto thumb = base64_decode(string_member(o, "thumb"));
      thumb && thumb->size() <= kMaxThumbnailBytes) {
    info.thumbnail = std::move(*thumb);
  }
  return d;
}

std::string safe_file_name(std::string_view peer_name) {
  std::string name = display_text(peer_name);
  // The last path component only, whichever separator the sender's system uses.
  const auto slash = name.find_last_of("/\\");
  if (slash != std::string::npos) name.erase(0, slash + 1);
  std::string clean;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const auto u = static_cast<unsigned char>(name[i]);
    if (u < 0x20 || u == 0x7F || name[i] == ':') continue;
    // C1 controls (U+0080..U+009F) are C2 80..C2 9F in UTF-8.
    if (u == 0xC2 && i + 1 < name.size() && static_cast<unsigned char>(name[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(name[i + 1]) <= 0x9F) {
      ++i;
      continue;
    }
    clean.push_back(name[i]);
  }
  while (!clean.empty() && (clean.front() == '.' || clean.front() == ' '))
    clean.erase(0, 1);
  while (!clean.empty() && (clean.back() == ' ' || clean.back() == '.'))
    clean.pop_back();
  if (clean.empty()) return "attachment";
  if (clean.size() > kMaxFileNameBytes) {
    const auto dot = clean.find_last_of('.');
    std::string extension =
        dot != std::string::npos && clean.size() - dot <= 16 ? clean.substr(dot) : std::string();
    clean = cut_utf8(clean.substr(0, clean.size() - extension.size()),
                     kMaxFileNameBytes - extension.size()) +
            extension;
  }
  return clean;
}

}  // namespace secchats::core
