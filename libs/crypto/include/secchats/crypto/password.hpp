// Password-based protection of the client's database key (libsodium).
//
// The database is encrypted with a random 32-byte key; that key is stored only wrapped
// (XChaCha20-Poly1305) under a key derived from the user's password with Argon2id. Changing
// the password re-wraps the same database key, so the database is never re-encrypted.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "secchats/common/result.hpp"
#include "secchats/common/secret.hpp"

namespace secchats::crypto::password {

// Argon2id cost. Defaults: 64 MiB and 3 passes (the floor the client accepts).
struct KdfCost {
  std::uint64_t ops_limit = 3;
  std::uint64_t mem_limit_bytes = 64ull << 20;
};

// Everything needed to unwrap, none of it secret: safe to store in a plain file.
struct WrappedKey {
  KdfCost cost;
  std::vector<std::uint8_t> salt;        // 16 bytes
  std::vector<std::uint8_t> nonce;       // 24 bytes
  std::vector<std::uint8_t> ciphertext;  // wrapped key + 16-byte tag
};

// Wraps `key` under a fresh salt and nonce. Fails (kInvalidArgument) on an empty password or
// a cost below the floor; kInternal if the machine cannot allocate the Argon2 memory.
Result<WrappedKey> wrap_key(const SecretBytes& key, const SecretString& password,
                            KdfCost cost = {});

// Unwraps; a wrong password (or a tampered record) is ErrorCode::kUnauthenticated with the
// message "wrong password".
Result<SecretBytes> unwrap_key(const WrappedKey& wrapped, const SecretString& password);

// A one-line text form for a key file: "argon2id-xchacha20poly1305:v1:<ops>:<mem>:<salt
// hex>:<nonce hex>:<ciphertext hex>". parse rejects anything else with kCorrupt.
std::string serialize(const WrappedKey& wrapped);
Result<WrappedKey> parse_wrapped_key(std::string_view text);

}  // namespace secchats::crypto::password
