#include "secchats/crypto/v2/blob_stream.hpp"

#include <sodium.h>

#include <cstdlib>
#include <mutex>
#include <string>

namespace secchats::crypto::v2 {
namespace {

constexpr std::string_view kAd = "SC2-BLOB-1";
constexpr std::uint64_t kMaxChunkIndex = 0xFFFFFFFFu;

static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == kBlobNoncePrefixSize + 4 + 1);
static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == kBlobKeySize);
static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES == kBlobTagSize);

void ensure_sodium_ready() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) std::abort();
  });
}

using Nonce = std::array<std::uint8_t, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES>;

Nonce chunk_nonce(const BlobNoncePrefix& prefix, std::uint64_t index, bool last) {
  Nonce nonce{};
  std::copy(prefix.begin(), prefix.end(), nonce.begin());
  nonce[19] = static_cast<std::uint8_t>(index >> 24);
  nonce[20] = static_cast<std::uint8_t>(index >> 16);
  nonce[21] = static_cast<std::uint8_t>(index >> 8);
  nonce[22] = static_cast<std::uint8_t>(index);
  nonce[23] = last ? 0x01 : 0x00;
  return nonce;
}

const unsigned char* ad_bytes() {
  return reinterpret_cast<const unsigned char*>(kAd.data());
}

}  // namespace

BlobKey BlobKey::generate() {
  ensure_sodium_ready();
  SecretBytes key(kBlobKeySize);
  crypto_aead_xchacha20poly1305_ietf_keygen(key.data());
  BlobNoncePrefix prefix{};
  randombytes_buf(prefix.data(), prefix.size());
  return BlobKey(std::move(key), prefix);
}

Result<BlobKey> BlobKey::from_bytes(std::span<const std::uint8_t> key,
                                    std::span<const std::uint8_t> nonce_prefix) {
  if (key.size() != kBlobKeySize || nonce_prefix.size() != kBlobNoncePrefixSize) {
    return Error(ErrorCode::kInvalidArgument, "bad blob key (32-byte key, 19-byte prefix)");
  }
  BlobNoncePrefix prefix{};
  std::copy(nonce_prefix.begin(), nonce_prefix.end(), prefix.begin());
  return BlobKey(SecretBytes(key), prefix);
}

std::uint64_t blob_chunk_count(std::uint64_t plaintext_size) {
  if (plaintext_size == 0) return 1;
  return (plaintext_size + kBlobChunkSize - 1) / kBlobChunkSize;
}

std::uint64_t blob_ciphertext_size(std::uint64_t plaintext_size) {
  return plaintext_size + kBlobTagSize * blob_chunk_count(plaintext_size);
}

std::size_t blob_chunk_plain_size(std::uint64_t plaintext_size, std::uint64_t index) {
  const std::uint64_t count = blob_chunk_count(plaintext_size);
  if (index >= count) return 0;
  if (index + 1 < count) return kBlobChunkSize;
  return static_cast<std::size_t>(plaintext_size - index * kBlobChunkSize);
}

Result<std::vector<std::uint8_t>> seal_blob_chunk(const BlobKey& key, std::uint64_t index,
                                                  bool last, std::span<const std::uint8_t> plain) {
  ensure_sodium_ready();
  if (index > kMaxChunkIndex) {
    return Error(ErrorCode::kInvalidArgument, "blob chunk index out of range");
  }
  if (plain.size() > kBlobChunkSize || (!last && plain.size() != kBlobChunkSize)) {
    return Error(ErrorCode::kInvalidArgument,
                 "blob chunk " + std::to_string(index) + " has the wrong size");
  }
  const Nonce nonce = chunk_nonce(key.nonce_prefix(), index, last);
  std::vector<std::uint8_t> out(plain.size() + kBlobTagSize);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(out.data(), &written, plain.data(), plain.size(),
                                             ad_bytes(), kAd.size(), nullptr, nonce.data(),
                                             key.key().data());
  out.resize(static_cast<std::size_t>(written));
  return out;
}

Result<std::vector<std::uint8_t>> open_blob_chunk(const BlobKey& key, std::uint64_t index,
                                                  bool last, std::span<const std::uint8_t> sealed) {
  ensure_sodium_ready();
  if (index > kMaxChunkIndex || sealed.size() < kBlobTagSize ||
      sealed.size() > kBlobSealedChunkSize) {
    return Error(ErrorCode::kCorrupt, "blob chunk " + std::to_string(index) + " is malformed");
  }
  const Nonce nonce = chunk_nonce(key.nonce_prefix(), index, last);
  std::vector<std::uint8_t> out(sealed.size() - kBlobTagSize);
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(out.data(), &written, nullptr, sealed.data(),
                                                 sealed.size(), ad_bytes(), kAd.size(),
                                                 nonce.data(), key.key().data()) != 0) {
    return Error(ErrorCode::kCorrupt,
                 "blob chunk " + std::to_string(index) + " failed authentication");
  }
  out.resize(static_cast<std::size_t>(written));
  return out;
}

}  // namespace secchats::crypto::v2
