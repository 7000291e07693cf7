// Decoders for the photo pipeline, one per format, each through the library's error-returning
// API (TurboJPEG, libpng's simplified png_image, libwebp, giflib's record reader, libheif) so
// no longjmp crosses our code. Every decoder reads the header's dimensions and checks them
// (check_dimensions) before it allocates pixel memory.
#include <gif_lib.h>
#include <libexif/exif-data.h>
#include <libheif/heif.h>
#include <png.h>
#include <turbojpeg.h>
#include <webp/decode.h>
#include <webp/demux.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "image_internal.hpp"
#include "secchats/media/image.hpp"

namespace secchats::media {

std::string sniff_image_type(std::span<const std::uint8_t> b) {
  auto starts = [&b](std::size_t at, std::string_view magic) {
    return b.size() >= at + magic.size() &&
           std::memcmp(b.data() + at, magic.data(), magic.size()) == 0;
  };
  if (starts(0, "\xFF\xD8\xFF")) return "image/jpeg";
  if (starts(0, "\x89PNG\r\n\x1A\n")) return "image/png";
  if (starts(0, "RIFF") && starts(8, "WEBP")) return "image/webp";
  if (starts(0, "GIF87a") || starts(0, "GIF89a")) return "image/gif";
  // ISO-BMFF: a "ftyp" box whose major brand is one of HEIF's still-image brands.
  if (starts(4, "ftyp")) {
    for (std::string_view brand :
         {"heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1"}) {
      if (starts(8, brand)) return "image/heic";
    }
  }
  return "";
}

namespace detail {
namespace {

// libexif finds the APP1 "Exif" segment among the JPEG's markers itself.
int jpeg_orientation(std::span<const std::uint8_t> jpeg) {
  ExifData* exif = exif_data_new_from_data(jpeg.data(), static_cast<unsigned int>(jpeg.size()));
  if (exif == nullptr) return 1;
  int orientation = 1;
  if (ExifEntry* e = exif_data_get_entry(exif, EXIF_TAG_ORIENTATION);
      e != nullptr && e->format == EXIF_FORMAT_SHORT && e->components >= 1 && e->data != nullptr) {
    orientation = exif_get_short(e->data, exif_data_get_byte_order(exif));
  }
  exif_data_unref(exif);
  return orientation >= 1 && orientation <= 8 ? orientation : 1;
}

Result<Decoded> decode_jpeg(std::span<const std::uint8_t> in, std::uint32_t wanted_long_edge) {
  std::unique_ptr<void, int (*)(tjhandle)> tj(tjInitDecompress(), tjDestroy);
  if (!tj) return Error(ErrorCode::kInternal, "cannot start the JPEG decoder");
  int w = 0, h = 0, subsamp = 0, colorspace = 0;
  auto* buf = const_cast<unsigned char*>(in.data());
  const auto size = static_cast<unsigned long>(in.size());
  if (tjDecompressHeader3(tj.get(), buf, size, &w, &h, &subsamp, &colorspace) != 0) {
    return corrupt(tjGetErrorStr2(tj.get()));
  }
  SC_TRY(check_dimensions(static_cast<std::uint64_t>(std::max(w, 0)),
                          static_cast<std::uint64_t>(std::max(h, 0))));
  // The smallest DCT scale (≤ 1) whose long edge still reaches what the caller needs: a 12 MP
  // photo wanted at 2048 px decodes at 1/2 (a quarter of the memory and work).
  int n = 0;
  const tjscalingfactor* factors = tjGetScalingFactors(&n);
  tjscalingfactor best{1, 1};
  const int long_edge = std::max(w, h);
  for (int i = 0; i < n; ++i) {
    const tjscalingfactor f = factors[i];
    if (f.num > f.denom) continue;
    const int scaled = TJSCALED(long_edge, f);
    if (scaled >= static_cast<int>(wanted_long_edge) && scaled < TJSCALED(long_edge, best)) {
      best = f;
    }
  }
  Decoded d;
  d.pixels.width = static_cast<std::uint32_t>(TJSCALED(w, best));
  d.pixels.height = static_cast<std::uint32_t>(TJSCALED(h, best));
  d.pixels.channels = 3;
  d.pixels.data.resize(std::size_t{d.pixels.width} * d.pixels.height * 3);
  if (tjDecompress2(tj.get(), buf, size, d.pixels.data.data(), static_cast<int>(d.pixels.width), 0,
                    static_cast<int>(d.pixels.height), TJPF_RGB, TJFLAG_ACCURATEDCT) != 0) {
    const std::string reason = tjGetErrorStr2(tj.get());
    // Warnings (a few stray bytes before a marker) leave a whole picture and are common in
    // phone photos; a file cut short leaves grey rows and is refused.
    if (tjGetErrorCode(tj.get()) == TJERR_FATAL ||
        reason.find("Premature end") != std::string::npos) {
      return corrupt(reason);
    }
  }
  d.orientation = jpeg_orientation(in);
  return d;
}

Result<Decoded> decode_png(std::span<const std::uint8_t> in) {
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  auto fail = [&image] {
    std::string reason = image.message[0] != '\0' ? image.message : "unreadable";
    png_image_free(&image);
    return corrupt(reason);
  };
  if (png_image_begin_read_from_memory(&image, in.data(), in.size()) == 0) return fail();
  if (Status s = check_dimensions(image.width, image.height); !s.ok()) {
    png_image_free(&image);
    return s.error();
  }
  Decoded d;
  d.was_png = true;
  const bool alpha = (image.format & PNG_FORMAT_FLAG_ALPHA) != 0;
  image.format = alpha ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB;
  d.pixels = Pixels{image.width, image.height, alpha ? 4 : 3, {}};
  d.pixels.data.resize(std::size_t{image.width} * image.height * (alpha ? 4 : 3));
  if (png_image_finish_read(&image, nullptr, d.pixels.data.data(), 0, nullptr) == 0) return fail();
  png_image_free(&image);
  return d;
}

Result<Decoded> decode_webp(std::span<const std::uint8_t> in) {
  WebPBitstreamFeatures f;
  if (WebPGetFeatures(in.data(), in.size(), &f) != VP8_STATUS_OK) {
    return corrupt("bad WebP header");
  }
  SC_TRY(check_dimensions(static_cast<std::uint64_t>(std::max(f.width, 0)),
                          static_cast<std::uint64_t>(std::max(f.height, 0))));
  Decoded d;
  const std::uint32_t w = static_cast<std::uint32_t>(f.width),
                      h = static_cast<std::uint32_t>(f.height);
  d.pixels = Pixels{w, h, 4, std::vector<std::uint8_t>(std::size_t{w} * h * 4)};
  if (!f.has_animation) {
    if (WebPDecodeRGBAInto(in.data(), in.size(), d.pixels.data.data(), d.pixels.data.size(),
                           static_cast<int>(w * 4)) == nullptr) {
      return corrupt("WebP image data does not decode");
    }
    return d;
  }
  // An animated WebP: its first frame, composed on the canvas.
  WebPData data{in.data(), in.size()};
  WebPAnimDecoderOptions opts;
  WebPAnimDecoderOptionsInit(&opts);
  opts.color_mode = MODE_RGBA;
  std::unique_ptr<WebPAnimDecoder, void (*)(WebPAnimDecoder*)> dec(WebPAnimDecoderNew(&data, &opts),
                                                                   WebPAnimDecoderDelete);
  WebPAnimInfo info;
  if (!dec || !WebPAnimDecoderGetInfo(dec.get(), &info)) return corrupt("bad animated WebP");
  SC_TRY(check_dimensions(info.canvas_width, info.canvas_height));
  std::uint8_t* frame = nullptr;
  int timestamp = 0;
  if (!WebPAnimDecoderGetNext(dec.get(), &frame, &timestamp) || frame == nullptr) {
    return corrupt("animated WebP has no decodable frame");
  }
  d.pixels = Pixels{info.canvas_width, info.canvas_height, 4, {}};
  d.pixels.data.assign(frame, frame + std::size_t{info.canvas_width} * info.canvas_height * 4);
  return d;
}

struct GifSource {
  std::span<const std::uint8_t> bytes;
  std::size_t offset = 0;
};

int gif_read(GifFileType* gif, GifByteType* out, int n) {
  auto* src = static_cast<GifSource*>(gif->UserData);
  const std::size_t k =
      std::min(static_cast<std::size_t>(std::max(n, 0)), src->bytes.size() - src->offset);
  std::memcpy(out, src->bytes.data() + src->offset, k);
  src->offset += k;
  return static_cast<int>(k);
}

// The first frame only, read record by record (DGifSlurp would decode every frame).
Result<Decoded> decode_gif(std::span<const std::uint8_t> in) {
  GifSource src{in, 0};
  int err = 0;
  GifFileType* raw = DGifOpen(&src, gif_read, &err);
  if (raw == nullptr) return corrupt(GifErrorString(err) ? GifErrorString(err) : "bad GIF");
  auto close = [](GifFileType* g) {
    int e = 0;
    DGifCloseFile(g, &e);
  };
  std::unique_ptr<GifFileType, decltype(close)> gif(raw, close);
  auto gif_error = [&gif] {
    const char* s = GifErrorString(gif->Error);
    return corrupt(s != nullptr ? s : "bad GIF");
  };
  SC_TRY(check_dimensions(static_cast<std::uint64_t>(std::max(gif->SWidth, 0)),
                          static_cast<std::uint64_t>(std::max(gif->SHeight, 0))));
  int transparent = -1;
  for (;;) {
    GifRecordType type = UNDEFINED_RECORD_TYPE;
    if (DGifGetRecordType(gif.get(), &type) == GIF_ERROR) return gif_error();
    if (type == TERMINATE_RECORD_TYPE) return corrupt("GIF has no image");
    if (type == EXTENSION_RECORD_TYPE) {
      int code = 0;
      GifByteType* ext = nullptr;
      if (DGifGetExtension(gif.get(), &code, &ext) == GIF_ERROR) return gif_error();
      if (code == GRAPHICS_EXT_FUNC_CODE && ext != nullptr && ext[0] >= 4 && (ext[1] & 1) != 0) {
        transparent = ext[4];
      }
      while (ext != nullptr) {
        if (DGifGetExtensionNext(gif.get(), &ext) == GIF_ERROR) return gif_error();
      }
      continue;
    }
    if (type != IMAGE_DESC_RECORD_TYPE) continue;
    if (DGifGetImageDesc(gif.get()) == GIF_ERROR) return gif_error();
    const GifImageDesc& desc = gif->Image;
    SC_TRY(check_dimensions(static_cast<std::uint64_t>(std::max(desc.Width, 0)),
                            static_cast<std::uint64_t>(std::max(desc.Height, 0))));
    const ColorMapObject* map = desc.ColorMap != nullptr ? desc.ColorMap : gif->SColorMap;
    if (map == nullptr) return corrupt("GIF has no colour table");
    const std::uint32_t cw = static_cast<std::uint32_t>(gif->SWidth);
    const std::uint32_t ch = static_cast<std::uint32_t>(gif->SHeight);
    Decoded d;
    d.pixels = Pixels{cw, ch, 4, std::vector<std::uint8_t>(std::size_t{cw} * ch * 4, 0)};
    std::vector<GifPixelType> row(static_cast<std::size_t>(desc.Width));
    auto put_row = [&](int y) {
      const int cy = desc.Top + y;
      if (cy < 0 || cy >= static_cast<int>(ch)) return;
      for (int x = 0; x < desc.Width; ++x) {
        const int cx = desc.Left + x;
        const int index = row[static_cast<std::size_t>(x)];
        if (cx < 0 || cx >= static_cast<int>(cw) || index == transparent) continue;
        if (index >= map->ColorCount) continue;
        std::uint8_t* p = &d.pixels.data[(std::size_t{static_cast<std::uint32_t>(cy)} * cw +
                                          static_cast<std::uint32_t>(cx)) *
                                         4];
        p[0] = map->Colors[index].Red;
        p[1] = map->Colors[index].Green;
        p[2] = map->Colors[index].Blue;
        p[3] = 255;
      }
    };
    // Interlaced GIFs store rows in four passes (GIF89a appendix E).
    static constexpr int kStart[] = {0, 4, 2, 1};
    static constexpr int kStep[] = {8, 8, 4, 2};
    const int passes = desc.Interlace ? 4 : 1;
    for (int pass = 0; pass < passes; ++pass) {
      const int start = desc.Interlace ? kStart[pass] : 0;
      const int step = desc.Interlace ? kStep[pass] : 1;
      for (int y = start; y < desc.Height; y += step) {
        if (DGifGetLine(gif.get(), row.data(), desc.Width) == GIF_ERROR) return gif_error();
        put_row(y);
      }
    }
    return d;
  }
}

Result<Decoded> decode_heif(std::span<const std::uint8_t> in) {
  static const bool initialised = [] {
    heif_init(nullptr);
    return true;
  }();
  (void)initialised;
  const Error no_hevc(ErrorCode::kInvalidArgument,
                      "HEIC photos cannot be decoded on this system (no HEVC decoder)");
  if (!heif_have_decoder_for_format(heif_compression_HEVC)) return no_hevc;
  std::unique_ptr<heif_context, void (*)(heif_context*)> ctx(heif_context_alloc(),
                                                             heif_context_free);
  if (!ctx) return Error(ErrorCode::kInternal, "cannot start the HEIC decoder");
  heif_error e =
      heif_context_read_from_memory_without_copy(ctx.get(), in.data(), in.size(), nullptr);
  if (e.code != heif_error_Ok) return corrupt(e.message);
  heif_image_handle* raw_handle = nullptr;
  e = heif_context_get_primary_image_handle(ctx.get(), &raw_handle);
  if (e.code != heif_error_Ok) return corrupt(e.message);
  std::unique_ptr<heif_image_handle, void (*)(const heif_image_handle*)> handle(
      raw_handle, heif_image_handle_release);
  SC_TRY(check_dimensions(
      static_cast<std::uint64_t>(std::max(heif_image_handle_get_width(raw_handle), 0)),
      static_cast<std::uint64_t>(std::max(heif_image_handle_get_height(raw_handle), 0))));
  const bool alpha = heif_image_handle_has_alpha_channel(raw_handle) != 0;
  heif_image* raw_image = nullptr;
  // libheif applies the container's rotation and mirroring (irot/imir) while decoding.
  e = heif_decode_image(raw_handle, &raw_image, heif_colorspace_RGB,
                        alpha ? heif_chroma_interleaved_RGBA : heif_chroma_interleaved_RGB,
                        nullptr);
  if (e.code == heif_error_Unsupported_feature || e.code == heif_error_Unsupported_filetype) {
    return no_hevc;
  }
  if (e.code != heif_error_Ok) return corrupt(e.message);
  std::unique_ptr<heif_image, void (*)(const heif_image*)> image(raw_image, heif_image_release);
  int stride = 0;
  const std::uint8_t* plane =
      heif_image_get_plane_readonly(raw_image, heif_channel_interleaved, &stride);
  const int w = heif_image_get_width(raw_image, heif_channel_interleaved);
  const int h = heif_image_get_height(raw_image, heif_channel_interleaved);
  if (plane == nullptr || w <= 0 || h <= 0) return corrupt("HEIC image has no pixels");
  SC_TRY(check_dimensions(static_cast<std::uint64_t>(w), static_cast<std::uint64_t>(h)));
  Decoded d;
  const int c = alpha ? 4 : 3;
  d.pixels = Pixels{static_cast<std::uint32_t>(w), static_cast<std::uint32_t>(h), c, {}};
  const std::size_t row_bytes = static_cast<std::size_t>(w) * static_cast<std::size_t>(c);
  d.pixels.data.resize(row_bytes * static_cast<std::size_t>(h));
  for (int y = 0; y < h; ++y) {
    std::memcpy(d.pixels.data.data() + row_bytes * static_cast<std::size_t>(y),
                plane + static_cast<std::size_t>(stride) * static_cast<std::size_t>(y), row_bytes);
  }
  return d;
}

}  // namespace

Error corrupt(const std::string& reason) {
  std::string one_line = reason.empty() ? "unreadable" : reason;
  std::replace(one_line.begin(), one_line.end(), '\n', ' ');
  return Error(ErrorCode::kInvalidArgument, "image is corrupt or cut short: " + one_line);
}

Error unreadable() {
  return Error(ErrorCode::kInvalidArgument,
               "not an image this client can read (JPEG, PNG, WebP, GIF or HEIC)");
}

Status check_dimensions(std::uint64_t width, std::uint64_t height) {
  if (width == 0 || height == 0) return corrupt("no pixels");
  if (width > kMaxSide || height > kMaxSide || width * height > kMaxPixels) {
    return Error(ErrorCode::kTooLarge, "image is " + std::to_string(width) + "×" +
                                           std::to_string(height) +
                                           " pixels: at most 16384 on a side and 100 megapixels");
  }
  return ok_status();
}

Result<Decoded> decode_image(std::span<const std::uint8_t> bytes, std::uint32_t wanted_long_edge) {
  const std::string type = sniff_image_type(bytes);
  if (type == "image/jpeg") return decode_jpeg(bytes, wanted_long_edge);
  if (type == "image/png") return decode_png(bytes);
  if (type == "image/webp") return decode_webp(bytes);
  if (type == "image/gif") return decode_gif(bytes);
  if (type == "image/heic") return decode_heif(bytes);
  return unreadable();
}

}  // namespace detail
}  // namespace secchats::media
