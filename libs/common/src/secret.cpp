#include "secchats/common/secret.hpp"

#include <string.h>  // explicit_bzero (glibc)

namespace secchats {

void secure_wipe(void* data, std::size_t size) {
  explicit_bzero(data, size);
}

bool SecretBytes::operator==(const SecretBytes& other) const {
  // Constant time over the common length; lengths are not secret.
  if (bytes_.size() != other.bytes_.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < bytes_.size(); ++i)
    diff |= bytes_[i] ^ other.bytes_[i];
  return diff == 0;
}

}  // namespace secchats
