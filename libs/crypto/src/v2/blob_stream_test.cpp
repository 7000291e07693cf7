#include "secchats/crypto/v2/blob_stream.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "secchats/crypto/hash.hpp"

namespace secchats::crypto::v2 {
namespace {

std::vector<std::uint8_t> filled(std::size_t n) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = static_cast<std::uint8_t>(i * 131 + 7);
  return v;
}

// The whole blob, chunk by chunk, as a sender builds it.
std::vector<std::vector<std::uint8_t>> seal_all(const BlobKey& key,
                                                const std::vector<std::uint8_t>& plain) {
  std::vector<std::vector<std::uint8_t>> chunks;
  const std::uint64_t count = blob_chunk_count(plain.size());
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::size_t begin = static_cast<std::size_t>(i * kBlobChunkSize);
    const std::size_t size = blob_chunk_plain_size(plain.size(), i);
    auto sealed = seal_blob_chunk(key, i, i + 1 == count,
                                  std::span<const std::uint8_t>(plain).subspan(begin, size));
    EXPECT_TRUE(sealed.ok());
    chunks.push_back(std::move(*sealed));
  }
  return chunks;
}

// What a receiver does with `chunks` for a file it was told has `size` bytes.
Result<std::vector<std::uint8_t>> open_all(const BlobKey& key, std::uint64_t size,
                                           const std::vector<std::vector<std::uint8_t>>& chunks) {
  const std::uint64_t count = blob_chunk_count(size);
  if (chunks.size() != count) return Error(ErrorCode::kCorrupt, "wrong chunk count");
  std::vector<std::uint8_t> out;
  for (std::uint64_t i = 0; i < count; ++i) {
    SC_ASSIGN_OR_RETURN(auto plain, open_blob_chunk(key, i, i + 1 == count, chunks[i]));
    out.insert(out.end(), plain.begin(), plain.end());
  }
  return out;
}

TEST(BlobStreamTest, SizesFollowTheSpec) {
  EXPECT_EQ(blob_chunk_count(0), 1u);
  EXPECT_EQ(blob_chunk_count(1), 1u);
  EXPECT_EQ(blob_chunk_count(65536), 1u);
  EXPECT_EQ(blob_chunk_count(65537), 2u);
  EXPECT_EQ(blob_ciphertext_size(0), 16u);
  EXPECT_EQ(blob_ciphertext_size(65535), 65535u + 16u);
  EXPECT_EQ(blob_ciphertext_size(65537), 65537u + 32u);
  EXPECT_EQ(blob_ciphertext_size(3 * 65536), 3u * 65536u + 48u);
  EXPECT_EQ(blob_chunk_plain_size(65537, 0), 65536u);
  EXPECT_EQ(blob_chunk_plain_size(65537, 1), 1u);
  EXPECT_EQ(blob_chunk_plain_size(65537, 2), 0u);
  EXPECT_EQ(blob_chunk_plain_size(0, 0), 0u);
}

TEST(BlobStreamTest, RoundTripAtChunkBoundaries) {
  const auto key = BlobKey::generate();
  for (std::size_t n : {0u, 1u, 65535u, 65536u, 65537u, 3u * 65536u, 3u * 65536u - 5u}) {
    const auto plain = filled(n);
    const auto chunks = seal_all(key, plain);
    std::uint64_t total = 0;
    for (const auto& c : chunks)
      total += c.size();
    EXPECT_EQ(total, blob_ciphertext_size(n)) << n;
    auto back = open_all(key, n, chunks);
    ASSERT_TRUE(back.ok()) << n << ": " << back.error().message();
    EXPECT_EQ(*back, plain) << n;
  }
}

TEST(BlobStreamTest, SealingIsDeterministicSoUploadsCanResume) {
  const auto key = BlobKey::generate();
  const auto plain = filled(3 * 65536 + 10);
  EXPECT_EQ(seal_all(key, plain), seal_all(key, plain));
  const auto other = BlobKey::generate();
  EXPECT_NE(seal_all(key, plain), seal_all(other, plain));
}

