#include "secchats/crypto/password.hpp"

#include <sodium.h>

#include <charconv>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <system_error>

#include "secchats/common/encoding.hpp"

namespace secchats::crypto::password {
namespace {

constexpr std::string_view kScheme = "argon2id-xchacha20poly1305";
constexpr std::string_view kVersion = "v1";

// The floor the client accepts (also the defaults of KdfCost).
constexpr std::uint64_t kMinOps = 3;
constexpr std::uint64_t kMinMem = 64ull << 20;

constexpr std::size_t kSaltBytes = crypto_pwhash_SALTBYTES;
constexpr std::size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr std::size_t kKekBytes = crypto_aead_xchacha20poly1305_ietf_KEYBYTES;
// Wrapped keys are small (the database key is 32 bytes); bound them so a hostile key file
// cannot make us allocate much.
constexpr std::size_t kMaxKeyBytes = 1024;

static_assert(kSaltBytes == 16);
static_assert(kNonceBytes == 24);
static_assert(kKekBytes == 32);

bool sodium_ready() {
  static std::once_flag once;
  static bool ready = false;
  std::call_once(once, [] { ready = sodium_init() >= 0; });
  return ready;
}

bool cost_in_libsodium_range(const KdfCost& cost) {
  return cost.ops_limit >= crypto_pwhash_OPSLIMIT_MIN &&
         cost.ops_limit <= crypto_pwhash_OPSLIMIT_MAX &&
         cost.mem_limit_bytes >= crypto_pwhash_MEMLIMIT_MIN &&
         cost.mem_limit_bytes <= crypto_pwhash_MEMLIMIT_MAX;
}

bool cost_meets_floor(const KdfCost& cost) {
  return cost.ops_limit >= kMinOps && cost.mem_limit_bytes >= kMinMem;
}

// Everything but the ciphertext: authenticated as associated data so that neither the cost
// nor the salt (nor the nonce) can be swapped without the unwrap failing.
std::string header(const KdfCost& cost, std::span<const std::uint8_t> salt,
                   std::span<const std::uint8_t> nonce) {
  std::string out;
  out.append(kScheme);
  out.push_back(':');
  out.append(kVersion);
  out.push_back(':');
  out.append(std::to_string(cost.ops_limit));
  out.push_back(':');
  out.append(std::to_string(cost.mem_limit_bytes));
  out.push_back(':');
  out.append(hex_encode(salt));
  out.push_back(':');
  out.append(hex_encode(nonce));
  return out;
}

Result<SecretBytes> derive_kek(const SecretString& password, std::span<const std::uint8_t> salt,
                               const KdfCost& cost) {
  SecretBytes kek(kKekBytes);
  if (crypto_pwhash(kek.data(), kek.size(), password.str().data(), password.size(), salt.data(),
                    static_cast<unsigned long long>(cost.ops_limit),
                    static_cast<std::size_t>(cost.mem_limit_bytes),
                    crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Error(ErrorCode::kInternal, "cannot allocate the memory for password hashing");
  }
  return kek;
}

Error wrong_password() {
  return Error(ErrorCode::kUnauthenticated, "wrong password");
}
Error corrupt(std::string what) {
  return Error(ErrorCode::kCorrupt, "key file: " + what);
}

// A decimal without sign or leading zeros; canonical form is enforced by the caller.
std::optional<std::uint64_t> parse_u64(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

Result<WrappedKey> wrap_key(const SecretBytes& key, const SecretString& password, KdfCost cost) {
  if (password.empty()) return Error(ErrorCode::kInvalidArgument, "empty password");
  if (key.empty() || key.size() > kMaxKeyBytes) {
    return Error(ErrorCode::kInvalidArgument, "key size out of range");
  }
  if (!cost_meets_floor(cost)) {
    return Error(ErrorCode::kInvalidArgument,
                 "password hashing cost below the floor (3 passes, 64 MiB)");
  }
  if (!cost_in_libsodium_range(cost)) {
    return Error(ErrorCode::kInvalidArgument, "password hashing cost out of range");
  }
  if (!sodium_ready()) return Error(ErrorCode::kInternal, "libsodium initialisation failed");

  WrappedKey out;
  out.cost = cost;
  out.salt.resize(kSaltBytes);
  out.nonce.resize(kNonceBytes);
  randombytes_buf(out.salt.data(), out.salt.size());
  randombytes_buf(out.nonce.data(), out.nonce.size());

  SC_ASSIGN_OR_RETURN(SecretBytes kek, derive_kek(password, out.salt, cost));
  const std::string ad = header(cost, out.salt, out.nonce);
  out.ciphertext.resize(key.size() + kTagBytes);
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_encrypt(
          out.ciphertext.data(), &written, key.data(), key.size(),
          reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), nullptr, out.nonce.data(),
          kek.data()) != 0 ||
      written != out.ciphertext.size()) {
    return Error(ErrorCode::kInternal, "key wrapping failed");
  }
  return out;
}

Result<SecretBytes> unwrap_key(const WrappedKey& wrapped, const SecretString& password) {
  if (wrapped.salt.size() != kSaltBytes) return corrupt("bad salt size");
  if (wrapped.nonce.size() != kNonceBytes) return corrupt("bad nonce size");
  if (wrapped.ciphertext.size() <= kTagBytes ||
      wrapped.ciphertext.size() > kMaxKeyBytes + kTagBytes) {
    return corrupt("bad ciphertext size");
  }
  // A record below the floor is never written by us: refuse it rather than let an attacker
  // who can edit the file downgrade the cost of guessing the password.
  if (!cost_meets_floor(wrapped.cost)) return corrupt("password hashing cost below the floor");
  if (!cost_in_libsodium_range(wrapped.cost)) return corrupt("password hashing cost out of range");
  // No password was ever wrapped empty.
  if (password.empty()) return wrong_password();
  if (!sodium_ready()) return Error(ErrorCode::kInternal, "libsodium initialisation failed");

  SC_ASSIGN_OR_RETURN(SecretBytes kek, derive_kek(password, wrapped.salt, wrapped.cost));
  const std::string ad = header(wrapped.cost, wrapped.salt, wrapped.nonce);
  SecretBytes key(wrapped.ciphertext.size() - kTagBytes);
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          key.data(), &written, nullptr, wrapped.ciphertext.data(), wrapped.ciphertext.size(),
          reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), wrapped.nonce.data(),
          kek.data()) != 0 ||
      written != key.size()) {
    return wrong_password();
  }
  return key;
}

