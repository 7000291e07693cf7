// Pixel operations of the photo pipeline: EXIF orientation, scaling (libswscale), dropping
// alpha, and encoding (TurboJPEG, libpng's png_image). Encoding from pixels is what drops
// every metadata block: the output holds only what these encoders write themselves.
extern "C" {
#include <libavutil/log.h>
#include <libavutil/pixfmt.h>
#include <libswscale/swscale.h>
}
#include <png.h>
#include <turbojpeg.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>

#include "image_internal.hpp"

namespace secchats::media::detail {

void quiet_ffmpeg_log() {
  static const bool quiet = [] {
    av_log_set_level(AV_LOG_QUIET);
    return true;
  }();
  (void)quiet;
}

Pixels apply_orientation(Pixels in, int orientation) {
  if (orientation <= 1 || orientation > 8) return in;
  const std::size_t w = in.width, h = in.height, c = static_cast<std::size_t>(in.channels);
  const bool swap = orientation >= 5;
  Pixels out{swap ? in.height : in.width, swap ? in.width : in.height, in.channels, {}};
  out.data.resize(in.data.size());
  const std::size_t ow = out.width, oh = out.height;
  for (std::size_t y = 0; y < oh; ++y) {
    for (std::size_t x = 0; x < ow; ++x) {
      // Where output pixel (x, y) comes from in the stored image (EXIF 2.3, tag 0x0112).
      std::size_t sx = x, sy = y;
      switch (orientation) {
        case 2:
          sx = w - 1 - x;
          break;
        case 3:
          sx = w - 1 - x;
          sy = h - 1 - y;
          break;
        case 4:
          sy = h - 1 - y;
          break;
        case 5:
          sx = y;
          sy = x;
          break;
        case 6:
          sx = y;
          sy = h - 1 - x;
          break;
        case 7:
          sx = w - 1 - y;
          sy = h - 1 - x;
          break;
        case 8:
          sx = w - 1 - y;
          sy = x;
          break;
        default:
          break;
      }
      std::memcpy(&out.data[(y * ow + x) * c], &in.data[(sy * w + sx) * c], c);
    }
  }
  return out;
}

Result<Pixels> scale_to_fit(const Pixels& in, std::uint32_t long_edge) {
  const std::uint32_t current = std::max(in.width, in.height);
  if (current <= long_edge || long_edge == 0) return in;
  quiet_ffmpeg_log();
  const double f = static_cast<double>(long_edge) / current;
  const auto nw = std::max<std::uint32_t>(1, static_cast<std::uint32_t>(std::lround(in.width * f)));
  const auto nh =
      std::max<std::uint32_t>(1, static_cast<std::uint32_t>(std::lround(in.height * f)));
  const AVPixelFormat fmt = in.channels == 4 ? AV_PIX_FMT_RGBA : AV_PIX_FMT_RGB24;
  // Area averaging for large reductions (no aliasing on fine detail), Lanczos for small ones.
  const int flags = (f < 0.5 ? SWS_AREA : SWS_LANCZOS) | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT;
  std::unique_ptr<SwsContext, void (*)(SwsContext*)> sws(
      sws_getContext(static_cast<int>(in.width), static_cast<int>(in.height), fmt,
                     static_cast<int>(nw), static_cast<int>(nh), fmt, flags, nullptr, nullptr,
                     nullptr),
      sws_freeContext);
  if (!sws) return Error(ErrorCode::kInternal, "cannot start the image scaler");
  Pixels out{nw, nh, in.channels, {}};
  out.data.resize(std::size_t{nw} * nh * static_cast<std::size_t>(in.channels));
  const std::uint8_t* src[4] = {in.data.data(), nullptr, nullptr, nullptr};
  const int src_stride[4] = {static_cast<int>(in.width) * in.channels, 0, 0, 0};
  std::uint8_t* dst[4] = {out.data.data(), nullptr, nullptr, nullptr};
  const int dst_stride[4] = {static_cast<int>(nw) * in.channels, 0, 0, 0};
  if (sws_scale(sws.get(), src, src_stride, 0, static_cast<int>(in.height), dst, dst_stride) <= 0) {
    return Error(ErrorCode::kInternal, "scaling the image failed");
  }
  return out;
}

Pixels flatten_on_white(Pixels in) {
  if (in.channels != 4) return in;
  Pixels out{in.width, in.height, 3,
             std::vector<std::uint8_t>(std::size_t{in.width} * in.height * 3)};
  const std::size_t n = std::size_t{in.width} * in.height;
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned a = in.data[i * 4 + 3];
    for (std::size_t k = 0; k < 3; ++k) {
      out.data[i * 3 + k] =
          static_cast<std::uint8_t>((in.data[i * 4 + k] * a + 255u * (255u - a) + 127u) / 255u);
    }
  }
  return out;
}

Result<std::vector<std::uint8_t>> encode_jpeg(const Pixels& rgb, int quality) {
  if (rgb.channels != 3) return Error(ErrorCode::kInternal, "JPEG needs RGB pixels");
  std::unique_ptr<void, int (*)(tjhandle)> tj(tjInitCompress(), tjDestroy);
  if (!tj) return Error(ErrorCode::kInternal, "cannot start the JPEG encoder");
  unsigned char* out = nullptr;
  unsigned long size = 0;
  if (tjCompress2(tj.get(), rgb.data.data(), static_cast<int>(rgb.width), 0,
                  static_cast<int>(rgb.height), TJPF_RGB, &out, &size, TJSAMP_420,
                  std::clamp(quality, 1, 100), TJFLAG_ACCURATEDCT) != 0) {
    const std::string reason = tjGetErrorStr2(tj.get());
    tjFree(out);
    return Error(ErrorCode::kInternal, "JPEG encoding failed: " + reason);
  }
  std::vector<std::uint8_t> bytes(out, out + size);
  tjFree(out);
  return bytes;
}

Result<std::vector<std::uint8_t>> encode_png(const Pixels& px) {
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  image.width = px.width;
  image.height = px.height;
  image.format = px.channels == 4 ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB;
  png_alloc_size_t size = 0;
  // The first call measures (an upper bound), the second writes and sets the real size.
  if (png_image_write_to_memory(&image, nullptr, &size, 0, px.data.data(), 0, nullptr) == 0) {
    return Error(ErrorCode::kInternal, std::string("PNG encoding failed: ") + image.message);
  }
  std::vector<std::uint8_t> bytes(size);
  if (png_image_write_to_memory(&image, bytes.data(), &size, 0, px.data.data(), 0, nullptr) == 0) {
    return Error(ErrorCode::kInternal, std::string("PNG encoding failed: ") + image.message);
  }
  bytes.resize(size);
  return bytes;
}

}  // namespace secchats::media::detail
