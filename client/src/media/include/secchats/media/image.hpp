// Photos a user sends: decode any common format, apply the EXIF orientation, drop every
// metadata block (EXIF GPS, XMP, comments), scale down and re-encode. The codecs are Debian's
// well-kept libraries (libjpeg-turbo, libpng, libwebp, giflib, libheif; libexif reads the
// orientation; ffmpeg's libswscale scales); nothing here parses a format itself.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "secchats/common/result.hpp"

namespace secchats::media {

// "image/jpeg", "image/png", "image/webp", "image/gif", "image/heic" from the first bytes
// (magic numbers), or "" when none matches.
std::string sniff_image_type(std::span<const std::uint8_t> bytes);

struct EncodedImage {
  std::vector<std::uint8_t> bytes;  // a JPEG or PNG with no metadata block
  std::string media_type;           // "image/jpeg" or "image/png"
  std::uint32_t width = 0;          // pixels, upright (after the EXIF orientation)
  std::uint32_t height = 0;
};

struct PhotoLimits {
  std::uint32_t max_long_edge = 4096;  // pixels; larger photos are scaled down to it
  std::size_t max_bytes = 0;           // 0: no bound; else smaller edges/qualities are tried
  int jpeg_quality = 88;               // 1..100, the first quality tried
  // A PNG input that fits every bound (after dropping its ancillary chunks) stays a PNG —
  // screenshots keep their sharp edges — instead of becoming a JPEG.
  bool keep_png = true;
};

// Decodes `input`, turns it upright, scales it so its long edge is at most max_long_edge,
// and encodes it (JPEG, or PNG as said above) within max_bytes. GIF: the first frame.
// Errors (one line, never the bytes): kInvalidArgument "not an image this client can read
// (JPEG, PNG, WebP, GIF or HEIC)", "image is corrupt or cut short: <reason>", "HEIC photos
// cannot be decoded on this system (no HEVC decoder)"; kTooLarge "image is W×H pixels: at
// most 16384 on a side and 100 megapixels" (checked before pixel memory is allocated),
// "image does not fit in N bytes even at 640 px".
Result<EncodedImage> prepare_photo(std::span<const std::uint8_t> input, const PhotoLimits& limits);

// A thumbnail: long edge at most 320 px, JPEG within 16 KiB (docs/protocol-v2.md §15.2).
// Same errors as prepare_photo.
Result<EncodedImage> make_thumbnail(std::span<const std::uint8_t> input);

// The v1 photo: what an IMG message to a reference-client friend carries (COMPAT §5: base64
// twice inside a v1 message that must fit the relay's 1 MiB body, so at most 384 KiB; that
// client decodes PNG and JPEG). prepare_photo with max_long_edge 2048 and max_bytes 393216.
inline constexpr std::size_t kMaxV1ImageBytes = 384 * 1024;
Result<EncodedImage> prepare_v1_photo(std::span<const std::uint8_t> input);

}  // namespace secchats::media
