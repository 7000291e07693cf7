// QR encode/decode (ZXing-C++ 1.4) and 8-bit grayscale PNG I/O (libpng simplified API).
//
// Choices worth knowing:
// - Error correction level Q (about 25% recoverable): photos of screens and paper suffer glare,
//   moire and blur; the payload is small (~120 bytes) so the cost is a few extra modules.
// - PNG I/O uses libpng's png_image API: it converts every colour type and bit depth (palette,
//   gray 1/2/4/16-bit, RGB, alpha) to 8-bit gray, composites transparency onto white, and
//   reports errors as return values, so no setjmp/longjmp crosses C++ frames.
// - The image buffers hold the group key in visual form; they are wiped before being freed and
//   the PNG is created with mode 0600.
// - The decoder also tries the inverted image: a screenshot of render_terminal() on a
//   dark-on-light terminal shows light modules on dark, which ZXing 1.4 does not try itself.
// - No exception escapes: ZXing reports oversize input and some internal failures by throwing.
#include <fcntl.h>
#include <png.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ZXing/BarcodeFormat.h>
#include <ZXing/BitMatrix.h>
#include <ZXing/CharacterSet.h>
#include <ZXing/DecodeHints.h>
#include <ZXing/ImageView.h>
#include <ZXing/MultiFormatWriter.h>
#include <ZXing/ReadBarcode.h>
#include <ZXing/Result.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "secchats/common/secret.hpp"
#include "secchats/qr/qr.hpp"

namespace secchats::qr {
namespace {

// ZXing's eccLevel scale is 0..8; it maps 5 and 6 to QR level Q.
constexpr int kZxingEccQuartile = 5;
// A version-40 symbol at level Q holds 1663 bytes; the UTF-8 ECI header and margin for safety
// bring our bound down to a round number. Group payloads are at most 325 bytes.
constexpr std::size_t kMaxTextBytes = 1600;
constexpr int kTerminalQuietZone = 2;  // modules; the PNG gets the standard 4
constexpr int kPngQuietZone = 4;
constexpr int kMaxScale = 32;
// Bounds on images we are asked to read (a 50 MP phone photo is 8160 x 6120).
constexpr std::uint32_t kMaxImageSide = 16384;
constexpr std::uint64_t kMaxImagePixels = 64ull * 1024 * 1024;

// A byte buffer that is wiped before it is freed.
class ImageBuffer {
 public:
  explicit ImageBuffer(std::size_t size, std::uint8_t fill) : bytes_(size, fill) {}
  ImageBuffer(const ImageBuffer&) = delete;
  ImageBuffer& operator=(const ImageBuffer&) = delete;
  ~ImageBuffer() { secure_wipe(bytes_); }
  std::uint8_t* data() { return bytes_.data(); }
  const std::uint8_t* data() const { return bytes_.data(); }
  std::size_t size() const { return bytes_.size(); }

