// Turns what a person sends into the v1 plaintext Message (COMPAT.md §5) and back.
// Pure functions: no I/O, no keys.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "secchats/client.hpp"
#include "secchats/common/result.hpp"
#include "secchats/protocol/objects.hpp"

namespace secchats::core {

struct Sender {
  std::string user_id;
  std::string nickname;
};

protocol::Message make_text(const Sender& from, std::string_view to_id, std::int64_t message_id,
                            std::int64_t now_ms, std::string_view text);
protocol::Message make_image(const Sender& from, std::string_view to_id, std::int64_t message_id,
                             std::int64_t now_ms, const std::vector<std::uint8_t>& png);
// `new_reaction` / `old_reaction` are EMO_* names; they travel as the emoji characters the
// reference client writes (EMO_SMILE_PLUS, "none", travels as "").
protocol::Message make_reaction(const Sender& from, std::string_view to_id, std::int64_t message_id,
                                std::int64_t now_ms, std::int64_t target_message_id,
                                std::string_view new_reaction, std::string_view old_reaction);

// An UPDATE (protocol upgrade traffic, docs/protocol-v2.md): `content` is the text to carry
// (base64'd as for every type), or nullopt for content null (a v2 key confirmation).
protocol::Message make_update(const Sender& from, std::string_view to_id, std::int64_t message_id,
                              std::int64_t now_ms, const std::optional<std::string>& content);

// Interprets a decrypted Message. The caller supplies what the relay vouched for (chat, the
// authenticated sender id, server timestamp); the sender's claims inside are kept only as
// display data. kInvalidArgument if the content cannot be decoded (bad base64, ...).
Result<MessageInfo> interpret(const protocol::Message& m, ChatKind kind, std::string_view chat_id,
                              std::string_view relay_sender_id, std::int64_t server_timestamp);

// Text from a peer made safe to store and print: invalid UTF-8 becomes U+FFFD, control
// characters are dropped (newlines and tabs too unless `multiline`), and it is cut to at most
// `max_bytes` on a character boundary.
std::string display_text(std::string_view text, std::size_t max_bytes, bool multiline = false);

// The image inside an IMG message. The reference client's own vector carries the bytes as
// Latin-1 characters (UTF-8 encoded, then base64); COMPAT.md's prose says base64 of the bytes.
// We send the vector's form and accept both.
Result<std::vector<std::uint8_t>> decode_image_text(std::string_view text);

}  // namespace secchats::core
