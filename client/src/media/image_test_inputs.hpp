// Test inputs for the photo pipeline, made with the same codec libraries it decodes with
// (TurboJPEG, libexif, libpng, libwebp, giflib, libheif), so no binary fixtures are needed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace secchats::media::testing {

using Bytes = std::vector<std::uint8_t>;

// RGB pixels, rows without padding.
struct Rgb {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::vector<std::uint8_t> data;
  std::uint8_t* at(std::uint32_t x, std::uint32_t y) {
    return &data[(std::size_t{y} * width + x) * 3];
  }
  const std::uint8_t* at(std::uint32_t x, std::uint32_t y) const {
    return &data[(std::size_t{y} * width + x) * 3];
  }
};

// A picture: grey with `noise` (0..127) pseudo-random variation per channel, and a pure red
// block of `block` pixels in its top-left corner (to see where the orientation put it).
Rgb make_picture(std::uint32_t width, std::uint32_t height, int noise, std::uint32_t block);

Bytes encode_jpeg(const Rgb& rgb, int quality, bool subsample = true);
Bytes encode_png(const Rgb& rgb);
Bytes encode_webp(const Rgb& rgb);
// A two-frame GIF: the first frame red, the second blue.
Bytes encode_gif_two_frames(std::uint32_t width, std::uint32_t height);
// A HEIC, or nullopt when this libheif has no HEVC encoder.
std::optional<Bytes> encode_heic(const Rgb& rgb);

// What a phone writes into its photos, for the tests to find (or not) in the output.
inline constexpr std::string_view kGpsDatum = "SECRET-GPS-DATUM-48N";
inline constexpr std::string_view kComment = "secret camera comment";
inline constexpr std::string_view kXmpMarker = "secret-xmp-creator";
// The 24 bytes of the GPS latitude (3 rationals), as written (big-endian: Motorola order).
Bytes gps_latitude_bytes();

// Inserts after the SOI marker: an APP1 "Exif" (libexif: Orientation, GPS latitude and
// datum), an APP1 XMP packet and a COM comment.
Bytes add_phone_metadata(const Bytes& jpeg, int orientation);
// Inserts after IHDR: tEXt (a comment) and eXIf chunks.
Bytes add_png_metadata(const Bytes& png);

// Decodes a JPEG or PNG the pipeline produced (RGB), or an empty Rgb on failure.
Rgb decode(const Bytes& bytes);

bool contains(const Bytes& haystack, std::string_view needle);
bool contains(const Bytes& haystack, const Bytes& needle);

}  // namespace secchats::media::testing
