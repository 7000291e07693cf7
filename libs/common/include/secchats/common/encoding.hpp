// Hex and base64 codecs (pure functions; no crypto library needed).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace secchats {

std::string hex_encode(std::span<const std::uint8_t> bytes);
std::optional<std::vector<std::uint8_t>> hex_decode(std::string_view hex);
// True for a non-empty string of lowercase hex digits.
bool is_lower_hex(std::string_view s);

// Standard base64 alphabet with '=' padding (java.util.Base64 default).
std::string base64_encode(std::span<const std::uint8_t> bytes);
std::string base64_encode(std::string_view bytes);
// Strict decoder: rejects characters outside the alphabet and bad padding.
std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text);
std::optional<std::string> base64_decode_to_string(std::string_view text);

}  // namespace secchats
