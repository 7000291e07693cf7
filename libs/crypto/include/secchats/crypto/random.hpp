// Cryptographically secure randomness (OpenSSL's CSPRNG).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "secchats/common/secret.hpp"

namespace secchats::crypto {

void random_fill(void* data, std::size_t size);
std::vector<std::uint8_t> random_bytes(std::size_t size);
SecretBytes random_secret(std::size_t size);
// `bytes` random bytes as lowercase hex (2 * bytes characters).
std::string random_hex(std::size_t bytes);
// A uniformly random non-negative signed 63-bit integer.
std::int64_t random_int63();

}  // namespace secchats::crypto
