#include "secchats/crypto/random.hpp"

#include <openssl/rand.h>

#include <cstdlib>
#include <cstring>

#include "secchats/common/encoding.hpp"

namespace secchats::crypto {

void random_fill(void* data, std::size_t size) {
  // RAND_bytes only fails when the OS entropy source is broken; continuing would hand out
  // predictable ids and keys, so stop the process instead.
  if (size > 0 && RAND_bytes(static_cast<unsigned char*>(data), static_cast<int>(size)) != 1) {
    std::abort();
  }
}

std::vector<std::uint8_t> random_bytes(std::size_t size) {
  std::vector<std::uint8_t> out(size);
  random_fill(out.data(), out.size());
  return out;
}

SecretBytes random_secret(std::size_t size) {
  SecretBytes out(size);
  random_fill(out.data(), out.size());
  return out;
}

std::string random_hex(std::size_t bytes) {
  return hex_encode(random_bytes(bytes));
}

std::int64_t random_int63() {
  std::uint64_t v = 0;
  random_fill(&v, sizeof v);
  return static_cast<std::int64_t>(v >> 1);
}

}  // namespace secchats::crypto
