// The shapes of the ids a relay hands out (lowercase hex), checked wherever an id arrives
// from a person or a peer, so that nothing else is stored or sent on. Internal to libsecchats.
#pragma once

#include <string_view>

#include "secchats/common/encoding.hpp"

namespace secchats::core {

inline bool is_relay_user_id(std::string_view id) {
  return id.size() >= 8 && id.size() <= 128 && is_lower_hex(id);
}

inline bool is_relay_group_id(std::string_view id) {
  return id.size() >= 16 && id.size() <= 128 && is_lower_hex(id);
}

}  // namespace secchats::core
