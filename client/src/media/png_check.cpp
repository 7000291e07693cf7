#include "secchats/media/png_check.hpp"

#include <png.h>

#include <cstring>
#include <string>
#include <vector>

namespace secchats::media {

Status check_png(std::span<const std::uint8_t> png) {
  if (png.size() < 8 || png_sig_cmp(png.data(), 0, 8) != 0) {
    return Error(ErrorCode::kInvalidArgument, "not a PNG file");
  }
  // libpng's simplified API: its errors come back as a return value and image.message (it
  // keeps its own setjmp inside), and it reads the whole stream from memory.
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  const auto corrupt = [&image] {
    std::string reason = image.message[0] != '\0' ? image.message : "unreadable";
    png_image_free(&image);
    return Error(ErrorCode::kInvalidArgument, "PNG is corrupt or cut short: " + reason);
  };
  if (png_image_begin_read_from_memory(&image, png.data(), png.size()) == 0) return corrupt();
  const std::uint64_t pixels = std::uint64_t{image.width} * std::uint64_t{image.height};
  if (image.width == 0 || image.height == 0 || image.width > kMaxPngSide ||
      image.height > kMaxPngSide || pixels > kMaxPngPixels) {
    const std::string size = std::to_string(image.width) + "×" + std::to_string(image.height);
    png_image_free(&image);
    return Error(ErrorCode::kTooLarge, "PNG is " + size + " pixels: at most " +
                                           std::to_string(kMaxPngSide) + " on a side and " +
                                           std::to_string(kMaxPngPixels) + " in all");
  }
  // One byte per pixel is enough to make libpng inflate and check every row.
  image.format = PNG_FORMAT_GRAY;
  std::vector<std::uint8_t> buffer(static_cast<std::size_t>(pixels));
  const png_color white{255, 255, 255};
  if (png_image_finish_read(&image, &white, buffer.data(), 0, nullptr) == 0) return corrupt();
  png_image_free(&image);
  return ok_status();
}

}  // namespace secchats::media
