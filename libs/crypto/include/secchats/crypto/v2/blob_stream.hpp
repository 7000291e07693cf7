// Attachment blobs: the STREAM chunk encryption of docs/protocol-v2.md §15.1.
//
// A file is cut into 64 KiB chunks; chunk i is sealed with XChaCha20-Poly1305 under the
// file's key K and the nonce P(19) || be32(i) || last-flag(1), with the associated data
// "SC2-BLOB-1". Each chunk stands alone (no state is carried between chunks), so an upload
// can resume at any chunk and a download be checked as it arrives: the index in the nonce
// catches reordered or repeated chunks, the last flag a blob cut at a chunk boundary, each
// tag a changed byte.
//
// Fenced: no libsodium type appears here.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "secchats/common/result.hpp"
#include "secchats/common/secret.hpp"

namespace secchats::crypto::v2 {

inline constexpr std::size_t kBlobKeySize = 32;          // K, bytes
inline constexpr std::size_t kBlobNoncePrefixSize = 19;  // P, bytes
inline constexpr std::size_t kBlobChunkSize = 65536;     // C: plaintext bytes per chunk
inline constexpr std::size_t kBlobTagSize = 16;          // Poly1305 tag per chunk
inline constexpr std::size_t kBlobSealedChunkSize = kBlobChunkSize + kBlobTagSize;
inline constexpr std::uint64_t kBlobMaxPlaintext = std::uint64_t{1} << 40;  // §15.2 limit

using BlobNoncePrefix = std::array<std::uint8_t, kBlobNoncePrefixSize>;

// One file's key and nonce prefix. The key wipes itself (SecretBytes); the prefix is not
// secret but is never used for a second file.
class BlobKey {
 public:
  // A fresh random key and prefix.
  static BlobKey generate();
  // From a FILE message's "key" and "nonce" (decoded): kInvalidArgument "bad blob key" unless
  // the key is 32 bytes and the prefix 19.
  static Result<BlobKey> from_bytes(std::span<const std::uint8_t> key,
                                    std::span<const std::uint8_t> nonce_prefix);

  const SecretBytes& key() const { return key_; }
  const BlobNoncePrefix& nonce_prefix() const { return prefix_; }

 private:
  BlobKey(SecretBytes key, const BlobNoncePrefix& prefix) : key_(std::move(key)), prefix_(prefix) {}
  SecretBytes key_;
  BlobNoncePrefix prefix_{};
};

// Number of chunks of a `plaintext_size`-byte file: max(1, ceil(size / C)).
std::uint64_t blob_chunk_count(std::uint64_t plaintext_size);
// The blob's size: size + 16 * chunk count.
std::uint64_t blob_ciphertext_size(std::uint64_t plaintext_size);
// Plaintext bytes in chunk `index` of a `plaintext_size`-byte file (C for all but the last,
// 0..C for the last); 0 for an index past the end.
std::size_t blob_chunk_plain_size(std::uint64_t plaintext_size, std::uint64_t index);

// Seals chunk `index` (at most C bytes; `last` for the final chunk): |plain| + 16 bytes.
// kInvalidArgument for a chunk over C bytes, a non-final chunk that is not exactly C bytes,
// or an index over 2^32 - 1.
Result<std::vector<std::uint8_t>> seal_blob_chunk(const BlobKey& key, std::uint64_t index,
                                                  bool last, std::span<const std::uint8_t> plain);
// Opens sealed chunk `index`: its plaintext, or kCorrupt "blob chunk <i> failed
// authentication" (changed byte, wrong key, wrong position or last flag) / kCorrupt for a
// sealed chunk shorter than a tag or longer than C + 16.
Result<std::vector<std::uint8_t>> open_blob_chunk(const BlobKey& key, std::uint64_t index,
                                                  bool last, std::span<const std::uint8_t> sealed);

}  // namespace secchats::crypto::v2
