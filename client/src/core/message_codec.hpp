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
// An attachment (docs/protocol-v2.md §15.2): `descriptor` is the FILE JSON
// (encode_file_descriptor), base64'd as every content. v2 only: deliver() refuses v1.
protocol::Message make_file(const Sender& from, std::string_view to_id, std::int64_t message_id,
                            std::int64_t now_ms, std::string_view descriptor);
// A FILE message's descriptor JSON (what the store keeps as its text; it holds the key).
// kInvalidArgument for content that is not base64.
Result<std::string> file_descriptor_text(const protocol::Message& m);

// The reaction name that means "none" (COMPAT.md §5).
inline constexpr std::string_view kNoReaction = "EMO_SMILE_PLUS";

// `new_reaction` / `old_reaction` are EMO_* names and travel as those names, as the reference
// UI writes them (COMPAT.md §5); "" is sent as EMO_SMILE_PLUS ("none": a removal as
// new_reaction, no previous reaction as old_reaction).
protocol::Message make_reaction(const Sender& from, std::string_view to_id, std::int64_t message_id,
                                std::int64_t now_ms, std::int64_t target_message_id,
                                std::string_view new_reaction, std::string_view old_reaction);

// An UPDATE (protocol upgrade traffic, docs/protocol-v2.md): `content` is the text to carry
// (base64'd as for every type), or nullopt for content null (a v2 key confirmation).
protocol::Message make_update(const Sender& from, std::string_view to_id, std::int64_t message_id,
                              std::int64_t now_ms, const std::optional<std::string>& content);

// Interprets a decrypted Message. A FILE's descriptor is checked strictly (§15.2) and shown
// as MessageInfo::attachment; text stays empty (the key is never put in a MessageInfo). The caller
// supplies what the relay vouched for (chat, the authenticated sender id, server timestamp); the
// sender's claims inside are kept only as display data. kInvalidArgument if the content cannot be
// decoded (bad base64, ...).
Result<MessageInfo> interpret(const protocol::Message& m, ChatKind kind, std::string_view chat_id,
                              std::string_view relay_sender_id, std::int64_t server_timestamp);

// Text from a peer as the library keeps it: valid UTF-8 in which each invalid byte became
// one U+FFFD and nothing after it was lost; every valid code point, control characters
// included, is kept (whoever shows it escapes it). Cut to at most `max_bytes` on a character
// boundary (names: nickname 64, group name 100).
std::string display_text(std::string_view text, std::size_t max_bytes = std::string_view::npos);

bool is_valid_utf8(std::string_view text);
// True if the UTF-8 text has a character that shows something: not white space, a control,
// a format or a default-ignorable character (ICU's Unicode properties).
bool has_visible_character(std::string_view text);
// What we send or call ourselves (message text, nickname, group name): kInvalidArgument
// "<what> is empty", "<what> is not valid UTF-8" or "<what> has no visible character ...".
Status check_outgoing_text(std::string_view what, std::string_view text);

// The image inside an IMG message's decoded text. We send the reference UI's form (the text
// is the base64 of the JPEG or PNG bytes, COMPAT.md §5) and accept it, the raw bytes, and the
// reference library's vector form (bytes as Latin-1 characters); a PNG or JPEG signature
// decides.
// kInvalidArgument if no form decodes.
Result<std::vector<std::uint8_t>> decode_image_text(std::string_view text);

}  // namespace secchats::core
