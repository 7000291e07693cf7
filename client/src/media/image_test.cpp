#include <gtest/gtest.h>

#include <iostream>
#include <string>

#include "image_test_inputs.hpp"
#include "secchats/media/image.hpp"
#include "support/png_builder.hpp"

namespace secchats::media {
namespace {

using namespace secchats::media::testing;

bool is_red(const std::uint8_t* p) {
  return p[0] > 180 && p[1] < 80 && p[2] < 80;
}

// No metadata block of the input survives: no Exif APP1, no GPS data, no XMP, no comment.
void expect_no_metadata(const Bytes& out) {
  EXPECT_FALSE(contains(out, std::string_view("Exif\0\0", 6)));
  EXPECT_FALSE(contains(out, std::string_view("eXIf")));
  EXPECT_FALSE(contains(out, kGpsDatum));
  EXPECT_FALSE(contains(out, gps_latitude_bytes()));
  EXPECT_FALSE(contains(out, std::string_view("ns.adobe.com/xap")));
  EXPECT_FALSE(contains(out, kXmpMarker));
  EXPECT_FALSE(contains(out, kComment));
  EXPECT_FALSE(contains(out, std::string_view("tEXt")));
  // JPEG: no APP1 segment, no COM segment right after the header.
  if (out.size() > 4 && out[0] == 0xFF && out[1] == 0xD8) {
    EXPECT_FALSE(contains(out, Bytes{0xFF, 0xE1}));
    EXPECT_FALSE(contains(out, Bytes{0xFF, 0xFE}));
  }
}

TEST(Image, SniffsEachFormat) {
  const Rgb pic = make_picture(16, 8, 10, 4);
  EXPECT_EQ(sniff_image_type(encode_jpeg(pic, 80)), "image/jpeg");
  EXPECT_EQ(sniff_image_type(encode_png(pic)), "image/png");
  EXPECT_EQ(sniff_image_type(encode_webp(pic)), "image/webp");
  EXPECT_EQ(sniff_image_type(encode_gif_two_frames(8, 8)), "image/gif");
  const Bytes heic_head{0, 0, 0, 24, 'f', 't', 'y', 'p', 'h', 'e', 'i', 'c'};
  EXPECT_EQ(sniff_image_type(heic_head), "image/heic");
  const Bytes text{'h', 'e', 'l', 'l', 'o'};
  EXPECT_EQ(sniff_image_type(text), "");
  EXPECT_EQ(sniff_image_type({}), "");
}

// A phone photo: 4032×3024 at quality 98 with noise (≥ 10 MB), EXIF Orientation 6 (the
// camera was held upright: the stored pixels are turned a quarter left) and GPS.
TEST(Image, PhonePhotoBecomesAnUprightV1PhotoWithoutMetadata) {
  const Rgb stored = make_picture(4032, 3024, 60, 600);
  const Bytes photo = add_phone_metadata(encode_jpeg(stored, 98, false), 6);
  ASSERT_GE(photo.size(), 10u * 1000 * 1000);
  ASSERT_TRUE(contains(photo, kGpsDatum));  // the input really carries what must be dropped

  auto out = prepare_v1_photo(photo);
  ASSERT_TRUE(out.ok()) << out.error().message();
  EXPECT_LE(out->bytes.size(), kMaxV1ImageBytes);
  EXPECT_EQ(out->media_type, "image/jpeg");
  EXPECT_LT(out->width, out->height);  // portrait now
  EXPECT_LE(out->height, 2048u);
  expect_no_metadata(out->bytes);

  const Rgb shown = decode(out->bytes);
  ASSERT_EQ(shown.width, out->width);
  ASSERT_EQ(shown.height, out->height);
  // Rotated a quarter right: the stored top-left block is now at the top-right.
  EXPECT_TRUE(is_red(shown.at(shown.width - 5, 5)));
  EXPECT_FALSE(is_red(shown.at(5, 5)));
  EXPECT_FALSE(is_red(shown.at(shown.width - 5, shown.height - 5)));
}

TEST(Image, EveryOrientationEndsUpright) {
  // For each EXIF orientation, the corner where the stored top-left block must be shown.
  struct Case {
    int orientation;
    bool right;
    bool bottom;
  };
  const Rgb stored = make_picture(64, 32, 0, 8);
  for (Case c :
       {Case{1, false, false}, Case{2, true, false}, Case{3, true, true}, Case{4, false, true},
        Case{5, false, false}, Case{6, true, false}, Case{7, true, true}, Case{8, false, true}}) {
    const Bytes photo = add_phone_metadata(encode_jpeg(stored, 95), c.orientation);
    auto out = prepare_photo(photo, PhotoLimits{});
    ASSERT_TRUE(out.ok()) << out.error().message();
    const bool swapped = c.orientation >= 5;
    EXPECT_EQ(out->width, swapped ? 32u : 64u) << c.orientation;
    const Rgb shown = decode(out->bytes);
    const std::uint32_t x = c.right ? shown.width - 3 : 2, y = c.bottom ? shown.height - 3 : 2;
    EXPECT_TRUE(is_red(shown.at(x, y))) << "orientation " << c.orientation;
    expect_no_metadata(out->bytes);
  }
}

TEST(Image, PngStaysPngWithoutItsTextAndExifChunks) {
  const Bytes png = add_png_metadata(encode_png(make_picture(300, 200, 0, 20)));
  ASSERT_TRUE(contains(png, kComment));
  auto out = prepare_v1_photo(png);
  ASSERT_TRUE(out.ok()) << out.error().message();
  EXPECT_EQ(out->media_type, "image/png");
  EXPECT_EQ(sniff_image_type(out->bytes), "image/png");
  EXPECT_EQ(out->width, 300u);
  EXPECT_EQ(out->height, 200u);
  expect_no_metadata(out->bytes);
  EXPECT_TRUE(is_red(decode(out->bytes).at(3, 3)));
}

TEST(Image, NoisyPngOverTheBoundBecomesJpeg) {
  auto out = prepare_v1_photo(encode_png(make_picture(1200, 900, 100, 40)));
  ASSERT_TRUE(out.ok()) << out.error().message();
  EXPECT_EQ(out->media_type, "image/jpeg");
  EXPECT_LE(out->bytes.size(), kMaxV1ImageBytes);
}

TEST(Image, WebpGifAndHeicDecode) {
  const Rgb pic = make_picture(120, 80, 5, 30);
  auto webp = prepare_photo(encode_webp(pic), PhotoLimits{});
  ASSERT_TRUE(webp.ok()) << webp.error().message();
  EXPECT_EQ(webp->media_type, "image/jpeg");
  EXPECT_EQ(webp->width, 120u);
  EXPECT_TRUE(is_red(decode(webp->bytes).at(5, 5)));

  // GIF: the first frame (red), not the second (blue).
  auto gif = prepare_photo(encode_gif_two_frames(40, 30), PhotoLimits{});
  ASSERT_TRUE(gif.ok()) << gif.error().message();
  EXPECT_EQ(gif->width, 40u);
  EXPECT_EQ(gif->height, 30u);
  EXPECT_TRUE(is_red(decode(gif->bytes).at(20, 15)));

  auto heic_input = encode_heic(pic);
  if (!heic_input) {
    GTEST_SKIP() << "this libheif has no HEVC encoder; a file that only claims to be HEIC is "
                    "checked by the next test";
  }
  auto heic = prepare_photo(*heic_input, PhotoLimits{});
  if (!heic.ok()) {
    std::cout << "HEIC: encoded here, but this system cannot decode it\n";
    EXPECT_EQ(heic.error().message(),
              "HEIC photos cannot be decoded on this system (no HEVC decoder)");
    return;
  }
  std::cout << "HEIC: encoded and decoded here\n";
  EXPECT_EQ(heic->width, 120u);
  EXPECT_EQ(heic->height, 80u);
  EXPECT_TRUE(is_red(decode(heic->bytes).at(5, 5)));
}

TEST(Image, HeicThatIsNotOneIsRefusedWithAOneLineError) {
  const Bytes fake{0, 0, 0, 24, 'f', 't', 'y', 'p', 'h', 'e', 'i', 'c',
                   0, 0, 0, 0,  'm', 'i', 'f', '1', 'h', 'e', 'i', 'c'};
  auto out = prepare_photo(fake, PhotoLimits{});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code(), ErrorCode::kInvalidArgument);
  const std::string& m = out.error().message();
  EXPECT_TRUE(m == "HEIC photos cannot be decoded on this system (no HEVC decoder)" ||
              m.rfind("image is corrupt or cut short: ", 0) == 0)
      << m;
  EXPECT_EQ(m.find('\n'), std::string::npos);
}

TEST(Image, RefusesCutShortAndNonImages) {
  const Rgb pic = make_picture(200, 150, 30, 10);
  const Bytes jpeg = encode_jpeg(pic, 90);
  const Bytes png = encode_png(pic);
  for (const Bytes& cut : {Bytes(jpeg.begin(), jpeg.begin() + static_cast<long>(jpeg.size() / 2)),
                           Bytes(jpeg.begin(), jpeg.begin() + 40),
                           Bytes(png.begin(), png.begin() + static_cast<long>(png.size() / 2)),
                           Bytes(png.begin(), png.begin() + 20)}) {
    auto out = prepare_photo(cut, PhotoLimits{});
    ASSERT_FALSE(out.ok()) << "a cut file of " << cut.size() << " bytes was accepted";
    EXPECT_EQ(out.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(out.error().message().rfind("image is corrupt or cut short: ", 0), 0u)
        << out.error().message();
  }
  const std::string text = "just some text, not a photo";
  auto out = prepare_photo(Bytes(text.begin(), text.end()), PhotoLimits{});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().message(),
            "not an image this client can read (JPEG, PNG, WebP, GIF or HEIC)");
  EXPECT_FALSE(make_thumbnail({}).ok());
}

// A header claiming 20000×20000 is refused from the header alone (no 1.2 GB allocation).
TEST(Image, RefusesDecompressionBombsFromTheHeader) {
  const std::string expected =
      "image is 20000×20000 pixels: at most 16384 on a side and 100 megapixels";
  // JPEG: patch the SOF0 frame's height and width.
  Bytes jpeg = encode_jpeg(make_picture(16, 16, 0, 0), 80);
  for (std::size_t i = 2; i + 9 < jpeg.size(); ++i) {
    if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xC0) {
      jpeg[i + 5] = 20000 >> 8, jpeg[i + 6] = 20000 & 0xFF;
      jpeg[i + 7] = 20000 >> 8, jpeg[i + 8] = 20000 & 0xFF;
      break;
    }
  }
  auto j = prepare_photo(jpeg, PhotoLimits{});
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.error().code(), ErrorCode::kTooLarge);
  EXPECT_EQ(j.error().message(), expected);

  // GIF: the logical screen size (little-endian at offset 6).
  Bytes gif = encode_gif_two_frames(8, 8);
  gif[6] = 20000 & 0xFF, gif[7] = 20000 >> 8, gif[8] = 20000 & 0xFF, gif[9] = 20000 >> 8;
  auto g = prepare_photo(gif, PhotoLimits{});
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().message(), expected);

  // 16000×16000 is within a side but 256 megapixels.
  Bytes wide = encode_jpeg(make_picture(16, 16, 0, 0), 80);
  for (std::size_t i = 2; i + 9 < wide.size(); ++i) {
    if (wide[i] == 0xFF && wide[i + 1] == 0xC0) {
      wide[i + 5] = 16000 >> 8, wide[i + 6] = 16000 & 0xFF;
      wide[i + 7] = 16000 >> 8, wide[i + 8] = 16000 & 0xFF;
      break;
    }
  }
  EXPECT_EQ(prepare_photo(wide, PhotoLimits{}).error().code(), ErrorCode::kTooLarge);
}

