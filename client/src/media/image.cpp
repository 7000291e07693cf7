// The photo pipeline: decode (image_decode.cpp), turn upright, scale, and re-encode within a
// byte bound (image_pixels.cpp). Re-encoding from pixels is what drops EXIF (GPS included),
// XMP and comments: nothing of the input but its pixels reaches the output.
#include <algorithm>
#include <cmath>

#include "image_internal.hpp"
#include "secchats/media/image.hpp"

namespace secchats::media {
namespace {

struct Plan {
  std::uint32_t long_edge = 4096;
  std::size_t max_bytes = 0;
  int first_quality = 88;
  int last_quality = 60;
  std::uint32_t min_edge = 640;  // smallest long edge tried before giving up on max_bytes
  bool keep_png = true;
};

Result<EncodedImage> finish(std::vector<std::uint8_t> bytes, const char* type,
                            const detail::Pixels& px) {
  return EncodedImage{std::move(bytes), type, px.width, px.height};
}

Result<EncodedImage> encode_within(detail::Pixels upright, bool was_png, const Plan& plan) {
  SC_ASSIGN_OR_RETURN(detail::Pixels fitted, detail::scale_to_fit(upright, plan.long_edge));
  upright = {};
  if (was_png && plan.keep_png) {
    SC_ASSIGN_OR_RETURN(auto png, detail::encode_png(fitted));
    if (plan.max_bytes == 0 || png.size() <= plan.max_bytes) {
      return finish(std::move(png), "image/png", fitted);
    }
  }
  const detail::Pixels base = detail::flatten_on_white(std::move(fitted));
  if (plan.max_bytes == 0) {
    SC_ASSIGN_OR_RETURN(auto jpeg, detail::encode_jpeg(base, plan.first_quality));
    return finish(std::move(jpeg), "image/jpeg", base);
  }
  // Qualities tried at each size, best first; then a smaller size, estimated from how far
  // the smallest attempt overshot (bytes grow about with the pixel count).
  std::vector<int> qualities{plan.first_quality, std::min(plan.first_quality, 75),
                             std::min(plan.first_quality, plan.last_quality)};
  qualities.erase(std::unique(qualities.begin(), qualities.end()), qualities.end());
  const std::uint32_t floor_edge = std::min(plan.min_edge, std::max(base.width, base.height));
  detail::Pixels current = base;
  for (;;) {
    const std::uint32_t edge = std::max(current.width, current.height);
    std::size_t last_size = 0;
    for (int q : qualities) {
      SC_ASSIGN_OR_RETURN(auto jpeg, detail::encode_jpeg(current, q));
      if (jpeg.size() <= plan.max_bytes) return finish(std::move(jpeg), "image/jpeg", current);
      last_size = jpeg.size();
    }
    if (edge <= floor_edge) {
      return Error(ErrorCode::kTooLarge, "image does not fit in " + std::to_string(plan.max_bytes) +
                                             " bytes even at " + std::to_string(floor_edge) +
                                             " px");
    }
    const double ratio = std::sqrt(static_cast<double>(plan.max_bytes) / last_size) * 0.95;
    const auto next = static_cast<std::uint32_t>(edge * std::min(0.85, ratio));
    SC_ASSIGN_OR_RETURN(current, detail::scale_to_fit(base, std::max(next, floor_edge)));
  }
}

Result<EncodedImage> run(std::span<const std::uint8_t> input, const Plan& plan) {
  SC_ASSIGN_OR_RETURN(detail::Decoded d, detail::decode_image(input, plan.long_edge));
  return encode_within(detail::apply_orientation(std::move(d.pixels), d.orientation), d.was_png,
                       plan);
}

Plan thumbnail_plan() {
  Plan plan;
  plan.long_edge = 320;
  plan.max_bytes = 16 * 1024;
  plan.first_quality = 75;
  plan.last_quality = 40;
  plan.min_edge = 96;
  plan.keep_png = false;
  return plan;
}

}  // namespace

namespace detail {
Result<EncodedImage> thumbnail_from_pixels(Pixels upright) {
  return encode_within(std::move(upright), false, thumbnail_plan());
}
}  // namespace detail

Result<EncodedImage> prepare_photo(std::span<const std::uint8_t> input, const PhotoLimits& limits) {
  Plan plan;
  plan.long_edge = limits.max_long_edge == 0 ? detail::kMaxSide : limits.max_long_edge;
  plan.max_bytes = limits.max_bytes;
  plan.first_quality = std::clamp(limits.jpeg_quality, 1, 100);
  plan.min_edge = std::min<std::uint32_t>(640, plan.long_edge);
  plan.keep_png = limits.keep_png;
  return run(input, plan);
}

Result<EncodedImage> make_thumbnail(std::span<const std::uint8_t> input) {
  return run(input, thumbnail_plan());
}

Result<EncodedImage> prepare_v1_photo(std::span<const std::uint8_t> input) {
  PhotoLimits limits;
  limits.max_long_edge = 2048;
  limits.max_bytes = kMaxV1ImageBytes;
  return prepare_photo(input, limits);
}

}  // namespace secchats::media
