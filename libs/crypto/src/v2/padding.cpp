// Bucket padding for protocol v2 plaintexts, on libsodium's sodium_pad/sodium_unpad.
#include "secchats/crypto/v2/padding.hpp"

#include <sodium.h>

#include <bit>
#include <cstdlib>

namespace secchats::crypto::v2 {
namespace {

Error bad_padding() {
  return Error(ErrorCode::kInvalidArgument, "bad padding");
}

// The block size sodium_pad must use for a padded length of `padded` bytes.
std::size_t block_size_for(std::size_t padded) {
  return padded <= kPaddingLargeStep ? padded : kPaddingLargeStep;
}

bool is_bucket(std::size_t size) {
  if (size < kPaddingMinBucket) return false;
  if (size <= kPaddingLargeStep) return std::has_single_bit(size);
  return size % kPaddingLargeStep == 0;
}

}  // namespace

std::size_t padded_size(std::size_t n) {
  if (n >= static_cast<std::size_t>(-1) - kPaddingLargeStep) std::abort();  // cannot be allocated
  const std::size_t needed = n + 1;                                         // the 0x80 marker
  if (needed <= kPaddingMinBucket) return kPaddingMinBucket;
  if (needed <= kPaddingLargeStep) return std::bit_ceil(needed);
  return (needed + kPaddingLargeStep - 1) / kPaddingLargeStep * kPaddingLargeStep;
}

std::vector<std::uint8_t> pad(std::span<const std::uint8_t> data) {
  const std::size_t total = padded_size(data.size());
  std::vector<std::uint8_t> out(total);
  std::copy(data.begin(), data.end(), out.begin());
  std::size_t out_len = 0;
  if (sodium_pad(&out_len, out.data(), data.size(), block_size_for(total), total) != 0 ||
      out_len != total) {
    std::abort();  // unreachable: the buffer is exactly one bucket
  }
  return out;
}

std::vector<std::uint8_t> pad(std::string_view data) {
  return pad(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(data.data()),
                                           data.size()));
}

Result<std::vector<std::uint8_t>> unpad(std::span<const std::uint8_t> padded) {
  if (!is_bucket(padded.size())) return bad_padding();
  std::size_t len = 0;
  if (sodium_unpad(&len, padded.data(), padded.size(), block_size_for(padded.size())) != 0) {
    return bad_padding();
  }
  if (padded_size(len) != padded.size()) return bad_padding();  // not the canonical bucket
  return std::vector<std::uint8_t>(padded.begin(), padded.begin() + static_cast<long>(len));
}

}  // namespace secchats::crypto::v2
