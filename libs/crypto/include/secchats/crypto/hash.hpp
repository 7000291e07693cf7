#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "secchats/common/secret.hpp"

namespace secchats::crypto {

using Sha256Digest = std::array<std::uint8_t, 32>;

Sha256Digest sha256(std::span<const std::uint8_t> data);
Sha256Digest sha256(std::string_view data);

// SHA-256 over data that arrives in pieces (a blob streamed to disk): update() as often as
// needed, then finish() once. Not copyable.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;
  void update(std::span<const std::uint8_t> data);
  Sha256Digest finish();

 private:
  void* context_;  // EVP_MD_CTX
};

// HMAC-SHA256 (RFC 2104).
Sha256Digest hmac_sha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data);

// HKDF-SHA256 (RFC 5869): extract with `salt` (empty = 32 zero bytes), expand with `info`
// to `length` bytes (at most 255 * 32). Used by protocol v2 for every derived key, each
// with its own `info` label so keys for different purposes can never coincide.
SecretBytes hkdf_sha256(std::span<const std::uint8_t> input_key_material,
                        std::span<const std::uint8_t> salt, std::string_view info,
                        std::size_t length);

// Compares two equal-length buffers in time independent of their contents.
bool constant_time_equal(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b);

}  // namespace secchats::crypto
