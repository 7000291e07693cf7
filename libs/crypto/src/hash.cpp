#include "secchats/crypto/hash.hpp"

#include <algorithm>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <cstdlib>
#include <stdexcept>

namespace secchats::crypto {

namespace {

// One-shot SHA-256 with the digest fetched once and one context per thread: OpenSSL 3's
// SHA256() fetches the algorithm and allocates a context on every call, several times the
// cost of hashing a short input (the relay hashes the presented token on every request).
class OneShotSha256 {
 public:
  OneShotSha256() : digest_(EVP_MD_fetch(nullptr, "SHA256", nullptr)), context_(EVP_MD_CTX_new()) {}
  ~OneShotSha256() {
    EVP_MD_CTX_free(context_);
    EVP_MD_free(digest_);
  }
  OneShotSha256(const OneShotSha256&) = delete;
  OneShotSha256& operator=(const OneShotSha256&) = delete;

  // False if OpenSSL failed (then the caller falls back to SHA256()).
  bool hash(std::span<const std::uint8_t> data, Sha256Digest& out) {
    unsigned int size = 0;
    return digest_ != nullptr && context_ != nullptr &&
           EVP_DigestInit_ex2(context_, digest_, nullptr) == 1 &&
           EVP_DigestUpdate(context_, data.data(), data.size()) == 1 &&
           EVP_DigestFinal_ex(context_, out.data(), &size) == 1 && size == out.size();
  }

 private:
  EVP_MD* digest_;
  EVP_MD_CTX* context_;
};

}  // namespace

Sha256Digest sha256(std::span<const std::uint8_t> data) {
  thread_local OneShotSha256 hasher;
  Sha256Digest out{};
  if (!hasher.hash(data, out)) SHA256(data.data(), data.size(), out.data());
  return out;
}

Sha256Digest sha256(std::string_view data) {
  return sha256(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(data.data()),
                                              data.size()));
}

Sha256Hasher::Sha256Hasher() : context_(EVP_MD_CTX_new()) {
  if (context_ == nullptr ||
      EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(context_), EVP_sha256(), nullptr) != 1) {
    std::abort();  // out of memory or a broken OpenSSL: nothing sensible to return
  }
}

Sha256Hasher::~Sha256Hasher() {
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(context_));
}

void Sha256Hasher::update(std::span<const std::uint8_t> data) {
  if (!data.empty()) EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(context_), data.data(), data.size());
}

Sha256Digest Sha256Hasher::finish() {
  Sha256Digest out{};
  unsigned int size = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(context_), out.data(), &size);
  return out;
}

Sha256Digest hmac_sha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data) {
  Sha256Digest out{};
  unsigned int out_len = 0;
  // HMAC() with an empty key needs a non-null pointer.
  static const std::uint8_t kEmpty = 0;
  HMAC(EVP_sha256(), key.empty() ? &kEmpty : key.data(), static_cast<int>(key.size()), data.data(),
       data.size(), out.data(), &out_len);
  return out;
}

SecretBytes hkdf_sha256(std::span<const std::uint8_t> input_key_material,
                        std::span<const std::uint8_t> salt, std::string_view info,
                        std::size_t length) {
  if (length > 255 * 32) throw std::invalid_argument("hkdf_sha256: output too long");
  std::array<std::uint8_t, 32> zero_salt{};
  auto pseudo_random_key = hmac_sha256(
      salt.empty() ? std::span<const std::uint8_t>(zero_salt) : salt, input_key_material);
  SecretBytes out(length);
  std::vector<std::uint8_t> block;  // T(i-1) || info || i
  Sha256Digest previous{};
  std::size_t produced = 0;
  for (std::uint8_t counter = 1; produced < length; ++counter) {
    block.clear();
    if (counter > 1) block.insert(block.end(), previous.begin(), previous.end());
    block.insert(block.end(), info.begin(), info.end());
    block.push_back(counter);
    previous = hmac_sha256(pseudo_random_key, block);
    std::size_t take = std::min<std::size_t>(32, length - produced);
    std::copy_n(previous.begin(), take, out.data() + produced);
    produced += take;
  }
  secure_wipe(pseudo_random_key.data(), pseudo_random_key.size());
  secure_wipe(previous.data(), previous.size());
  secure_wipe(block);
  return out;
}

bool constant_time_equal(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace secchats::crypto
