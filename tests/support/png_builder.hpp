// Builds PNG files chunk by chunk (zlib for CRCs and image data), so tests can make valid
// images of an exact size as well as the broken ones a sender must refuse: cut short, a bad
// CRC, or a header claiming a huge size with valid CRCs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace secchats::testing {

// One chunk: length, type, data, CRC-32 over type and data (PNG spec §5.3).
std::string png_chunk(std::string_view type, std::string_view data);
// An IHDR chunk for an 8-bit grayscale, non-interlaced image.
std::string png_ihdr(std::uint32_t width, std::uint32_t height);
// A valid 8-bit grayscale PNG with pseudo-random pixels. With `total_size` above the natural
// size, a private ancillary chunk ("prVt", which decoders skip) pads the file to exactly
// that many bytes.
std::string make_png(std::uint32_t width, std::uint32_t height, std::size_t total_size = 0);

}  // namespace secchats::testing
