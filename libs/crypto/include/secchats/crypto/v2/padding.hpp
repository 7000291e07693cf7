// Protocol v2 plaintext padding (docs/protocol-v2.md, "Padding").
//
// A v2 plaintext is padded with ISO/IEC 7816-4 (one 0x80 byte, then zeros) to the smallest
// bucket that holds at least one padding byte: 256, 512, 1024, ... 65536 bytes (powers of two),
// then multiples of 65536. The relay (and anyone watching) learns only the bucket.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "secchats/common/result.hpp"

namespace secchats::crypto::v2 {

inline constexpr std::size_t kPaddingMinBucket = 256;
inline constexpr std::size_t kPaddingLargeStep = 65536;

// The padded length of an `n`-byte plaintext: always > n.
std::size_t padded_size(std::size_t n);

// `data` followed by 0x80 and zeros up to padded_size(data.size()).
std::vector<std::uint8_t> pad(std::span<const std::uint8_t> data);
std::vector<std::uint8_t> pad(std::string_view data);

// Inverse of pad. Refuses (kInvalidArgument, "bad padding") a length that is not a bucket, a
// missing 0x80 marker, non-zero bytes after it, and a plaintext that belongs in a smaller
// bucket, so every plaintext has exactly one padded form.
Result<std::vector<std::uint8_t>> unpad(std::span<const std::uint8_t> padded);

}  // namespace secchats::crypto::v2
