// The FILE message's descriptor (docs/protocol-v2.md §15.2): the JSON that travels (base64'd)
// as the content of a v2 message of type "FILE" and is kept in the encrypted store as the
// message's text. Pure functions: no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "secchats/client.hpp"
#include "secchats/common/result.hpp"
#include "secchats/common/secret.hpp"

namespace secchats::core {

inline constexpr std::size_t kMaxThumbnailBytes = 16 * 1024;
inline constexpr std::size_t kMaxFileNameBytes = 255;

struct FileDescriptor {
  // kind, media_type, file_name, size, width, height, duration_ms, thumbnail (saved_path and
  // upload_state are local and never travel).
  AttachmentInfo info;
  std::string blob_id;                     // 43 characters of base64url
  SecretBytes key;                         // K, 32 bytes
  std::vector<std::uint8_t> nonce_prefix;  // P, 19 bytes
  std::string sha256_hex;                  // of the whole ciphertext, 64 lowercase hex digits
};

// The §15.2 JSON. It holds the key: wipe it (secure_wipe) when done with it.
std::string encode_file_descriptor(const FileDescriptor& d);
// Strict §15.2 reading: kInvalidArgument naming the problem for JSON that is not an object,
// v other than 1, chunk other than 65536, a key or prefix of the wrong length, size over 2^40,
// a malformed blob id or sha256; unknown members are ignored. Peer strings are made display-
// safe (valid UTF-8; the name at most 255 bytes); an unknown kind reads as "file"; a thumbnail
// over 16 KiB or not base64 is dropped.
Result<FileDescriptor> decode_file_descriptor(std::string_view json);

// A file name from a peer made safe to create in a directory we choose: its last path
// component, without control characters, '/', '\\' or ':'; "." / ".." / empty become
// "attachment", a name starting with '.' loses the dot, and it is cut to 255 bytes keeping
// the extension. Never empty.
std::string safe_file_name(std::string_view peer_name);

}  // namespace secchats::core
