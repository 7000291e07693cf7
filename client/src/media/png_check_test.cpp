#include "secchats/media/png_check.hpp"

#include <gtest/gtest.h>

#include <string>

#include "support/png_builder.hpp"

namespace secchats::media {
namespace {

using secchats::testing::make_png;
using secchats::testing::png_chunk;
using secchats::testing::png_ihdr;

Status check(const std::string& bytes) {
  return check_png({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
}

const std::string kSignature{"\x89PNG\r\n\x1a\n", 8};

TEST(PngCheck, AcceptsAWholePng) {
  EXPECT_TRUE(check(make_png(1, 1)).ok());
  EXPECT_TRUE(check(make_png(64, 48)).ok());
  // Padded with a private ancillary chunk, as the e2e tests do.
  const std::string padded = make_png(16, 16, 20000);
  EXPECT_EQ(padded.size(), 20000u);
  EXPECT_TRUE(check(padded).ok());
}

TEST(PngCheck, RefusesWhatIsNotAPng) {
  EXPECT_EQ(check("").error().message(), "not a PNG file");
  EXPECT_EQ(check("plain text, not an image").error().message(), "not a PNG file");
}

TEST(PngCheck, RefusesAPngCutShort) {
  const std::string whole = make_png(64, 64);
  // Only the signature; inside IHDR; after IHDR; half-way through the image data; no IEND.
  for (std::size_t cut : {std::size_t{8}, std::size_t{20}, std::size_t{33}, whole.size() / 2}) {
    Status s = check(whole.substr(0, cut));
    ASSERT_FALSE(s.ok()) << "cut at " << cut;
    EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(s.error().message().rfind("PNG is corrupt or cut short: ", 0), 0u)
        << s.error().message();
  }
}

TEST(PngCheck, RefusesACorruptChunk) {
  std::string png = make_png(32, 32);
  png[45] = static_cast<char>(png[45] ^ 0x55);  // inside IDAT's data: the CRC no longer fits
  Status s = check(png);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument);
}

TEST(PngCheck, RefusesTooManyPixelsBeforeDecoding) {
  // A valid header (correct CRCs) claiming 60000×60000, then a token of image data.
  const std::string bomb =
      kSignature + png_ihdr(60000, 60000) + png_chunk("IDAT", "x") + png_chunk("IEND", "");
  Status s = check(bomb);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kTooLarge);
  EXPECT_NE(s.error().message().find("60000×60000"), std::string::npos) << s.error().message();
  // Within a side but over the total: 8192×4096.
  const std::string rest = png_chunk("IDAT", "x") + png_chunk("IEND", "");
  EXPECT_EQ(check(kSignature + png_ihdr(8192, 4096) + rest).error().code(), ErrorCode::kTooLarge);
  EXPECT_EQ(check(kSignature + png_ihdr(8193, 1) + rest).error().code(), ErrorCode::kTooLarge);
}

TEST(PngCheck, RefusesAHeaderWithoutEnoughImageData) {
  // 4096×4096 is allowed in size, but the data holds far fewer rows.
  const std::string claim =
      kSignature + png_ihdr(4096, 4096) + make_png(8, 8).substr(33, std::string::npos);
  Status s = check(claim);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace secchats::media