 private:
  std::vector<std::uint8_t> bytes_;
};

// Closes a FILE* on scope exit.
struct FileCloser {
  std::FILE* file = nullptr;
  ~FileCloser() {
    if (file != nullptr) std::fclose(file);
  }
};

bool is_valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (b0 < 0x80) {
      ++i;
      continue;
    } else if (b0 >= 0xC2 && b0 <= 0xDF) {
      len = 2;
      cp = b0 & 0x1Fu;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      len = 3;
      cp = b0 & 0x0Fu;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      len = 4;
      cp = b0 & 0x07u;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0u) != 0x80u) return false;
      cp = (cp << 6) | (b & 0x3Fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

// The QR symbol itself, one element per module, true = dark; no quiet zone.
struct Modules {
  int size = 0;
  std::vector<bool> dark;
  bool at(int x, int y) const {
    if (x < 0 || y < 0 || x >= size || y >= size) return false;  // the quiet zone is light
    return dark[static_cast<std::size_t>(y) * static_cast<std::size_t>(size) +
                static_cast<std::size_t>(x)];
  }
};

Result<Modules> encode(std::string_view text) {
  if (text.empty()) return Error(ErrorCode::kInvalidArgument, "nothing to encode");
  if (text.size() > kMaxTextBytes) {
    return Error(ErrorCode::kTooLarge, "text too long for a QR code (at most " +
                                           std::to_string(kMaxTextBytes) + " bytes)");
  }
  if (!is_valid_utf8(text)) return Error(ErrorCode::kInvalidArgument, "text is not valid UTF-8");
  try {
    // Width and height 0 with margin 0 give the bare symbol at one pixel per module.
    const ZXing::BitMatrix matrix = ZXing::MultiFormatWriter(ZXing::BarcodeFormat::QRCode)
                                        .setEncoding(ZXing::CharacterSet::UTF8)
                                        .setEccLevel(kZxingEccQuartile)
                                        .setMargin(0)
                                        .encode(std::string(text), 0, 0);
    if (matrix.width() <= 0 || matrix.width() != matrix.height()) {
      return Error(ErrorCode::kInternal, "QR encoder returned an unexpected matrix");
    }
    Modules modules;
    modules.size = matrix.width();
    modules.dark.resize(static_cast<std::size_t>(modules.size) *
                        static_cast<std::size_t>(modules.size));
    for (int y = 0; y < modules.size; ++y) {
      for (int x = 0; x < modules.size; ++x) {
        modules.dark[static_cast<std::size_t>(y) * static_cast<std::size_t>(modules.size) +
                     static_cast<std::size_t>(x)] = matrix.get(x, y);
      }
    }
    return modules;
  } catch (const std::exception& e) {
    return Error(ErrorCode::kInternal, std::string("QR encoder failed: ") + e.what());
  } catch (...) {
    return Error(ErrorCode::kInternal, "QR encoder failed");
  }
}

// Tries the image as is, then inverted. For each, a second pass assumes a clean generated image
// ("pure": one symbol, axis-aligned, nothing else), which rescues a few large symbols at small
// scales that ZXing 1.4's detector misses. nullopt when no pass finds a QR code.
std::optional<std::string> decode_gray(ImageBuffer& pixels, int width, int height) {
  for (int attempt = 0; attempt < 4; ++attempt) {
    if (attempt == 2) {
      for (std::size_t i = 0; i < pixels.size(); ++i) {
        pixels.data()[i] = static_cast<std::uint8_t>(255 - pixels.data()[i]);
      }
    }
    const auto hints = ZXing::DecodeHints()
                           .setFormats(ZXing::BarcodeFormat::QRCode)
                           .setTryHarder(true)
                           .setTryRotate(true)
                           .setIsPure(attempt % 2 == 1);
    const ZXing::Result result = ZXing::ReadBarcode(
        ZXing::ImageView(pixels.data(), width, height, ZXing::ImageFormat::Lum), hints);
    if (result.isValid() && result.format() == ZXing::BarcodeFormat::QRCode) {
      return result.text();
    }
  }
  return std::nullopt;
}

std::string errno_text(int err) {
  return std::error_code(err, std::generic_category()).message();
}

}  // namespace

// Each character holds two modules stacked vertically. Terminal text is light on dark in most
// terminals, so the *light* modules (and the 2-module quiet zone around the symbol) are the
// printed glyphs and the dark modules are left blank, showing the terminal background: on a
// light-on-dark terminal the code appears dark-on-light, as scanners expect. On a dark-on-light
// terminal it appears inverted, which phone scanners generally read but some do not; the PNG
// (write_png) is the fallback. Only "█", "▀", "▄", " " and "\n" are emitted; every line has
// the same number of characters (symbol size + 4).
Result<std::string> render_terminal(std::string_view text) {
  SC_ASSIGN_OR_RETURN(const Modules modules, encode(text));
  const int q = kTerminalQuietZone;
  const int side = modules.size + 2 * q;
  auto light = [&](int x, int y) {
    if (y >= side) return false;  // below the last row: leave the terminal background
    return !modules.at(x - q, y - q);
  };
  std::string out;
  out.reserve(static_cast<std::size_t>((side + 1) / 2) * (static_cast<std::size_t>(side) * 3 + 1));
  for (int y = 0; y < side; y += 2) {
    for (int x = 0; x < side; ++x) {
      const bool top = light(x, y);
      const bool bottom = light(x, y + 1);
      if (top && bottom) {
        out += "\u2588";  // █ full block
      } else if (top) {
        out += "\u2580";  // ▀ upper half block
      } else if (bottom) {
        out += "\u2584";  // ▄ lower half block
      } else {
        out += ' ';
      }
    }
    out += '\n';
  }
  return out;
}

Status write_png(std::string_view text, const std::filesystem::path& file, int scale) {
  if (scale < 1 || scale > kMaxScale) {
    return Error(ErrorCode::kInvalidArgument,
                 "scale must be 1 to " + std::to_string(kMaxScale) + " pixels per module");
  }
  SC_ASSIGN_OR_RETURN(const Modules modules, encode(text));

  const int side_modules = modules.size + 2 * kPngQuietZone;
  const int side = side_modules * scale;
  ImageBuffer pixels(static_cast<std::size_t>(side) * static_cast<std::size_t>(side), 255);
  for (int my = 0; my < modules.size; ++my) {
    for (int mx = 0; mx < modules.size; ++mx) {
      if (!modules.at(mx, my)) continue;
      for (int dy = 0; dy < scale; ++dy) {
        const std::size_t row = static_cast<std::size_t>((my + kPngQuietZone) * scale + dy);
        std::uint8_t* p = pixels.data() + row * static_cast<std::size_t>(side) +
                          static_cast<std::size_t>((mx + kPngQuietZone) * scale);
        std::memset(p, 0, static_cast<std::size_t>(scale));
      }
    }
  }

  // The image carries the group key: owner-only permissions, also when overwriting a file.
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Error(ErrorCode::kInvalidArgument,
                 "cannot create " + file.string() + ": " + errno_text(errno));
  }
  if (::fchmod(fd, 0600) != 0) {
    const int err = errno;
    ::close(fd);
    return Error(ErrorCode::kPermissionDenied,
                 "cannot restrict permissions of " + file.string() + ": " + errno_text(err));
  }
  FileCloser closer{::fdopen(fd, "wb")};
  if (closer.file == nullptr) {
    const int err = errno;
    ::close(fd);
    return Error(ErrorCode::kInternal, "cannot open " + file.string() + ": " + errno_text(err));
  }

  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(side);
  image.height = static_cast<png_uint_32>(side);
  image.format = PNG_FORMAT_GRAY;
  const bool written =
      png_image_write_to_stdio(&image, closer.file, 0, pixels.data(), side, nullptr) != 0;
  std::string message = written ? "" : image.message;
  png_image_free(&image);
  std::FILE* f = closer.file;
  closer.file = nullptr;
  const bool closed = std::fclose(f) == 0;
  if (!written || !closed) {
    std::error_code ignored;
    std::filesystem::remove(file, ignored);
    if (message.empty()) message = "write failed";
    return Error(ErrorCode::kInternal, "cannot write " + file.string() + ": " + message);
  }
  return ok_status();
}