TEST(Image, PngBombIsRefusedFromItsHeader) {
  // A valid header (correct CRCs) claiming 20000×20000, then a token of image data.
  const std::string bomb =
      std::string("\x89PNG\r\n\x1a\n", 8) + secchats::testing::png_ihdr(20000, 20000) +
      secchats::testing::png_chunk("IDAT", "x") + secchats::testing::png_chunk("IEND", "");
  auto out = prepare_photo(Bytes(bomb.begin(), bomb.end()), PhotoLimits{});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code(), ErrorCode::kTooLarge);
  EXPECT_EQ(out.error().message(),
            "image is 20000×20000 pixels: at most 16384 on a side and 100 megapixels");
}

TEST(Image, MaxBytesForcesDownscaling) {
  const Bytes photo = encode_jpeg(make_picture(1600, 1200, 50, 100), 95);
  PhotoLimits limits;
  limits.max_bytes = 60 * 1024;
  auto out = prepare_photo(photo, limits);
  ASSERT_TRUE(out.ok()) << out.error().message();
  EXPECT_LE(out->bytes.size(), limits.max_bytes);
  EXPECT_LT(out->width, 1600u);
  EXPECT_NEAR(static_cast<double>(out->width) / out->height, 4.0 / 3.0, 0.02);

  // Without a bound nothing is scaled below max_long_edge.
  auto whole = prepare_photo(photo, PhotoLimits{});
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole->width, 1600u);
  PhotoLimits small_edge;
  small_edge.max_long_edge = 400;
  auto fitted = prepare_photo(photo, small_edge);
  ASSERT_TRUE(fitted.ok());
  EXPECT_EQ(fitted->width, 400u);
  EXPECT_EQ(fitted->height, 300u);

  // A bound no 640 px JPEG of noise can meet.
  PhotoLimits tiny;
  tiny.max_bytes = 2000;
  auto refused = prepare_photo(photo, tiny);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kTooLarge);
  EXPECT_EQ(refused.error().message(), "image does not fit in 2000 bytes even at 640 px");
}

TEST(Image, ThumbnailIsSmall) {
  for (const Bytes& input :
       {encode_jpeg(make_picture(4000, 1000, 80, 50), 95),
        encode_png(make_picture(500, 700, 100, 50)), encode_gif_two_frames(30, 20)}) {
    auto t = make_thumbnail(input);
    ASSERT_TRUE(t.ok()) << t.error().message();
    EXPECT_LE(t->bytes.size(), 16u * 1024);
    EXPECT_LE(std::max(t->width, t->height), 320u);
    EXPECT_EQ(t->media_type, "image/jpeg");
    EXPECT_EQ(decode(t->bytes).width, t->width);
  }
}

}  // namespace
}  // namespace secchats::media