TEST(BlobStreamTest, MatchesTheSpecNonceLayout) {
  // nonce = P || be32(i) || last: check against libsodium-independent expectations by
  // re-keying with a known key and comparing against a chunk sealed at a different index.
  std::vector<std::uint8_t> k(32, 0x42), p(19, 0x07);
  auto key = BlobKey::from_bytes(k, p);
  ASSERT_TRUE(key.ok());
  const auto plain = filled(100);
  auto a = seal_blob_chunk(*key, 0, true, plain);
  auto b = seal_blob_chunk(*key, 1, true, plain);
  auto c = seal_blob_chunk(*key, 0, false, filled(65536));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_NE(*a, *b);
  EXPECT_EQ(a->size(), 116u);
}

TEST(BlobStreamTest, FlippedByteIsRefused) {
  const auto key = BlobKey::generate();
  const auto plain = filled(2 * 65536 + 3);
  auto chunks = seal_all(key, plain);
  chunks[1][500] ^= 0x01;
  auto back = open_all(key, plain.size(), chunks);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.error().code(), ErrorCode::kCorrupt);
}

TEST(BlobStreamTest, SwappedChunksAreRefused) {
  const auto key = BlobKey::generate();
  const auto plain = filled(3 * 65536);
  auto chunks = seal_all(key, plain);
  std::swap(chunks[0], chunks[1]);
  auto back = open_all(key, plain.size(), chunks);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.error().code(), ErrorCode::kCorrupt);
}

TEST(BlobStreamTest, DroppedLastChunkIsRefused) {
  // The blob cut at a chunk boundary: the new last chunk was sealed as "not last".
  const auto key = BlobKey::generate();
  const auto plain = filled(3 * 65536);
  auto chunks = seal_all(key, plain);
  chunks.pop_back();
  auto back = open_all(key, 2 * 65536, chunks);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.error().code(), ErrorCode::kCorrupt);
}

TEST(BlobStreamTest, WrongKeyOrPrefixIsRefused) {
  const auto key = BlobKey::generate();
  const auto plain = filled(1000);
  const auto chunks = seal_all(key, plain);
  auto wrong = open_all(BlobKey::generate(), plain.size(), chunks);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code(), ErrorCode::kCorrupt);

  std::vector<std::uint8_t> k(key.key().span().begin(), key.key().span().end());
  std::vector<std::uint8_t> p(key.nonce_prefix().begin(), key.nonce_prefix().end());
  p[0] ^= 0x80;
  auto shifted = BlobKey::from_bytes(k, p);
  ASSERT_TRUE(shifted.ok());
  EXPECT_FALSE(open_all(*shifted, plain.size(), chunks).ok());
}

TEST(BlobStreamTest, BadInputIsRefused) {
  std::vector<std::uint8_t> k(31), p(19);
  EXPECT_EQ(BlobKey::from_bytes(k, p).error().code(), ErrorCode::kInvalidArgument);
  k.resize(32);
  p.resize(18);
  EXPECT_EQ(BlobKey::from_bytes(k, p).error().code(), ErrorCode::kInvalidArgument);
  const auto key = BlobKey::generate();
  EXPECT_FALSE(seal_blob_chunk(key, 0, false, filled(100)).ok());  // short non-final chunk
  EXPECT_FALSE(seal_blob_chunk(key, 0, true, filled(65537)).ok());
  EXPECT_EQ(open_blob_chunk(key, 0, true, filled(15)).error().code(), ErrorCode::kCorrupt);
}

TEST(Sha256HasherTest, PiecesEqualTheWhole) {
  const auto data = filled(200000);
  Sha256Hasher hasher;
  hasher.update(std::span<const std::uint8_t>(data).subspan(0, 12345));
  hasher.update(std::span<const std::uint8_t>(data).subspan(12345));
  EXPECT_EQ(hasher.finish(), sha256(data));
}

}  // namespace
}  // namespace secchats::crypto::v2
