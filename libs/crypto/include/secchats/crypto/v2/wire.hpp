// The v2 wire marker shared by pairwise and group messages.
#pragma once

#include <string_view>

namespace secchats::crypto::v2 {

// Every v2 ciphertext (encContent / cryptoData) is "sc2:" + base64(...). ':' is not a base64
// character, so no v1 value (plain base64) can ever start with it.
inline constexpr std::string_view kWirePrefix = "sc2:";

// True when `value` is a v2 ciphertext (by its prefix only; nothing is decoded).
inline bool is_v2_wire(std::string_view value) {
  return value.starts_with(kWirePrefix);
}

}  // namespace secchats::crypto::v2
