#include "image_test_inputs.hpp"

#include <gif_lib.h>
#include <libexif/exif-data.h>
#include <libheif/heif.h>
#include <png.h>
#include <turbojpeg.h>
#include <webp/encode.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <random>

namespace secchats::media::testing {
namespace {

void append(Bytes& out, std::string_view s) {
  out.insert(out.end(), s.begin(), s.end());
}

// One JPEG marker segment: FF, marker, big-endian length (payload + 2), payload.
Bytes segment(std::uint8_t marker, const Bytes& payload) {
  Bytes s{0xFF, marker, static_cast<std::uint8_t>((payload.size() + 2) >> 8),
          static_cast<std::uint8_t>((payload.size() + 2) & 0xFF)};
  s.insert(s.end(), payload.begin(), payload.end());
  return s;
}

ExifEntry* add_entry(ExifData* ed, ExifIfd ifd, ExifTag tag, ExifFormat format,
                     unsigned long components) {
  ExifMem* mem = exif_mem_new_default();
  ExifEntry* e = exif_entry_new_mem(mem);
  const unsigned size = exif_format_get_size(format) * static_cast<unsigned>(components);
  e->data = static_cast<unsigned char*>(exif_mem_alloc(mem, size));
  e->size = size;
  e->tag = tag;
  e->components = components;
  e->format = format;
  exif_content_add_entry(ed->ifd[ifd], e);
  exif_mem_unref(mem);
  exif_entry_unref(e);
  return e;
}

constexpr std::uint32_t kLatitude[6] = {48, 1, 51, 1, 2415, 100};

Bytes exif_app1(int orientation) {
  ExifData* ed = exif_data_new();
  exif_data_unset_option(ed, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
  exif_data_set_byte_order(ed, EXIF_BYTE_ORDER_MOTOROLA);
  ExifEntry* o = add_entry(ed, EXIF_IFD_0, EXIF_TAG_ORIENTATION, EXIF_FORMAT_SHORT, 1);
  exif_set_short(o->data, EXIF_BYTE_ORDER_MOTOROLA, static_cast<ExifShort>(orientation));
  ExifEntry* ref = add_entry(ed, EXIF_IFD_GPS, static_cast<ExifTag>(EXIF_TAG_GPS_LATITUDE_REF),
                             EXIF_FORMAT_ASCII, 2);
  std::memcpy(ref->data, "N", 2);
  ExifEntry* lat = add_entry(ed, EXIF_IFD_GPS, static_cast<ExifTag>(EXIF_TAG_GPS_LATITUDE),
                             EXIF_FORMAT_RATIONAL, 3);
  for (int i = 0; i < 3; ++i) {
    exif_set_rational(lat->data + 8 * i, EXIF_BYTE_ORDER_MOTOROLA,
                      ExifRational{kLatitude[2 * i], kLatitude[2 * i + 1]});
  }
  ExifEntry* datum = add_entry(ed, EXIF_IFD_GPS, static_cast<ExifTag>(EXIF_TAG_GPS_MAP_DATUM),
                               EXIF_FORMAT_ASCII, kGpsDatum.size() + 1);
  std::memcpy(datum->data, kGpsDatum.data(), kGpsDatum.size());
  datum->data[kGpsDatum.size()] = 0;
  unsigned char* raw = nullptr;
  unsigned int size = 0;
  exif_data_save_data(ed, &raw, &size);  // starts with "Exif\0\0"
  Bytes payload(raw, raw + size);
  free(raw);  // NOLINT: libexif allocates with its default (malloc) allocator
  exif_data_unref(ed);
  return segment(0xE1, payload);
}

std::uint32_t crc_of(const Bytes& b) {
  // CRC-32 as PNG uses it (ISO 3309), computed bit by bit: test inputs are small.
  std::uint32_t c = 0xFFFFFFFFu;
  for (std::uint8_t byte : b) {
    c ^= byte;
    for (int k = 0; k < 8; ++k)
      c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return c ^ 0xFFFFFFFFu;
}

Bytes png_chunk(std::string_view type, const Bytes& data) {
  Bytes out;
  const auto n = static_cast<std::uint32_t>(data.size());
  for (int s = 24; s >= 0; s -= 8)
    out.push_back(static_cast<std::uint8_t>(n >> s));
  Bytes body;
  append(body, type);
  body.insert(body.end(), data.begin(), data.end());
  out.insert(out.end(), body.begin(), body.end());
  const std::uint32_t crc = crc_of(body);
  for (int s = 24; s >= 0; s -= 8)
    out.push_back(static_cast<std::uint8_t>(crc >> s));
  return out;
}

}  // namespace

Rgb make_picture(std::uint32_t width, std::uint32_t height, int noise, std::uint32_t block) {
  Rgb rgb{width, height, std::vector<std::uint8_t>(std::size_t{width} * height * 3)};
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> d(-noise, noise);
  for (std::uint32_t y = 0; y < height; ++y) {
    for (std::uint32_t x = 0; x < width; ++x) {
      std::uint8_t* p = rgb.at(x, y);
      if (x < block && y < block) {
        p[0] = 230, p[1] = 10, p[2] = 10;
        continue;
      }
      for (int k = 0; k < 3; ++k)
        p[k] = static_cast<std::uint8_t>(std::clamp(128 + d(rng), 0, 255));
    }
  }
  return rgb;
}

Bytes encode_jpeg(const Rgb& rgb, int quality, bool subsample) {
  tjhandle tj = tjInitCompress();
  unsigned char* out = nullptr;
  unsigned long size = 0;
  tjCompress2(tj, rgb.data.data(), static_cast<int>(rgb.width), 0, static_cast<int>(rgb.height),
              TJPF_RGB, &out, &size, subsample ? TJSAMP_420 : TJSAMP_444, quality, 0);
  Bytes bytes(out, out + size);
  tjFree(out);
  tjDestroy(tj);
  return bytes;
}

Bytes encode_png(const Rgb& rgb) {
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  image.width = rgb.width;
  image.height = rgb.height;
  image.format = PNG_FORMAT_RGB;
  png_alloc_size_t size = 0;
  png_image_write_to_memory(&image, nullptr, &size, 0, rgb.data.data(), 0, nullptr);
  Bytes bytes(size);
  png_image_write_to_memory(&image, bytes.data(), &size, 0, rgb.data.data(), 0, nullptr);
  bytes.resize(size);
  return bytes;
}

Bytes encode_webp(const Rgb& rgb) {
  std::uint8_t* out = nullptr;
  const std::size_t size =
      WebPEncodeRGB(rgb.data.data(), static_cast<int>(rgb.width), static_cast<int>(rgb.height),
                    static_cast<int>(rgb.width * 3), 80.0f, &out);
  Bytes bytes(out, out + size);
  WebPFree(out);
  return bytes;
}

Bytes encode_gif_two_frames(std::uint32_t width, std::uint32_t height) {
  Bytes out;
  auto write = [](GifFileType* gif, const GifByteType* data, int n) {
    auto* sink = static_cast<Bytes*>(gif->UserData);
    sink->insert(sink->end(), data, data + n);
    return n;
  };
  int err = 0;
  GifFileType* gif = EGifOpen(&out, write, &err);
  GifColorType colours[4] = {{0, 0, 0}, {230, 10, 10}, {10, 10, 230}, {255, 255, 255}};
  ColorMapObject* map = GifMakeMapObject(4, colours);
  EGifSetGifVersion(gif, true);
  EGifPutScreenDesc(gif, static_cast<int>(width), static_cast<int>(height), 2, 0, map);
  std::vector<GifPixelType> line(width);
  for (GifPixelType colour : {GifPixelType{1}, GifPixelType{2}}) {
    const GifByteType gce[4] = {0x04, 10, 0, 0};  // disposal 1, 100 ms, no transparency
    EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, 4, gce);
    EGifPutImageDesc(gif, 0, 0, static_cast<int>(width), static_cast<int>(height), false, nullptr);
    std::fill(line.begin(), line.end(), colour);
    for (std::uint32_t y = 0; y < height; ++y)
      EGifPutLine(gif, line.data(), static_cast<int>(width));
  }
  EGifCloseFile(gif, &err);
  GifFreeMapObject(map);
  return out;
}

std::optional<Bytes> encode_heic(const Rgb& rgb) {
  heif_init(nullptr);
  std::unique_ptr<heif_context, void (*)(heif_context*)> ctx(heif_context_alloc(),
                                                             heif_context_free);
  heif_encoder* encoder = nullptr;
  if (heif_context_get_encoder_for_format(ctx.get(), heif_compression_HEVC, &encoder).code !=
      heif_error_Ok) {
    return std::nullopt;
  }
  heif_image* image = nullptr;
  heif_image_create(static_cast<int>(rgb.width), static_cast<int>(rgb.height), heif_colorspace_RGB,
                    heif_chroma_interleaved_RGB, &image);
  heif_image_add_plane(image, heif_channel_interleaved, static_cast<int>(rgb.width),
                       static_cast<int>(rgb.height), 8);
  int stride = 0;
  std::uint8_t* plane = heif_image_get_plane(image, heif_channel_interleaved, &stride);
  for (std::uint32_t y = 0; y < rgb.height; ++y) {
    std::memcpy(plane + static_cast<std::size_t>(stride) * y, rgb.at(0, y),
                std::size_t{rgb.width} * 3);
  }
  heif_encoder_set_lossy_quality(encoder, 80);
  const heif_error e = heif_context_encode_image(ctx.get(), image, encoder, nullptr, nullptr);
  heif_encoder_release(encoder);
  heif_image_release(image);
  if (e.code != heif_error_Ok) return std::nullopt;
  Bytes out;
  heif_writer writer{};
  writer.writer_api_version = 1;
  writer.write = [](heif_context*, const void* data, size_t size, void* user) {
    auto* sink = static_cast<Bytes*>(user);
    const auto* p = static_cast<const std::uint8_t*>(data);
    sink->insert(sink->end(), p, p + size);
    return heif_error{heif_error_Ok, heif_suberror_Unspecified, "ok"};
  };
  if (heif_context_write(ctx.get(), &writer, &out).code != heif_error_Ok) return std::nullopt;
  return out;
}

Bytes gps_latitude_bytes() {
  Bytes b;
  for (std::uint32_t v : kLatitude) {
    for (int s = 24; s >= 0; s -= 8)
      b.push_back(static_cast<std::uint8_t>(v >> s));
  }
  return b;
}

Bytes add_phone_metadata(const Bytes& jpeg, int orientation) {
  Bytes out(jpeg.begin(), jpeg.begin() + 2);  // SOI
  const Bytes exif = exif_app1(orientation);
  out.insert(out.end(), exif.begin(), exif.end());
  Bytes xmp;
  append(xmp, std::string_view("http://ns.adobe.com/xap/1.0/\0", 29));
  append(xmp, "<x:xmpmeta xmlns:x='adobe:ns:meta/'><creator>");
  append(xmp, kXmpMarker);
  append(xmp, "</creator></x:xmpmeta>");
  const Bytes app1_xmp = segment(0xE1, xmp);
  out.insert(out.end(), app1_xmp.begin(), app1_xmp.end());
  Bytes comment;
  append(comment, kComment);
  const Bytes com = segment(0xFE, comment);
  out.insert(out.end(), com.begin(), com.end());
  out.insert(out.end(), jpeg.begin() + 2, jpeg.end());
  return out;
}

Bytes add_png_metadata(const Bytes& png) {
  const std::size_t after_ihdr = 8 + 25;  // signature, then IHDR (4 + 4 + 13 + 4)
  Bytes out(png.begin(), png.begin() + static_cast<std::ptrdiff_t>(after_ihdr));
  Bytes text;
  append(text, std::string_view("Comment\0", 8));
  append(text, kComment);
  const Bytes t = png_chunk("tEXt", text);
  out.insert(out.end(), t.begin(), t.end());
  Bytes exif = exif_app1(1);
  exif.erase(exif.begin(), exif.begin() + 4 + 6);  // eXIf holds the TIFF data, no "Exif\0\0"
  const Bytes x = png_chunk("eXIf", exif);
  out.insert(out.end(), x.begin(), x.end());
  out.insert(out.end(), png.begin() + static_cast<std::ptrdiff_t>(after_ihdr), png.end());
  return out;
}

Rgb decode(const Bytes& bytes) {
  Rgb rgb;
  if (bytes.size() > 3 && bytes[0] == 0xFF && bytes[1] == 0xD8) {
    tjhandle tj = tjInitDecompress();
    int w = 0, h = 0, ss = 0, cs = 0;
    auto* buf = const_cast<unsigned char*>(bytes.data());
    if (tjDecompressHeader3(tj, buf, bytes.size(), &w, &h, &ss, &cs) == 0) {
      rgb = Rgb{static_cast<std::uint32_t>(w), static_cast<std::uint32_t>(h),
                std::vector<std::uint8_t>(static_cast<std::size_t>(w) * h * 3)};
      if (tjDecompress2(tj, buf, bytes.size(), rgb.data.data(), w, 0, h, TJPF_RGB, 0) != 0)
        rgb = {};
    }
    tjDestroy(tj);
    return rgb;
  }
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  if (png_image_begin_read_from_memory(&image, bytes.data(), bytes.size()) == 0) return rgb;
  image.format = PNG_FORMAT_RGB;
  rgb = Rgb{image.width, image.height,
            std::vector<std::uint8_t>(std::size_t{image.width} * image.height * 3)};
  if (png_image_finish_read(&image, nullptr, rgb.data.data(), 0, nullptr) == 0) rgb = {};
  png_image_free(&image);
  return rgb;
}

bool contains(const Bytes& haystack, std::string_view needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) !=
         haystack.end();
}

bool contains(const Bytes& haystack, const Bytes& needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) !=
         haystack.end();
}

}  // namespace secchats::media::testing