Result<SecretString> read_png(const std::filesystem::path& file) {
  FileCloser closer{std::fopen(file.c_str(), "rb")};
  if (closer.file == nullptr) {
    return Error(ErrorCode::kInvalidArgument,
                 "cannot open " + file.string() + ": " + errno_text(errno));
  }
  png_byte signature[8] = {};
  if (std::fread(signature, 1, sizeof signature, closer.file) != sizeof signature ||
      png_sig_cmp(signature, 0, sizeof signature) != 0) {
    return Error(ErrorCode::kInvalidArgument, file.string() + " is not a PNG file");
  }
  if (std::fseek(closer.file, 0, SEEK_SET) != 0) {
    return Error(ErrorCode::kInvalidArgument, "cannot read " + file.string());
  }

  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  if (png_image_begin_read_from_stdio(&image, closer.file) == 0) {
    std::string message = image.message;
    png_image_free(&image);
    return Error(ErrorCode::kInvalidArgument, "cannot read PNG " + file.string() + ": " + message);
  }
  if (image.width == 0 || image.height == 0 || image.width > kMaxImageSide ||
      image.height > kMaxImageSide ||
      std::uint64_t{image.width} * std::uint64_t{image.height} > kMaxImagePixels) {
    png_image_free(&image);
    return Error(ErrorCode::kTooLarge, file.string() + ": image dimensions out of range");
  }
  const int width = static_cast<int>(image.width);
  const int height = static_cast<int>(image.height);

  // Transparent pixels are composited onto white, the colour of paper and of a QR quiet zone.
  image.format = PNG_FORMAT_GRAY;
  png_color white{255, 255, 255};
  ImageBuffer pixels(static_cast<std::size_t>(width) * static_cast<std::size_t>(height), 255);
  if (png_image_finish_read(&image, &white, pixels.data(), width, nullptr) == 0) {
    std::string message = image.message;
    png_image_free(&image);
    return Error(ErrorCode::kInvalidArgument, "cannot read PNG " + file.string() + ": " + message);
  }
  png_image_free(&image);

  try {
    std::optional<std::string> text = decode_gray(pixels, width, height);
    if (!text) return Error(ErrorCode::kNotFound, "no QR code found in " + file.string());
    SecretString secret(std::move(*text));
    return secret;
  } catch (const std::exception& e) {
    return Error(ErrorCode::kInternal, std::string("QR decoder failed: ") + e.what());
  } catch (...) {
    return Error(ErrorCode::kInternal, "QR decoder failed");
  }
}

Result<QrMatrix> encode_matrix(std::string_view text) {
  SC_ASSIGN_OR_RETURN(Modules modules, encode(text));
  QrMatrix matrix;
  matrix.size = modules.size;
  matrix.dark = std::move(modules.dark);
  return matrix;
}

Result<SecretString> decode_gray(std::span<const std::uint8_t> pixels, int width, int height) {
  if (width <= 0 || height <= 0 || static_cast<std::uint32_t>(width) > kMaxImageSide ||
      static_cast<std::uint32_t>(height) > kMaxImageSide ||
      std::uint64_t(width) * std::uint64_t(height) > kMaxImagePixels) {
    return Error(ErrorCode::kInvalidArgument, "image dimensions out of range");
  }
  const std::size_t count = static_cast<std::size_t>(width) * static_cast<std::size_t>(height);
  if (pixels.size() != count) {
    return Error(ErrorCode::kInvalidArgument,
                 "image has " + std::to_string(pixels.size()) +
                     " bytes, expected width x height = " + std::to_string(count));
  }
  // decode_gray inverts in place on its later passes; work on a copy that wipes itself.
  ImageBuffer copy(count, 0);
  std::memcpy(copy.data(), pixels.data(), count);
  try {
    std::optional<std::string> text = decode_gray(copy, width, height);
    if (!text) return Error(ErrorCode::kNotFound, "no QR code found in the image");
    SecretString secret(std::move(*text));
    return secret;
  } catch (const std::exception& e) {
    return Error(ErrorCode::kInternal, std::string("QR decoder failed: ") + e.what());
  } catch (...) {
    return Error(ErrorCode::kInternal, "QR decoder failed");
  }
}

}  // namespace secchats::qr
