// What the photo pipeline (image.cpp) shares with its decoders (image_decode.cpp) and pixel
// operations (image_pixels.cpp). Not installed: callers use secchats/media/image.hpp.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "secchats/common/result.hpp"
#include "secchats/media/image.hpp"

namespace secchats::media::detail {

// Decompression-bomb bounds, checked on a format's header before pixel memory is allocated.
inline constexpr std::uint32_t kMaxSide = 16384;             // pixels, either side
inline constexpr std::uint64_t kMaxPixels = 100'000'000ull;  // width × height

// 8-bit interleaved pixels, rows without padding: RGB (channels 3) or RGBA (channels 4).
struct Pixels {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  int channels = 3;
  std::vector<std::uint8_t> data;
};

struct Decoded {
  Pixels pixels;
  int orientation = 1;  // EXIF Orientation 1..8 still to apply (1: already upright)
  bool was_png = false;
};

// kTooLarge with the documented message when w×h exceeds the bounds (or either is 0:
// kInvalidArgument "image is corrupt or cut short: no pixels").
Status check_dimensions(std::uint64_t width, std::uint64_t height);

Error corrupt(const std::string& reason);
Error unreadable();

// Decodes any supported format. `wanted_long_edge` lets JPEG decode at a DCT scale (1/2,
// 1/4, 1/8) whose long edge is still at least that many pixels; others decode at full size.
Result<Decoded> decode_image(std::span<const std::uint8_t> bytes, std::uint32_t wanted_long_edge);

// Applies an EXIF orientation (1..8; others are treated as 1).
Pixels apply_orientation(Pixels in, int orientation);
// Scales so the long edge is at most `long_edge` (never up), with libswscale.
Result<Pixels> scale_to_fit(const Pixels& in, std::uint32_t long_edge);
// Drops the alpha channel, compositing over white (JPEG has none).
Pixels flatten_on_white(Pixels in);

Result<std::vector<std::uint8_t>> encode_jpeg(const Pixels& rgb, int quality);
Result<std::vector<std::uint8_t>> encode_png(const Pixels& px);

// make_thumbnail's bounds (320 px, 16 KiB JPEG) for pixels already upright (a video frame).
Result<EncodedImage> thumbnail_from_pixels(Pixels upright);

// Silences ffmpeg's own log (stderr, which could name the user's files); idempotent.
void quiet_ffmpeg_log();

}  // namespace secchats::media::detail
