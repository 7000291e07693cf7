#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace secchats::crypto {

using Sha256Digest = std::array<std::uint8_t, 32>;

Sha256Digest sha256(std::span<const std::uint8_t> data);
Sha256Digest sha256(std::string_view data);

// Compares two equal-length buffers in time independent of their contents.
bool constant_time_equal(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b);

}  // namespace secchats::crypto
