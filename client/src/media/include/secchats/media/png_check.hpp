// Checks that bytes about to be sent as an image are a whole PNG a receiver can show
// (COMPAT §5 IMG carries PNG bytes; the reference UI decodes them with ImageIO). libpng decodes
// every row, so a file cut after its signature, a bad CRC in a critical chunk, or truncated
// image data is refused here rather than reaching a friend as a broken picture.
#pragma once

#include <cstdint>
#include <span>

#include "secchats/common/result.hpp"

namespace secchats::media {

// Limits on a PNG's header, checked before any pixel memory is allocated: a few bytes of PNG
// can claim 60000×60000 pixels (3.6 gigapixels) and exhaust a receiver's memory.
inline constexpr std::uint32_t kMaxPngSide = 8192;                 // pixels, either side
inline constexpr std::uint64_t kMaxPngPixels = 4096ull * 4096ull;  // width × height

// ok if `png` is a PNG within the limits whose image data decodes completely.
// Errors (kInvalidArgument unless noted), one line each, never the file's contents:
//   "not a PNG file"                                  (no PNG signature)
//   "PNG is corrupt or cut short: <libpng's reason>"  (bad chunk, CRC, truncated data)
//   kTooLarge "PNG is W×H pixels: at most 8192 on a side and 16777216 in all"
Status check_png(std::span<const std::uint8_t> png);

}  // namespace secchats::media
