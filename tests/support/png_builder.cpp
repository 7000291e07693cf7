#include "support/png_builder.hpp"

#include <zlib.h>

#include <random>
#include <stdexcept>

namespace secchats::testing {
namespace {

void put_u32(std::string& out, std::uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

constexpr std::string_view kSignature{"\x89PNG\r\n\x1a\n", 8};

}  // namespace

std::string png_chunk(std::string_view type, std::string_view data) {
  std::string out;
  put_u32(out, static_cast<std::uint32_t>(data.size()));
  std::string typed(type);
  typed += data;
  out += typed;
  put_u32(out, static_cast<std::uint32_t>(::crc32(0, reinterpret_cast<const Bytef*>(typed.data()),
                                                  static_cast<uInt>(typed.size()))));
  return out;
}

std::string png_ihdr(std::uint32_t width, std::uint32_t height) {
  std::string data;
  put_u32(data, width);
  put_u32(data, height);
  data += std::string_view("\x08\x00\x00\x00\x00", 5);  // depth 8, gray, deflate, filter, none
  return png_chunk("IHDR", data);
}

std::string make_png(std::uint32_t width, std::uint32_t height, std::size_t total_size) {
  std::string raw;
  std::mt19937 rng(width * 31u + height);
  for (std::uint32_t y = 0; y < height; ++y) {
    raw.push_back('\0');  // filter type None
    for (std::uint32_t x = 0; x < width; ++x)
      raw.push_back(static_cast<char>(rng()));
  }
  uLongf packed_size = ::compressBound(static_cast<uLong>(raw.size()));
  std::string packed(packed_size, '\0');
  if (::compress(reinterpret_cast<Bytef*>(packed.data()), &packed_size,
                 reinterpret_cast<const Bytef*>(raw.data()),
                 static_cast<uLong>(raw.size())) != Z_OK) {
    throw std::runtime_error("zlib compress failed");
  }
  packed.resize(packed_size);
  std::string png(kSignature);
  png += png_ihdr(width, height);
  png += png_chunk("IDAT", packed);
  const std::string end = png_chunk("IEND", "");
  constexpr std::size_t kChunkOverhead = 12;
  if (total_size > png.size() + end.size()) {
    const std::size_t room = total_size - png.size() - end.size();
    if (room < kChunkOverhead) throw std::runtime_error("make_png: cannot pad by so little");
    png += png_chunk("prVt", std::string(room - kChunkOverhead, 'p'));
  }
  png += end;
  return png;
}

}  // namespace secchats::testing