std::string serialize(const WrappedKey& wrapped) {
  std::string out = header(wrapped.cost, wrapped.salt, wrapped.nonce);
  out.push_back(':');
  out.append(hex_encode(wrapped.ciphertext));
  return out;
}

Result<WrappedKey> parse_wrapped_key(std::string_view text) {
  // Bound the work before splitting: a valid line is well under this.
  if (text.size() > 512 + 2 * (kMaxKeyBytes + kTagBytes)) return corrupt("line too long");
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  while (true) {
    const std::size_t colon = text.find(':', start);
    if (colon == std::string_view::npos) {
      fields.push_back(text.substr(start));
      break;
    }
    fields.push_back(text.substr(start, colon - start));
    start = colon + 1;
  }
  if (fields.size() != 7) return corrupt("wrong number of fields");
  if (fields[0] != kScheme) return corrupt("unknown scheme");
  if (fields[1] != kVersion) return corrupt("unknown version");

  WrappedKey out;
  const auto ops = parse_u64(fields[2]);
  const auto mem = parse_u64(fields[3]);
  if (!ops || !mem) return corrupt("bad cost");
  out.cost = KdfCost{*ops, *mem};

  for (std::size_t i = 4; i < 7; ++i) {
    if (!is_lower_hex(fields[i])) return corrupt("bad hex");
  }
  auto salt = hex_decode(fields[4]);
  auto nonce = hex_decode(fields[5]);
  auto ciphertext = hex_decode(fields[6]);
  if (!salt || !nonce || !ciphertext) return corrupt("bad hex");
  if (salt->size() != kSaltBytes) return corrupt("bad salt size");
  if (nonce->size() != kNonceBytes) return corrupt("bad nonce size");
  if (ciphertext->size() <= kTagBytes || ciphertext->size() > kMaxKeyBytes + kTagBytes) {
    return corrupt("bad ciphertext size");
  }
  out.salt = std::move(*salt);
  out.nonce = std::move(*nonce);
  out.ciphertext = std::move(*ciphertext);

  // Only the canonical spelling is accepted (no leading zeros, no "+", lowercase hex), so a
  // record has exactly one text form.
  if (serialize(out) != text) return corrupt("not in canonical form");
  return out;
}

}  // namespace secchats::crypto::password
