#pragma once

#include <chrono>
#include <cstdint>

namespace secchats {

// Milliseconds since the Unix epoch, the unit of every protocol timestamp.
inline std::int64_t unix_millis_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace secchats
