#include "secchats/qr/qr.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <png.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ZXing/BarcodeFormat.h>
#include <ZXing/DecodeHints.h>
#include <ZXing/ImageView.h>
#include <ZXing/ReadBarcode.h>
#include <ZXing/Result.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "secchats/common/encoding.hpp"

namespace secchats::qr {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string key_of(std::size_t n, std::uint8_t seed = 7) {
  std::vector<std::uint8_t> bytes(n);
  for (std::size_t i = 0; i < n; ++i)
    bytes[i] = static_cast<std::uint8_t>(seed + 37 * i);
  return base64_encode(bytes);
}

const std::string kGroupId = "5be0c1d2e3f4a5b697887766554433aa";
const std::string kKey = key_of(32);
const std::string kPrefix = "SECCHATS-GROUP:1:" + kGroupId + ":" + kKey + ":";

GroupPayload sample(std::string name = "Family") {
  GroupPayload p;
  p.group_id = kGroupId;
  p.key = SecretString(kKey);
  p.name = std::move(name);
  return p;
}

void expect_round_trip(const GroupPayload& p) {
  const SecretString text = format_group_payload(p);
  auto parsed = parse_group_payload(text.view());
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  EXPECT_EQ(parsed->group_id, p.group_id);
  EXPECT_EQ(parsed->key, p.key);
  EXPECT_EQ(parsed->name, p.name);
}

void expect_rejected(const std::string& text, const std::string& reason) {
  auto parsed = parse_group_payload(text);
  ASSERT_FALSE(parsed.ok()) << "accepted: " << text;
  EXPECT_EQ(parsed.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(parsed.error().message(), HasSubstr(reason)) << text;
}

// base64url without padding, for building hostile payloads by hand.
std::string b64url(std::string_view bytes) {
  std::string s = base64_encode(bytes);
  while (!s.empty() && s.back() == '=')
    s.pop_back();
  for (char& c : s) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return s;
}

// ---- payload ---------------------------------------------------------------------------------

TEST(GroupPayload, FormatIsTheDocumentedString) {
  EXPECT_EQ(format_group_payload(sample()).str(), kPrefix + "RmFtaWx5");
  EXPECT_EQ(format_group_payload(sample("")).str(), kPrefix);
}

TEST(GroupPayload, RoundTrips) {
  expect_round_trip(sample());
  expect_round_trip(sample(""));
  expect_round_trip(sample("Caf\xC3\xA9 \xE2\x98\x95 \xE5\xAE\xB6\xE6\x97\x8F \xF0\x9F\x8E\x89"));
  expect_round_trip(sample("a:b/c+d=e?"));  // separators and base64 symbols in the name
  expect_round_trip(sample(std::string(100, 'x')));
  GroupPayload long_id = sample();
  long_id.group_id = std::string(128, 'f');
  expect_round_trip(long_id);
}

TEST(GroupPayload, RejectsOtherCodes) {
  expect_rejected("", "not a Secure Chats group code");
  expect_rejected("https://example.com/", "not a Secure Chats group code");
  expect_rejected("secchats-group:1:" + kGroupId + ":" + kKey + ":",
                  "not a Secure Chats group code");
  expect_rejected("SECCHATS-GROUP", "not a Secure Chats group code");
  expect_rejected(" " + kPrefix, "not a Secure Chats group code");
}

TEST(GroupPayload, RejectsOtherVersions) {
  expect_rejected("SECCHATS-GROUP:2:" + kGroupId + ":" + kKey + ":", "unsupported version 2");
  expect_rejected("SECCHATS-GROUP:2:anything", "unsupported version 2");
  expect_rejected("SECCHATS-GROUP:01:" + kGroupId + ":" + kKey + ":", "unsupported version 01");
  expect_rejected("SECCHATS-GROUP:v1:" + kGroupId + ":" + kKey + ":", "malformed version");
  expect_rejected("SECCHATS-GROUP::" + kGroupId + ":" + kKey + ":", "malformed version");
  expect_rejected("SECCHATS-GROUP:", "malformed version");
}

TEST(GroupPayload, RejectsWrongFieldCount) {
  expect_rejected("SECCHATS-GROUP:1:" + kGroupId + ":" + kKey, "expected 5");
  expect_rejected("SECCHATS-GROUP:1", "expected 5");
  expect_rejected(kPrefix + "RmFtaWx5:extra", "got 6");
}

TEST(GroupPayload, RejectsBadGroupIds) {
  auto with_id = [](const std::string& id) { return "SECCHATS-GROUP:1:" + id + ":" + kKey + ":"; };
  expect_rejected(with_id(""), "missing group id");
  expect_rejected(with_id(std::string(31, 'a')), "32 to 128");
  expect_rejected(with_id(std::string(129, 'a')), "32 to 128");
  expect_rejected(with_id("5BE0C1D2E3F4A5B697887766554433AA"), "lowercase hex");
  expect_rejected(with_id("5be0c1d2e3f4a5b697887766554433ag"), "lowercase hex");
  expect_rejected(with_id("5be0c1d2e3f4a5b6 7887766554433aa"), "lowercase hex");
  EXPECT_TRUE(parse_group_payload(with_id(std::string(32, '0'))).ok());
  EXPECT_TRUE(parse_group_payload(with_id(std::string(33, '0'))).ok());
}

TEST(GroupPayload, RejectsBadKeys) {
  auto with_key = [](const std::string& key) {
    return "SECCHATS-GROUP:1:" + kGroupId + ":" + key + ":";
  };
  expect_rejected(with_key(""), "missing group key");
  expect_rejected(with_key(key_of(31)), "group key must be 32 bytes");
  expect_rejected(with_key(key_of(33)), "group key must be 32 bytes");
  expect_rejected(with_key(key_of(16)), "group key must be 32 bytes");
  std::string no_padding = kKey;
  no_padding.pop_back();
  expect_rejected(with_key(no_padding), "not valid base64");
  std::string url_alphabet = key_of(32, 250);  // contains '+' or '/'
  ASSERT_NE(url_alphabet.find_first_of("+/"), std::string::npos);
  for (char& c : url_alphabet) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  expect_rejected(with_key(url_alphabet), "not valid base64");
  // 32 bytes end in 2 unused bits: a different last digit with those bits set decodes to the
  // same bytes but is not the canonical spelling.
  std::string non_canonical = kKey;
  ASSERT_EQ(non_canonical.back(), '=');
  char& last = non_canonical[non_canonical.size() - 2];
  last = static_cast<char>(last + 1);
  expect_rejected(with_key(non_canonical), "not valid base64");
  expect_rejected(with_key(std::string(" ").append(kKey, 1)), "not valid base64");
}

TEST(GroupPayload, RejectsBadNames) {
  expect_rejected(kPrefix + "RmFtaWx5RA==", "base64url");  // padding
  expect_rejected(kPrefix + "Rm+t", "base64url");          // standard alphabet
  expect_rejected(kPrefix + "RmFtaWx5R", "base64url");     // impossible length
  expect_rejected(kPrefix + "RmFtaWx5RB", "base64url");    // non-zero trailing bits
  expect_rejected(kPrefix + b64url(std::string(101, 'x')), "longer than 100 bytes");
  expect_rejected(kPrefix + b64url("\xFF"), "not valid UTF-8");
  expect_rejected(kPrefix + b64url("\xC0\xAF"), "not valid UTF-8");          // overlong '/'
  expect_rejected(kPrefix + b64url("\xED\xA0\x80"), "not valid UTF-8");      // surrogate
  expect_rejected(kPrefix + b64url("\xF4\x90\x80\x80"), "not valid UTF-8");  // > U+10FFFF
  expect_rejected(kPrefix + b64url("caf\xC3"), "not valid UTF-8");           // truncated
  expect_rejected(kPrefix + b64url("\x1B[31mred"), "control characters");
  expect_rejected(kPrefix + b64url("a\nb"), "control characters");
  expect_rejected(kPrefix + b64url("\xC2\x9B"), "control characters");  // C1 CSI
  expect_rejected(kPrefix + std::string(600, 'A'), "too long");
}

// ---- PNG -------------------------------------------------------------------------------------

class QrFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("secchats-qr-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path path(const std::string& name) const { return dir_ / name; }

  fs::path dir_;
};

struct Gray {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::vector<std::uint8_t> pixels;
};

Gray load_gray(const fs::path& file) {
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  Gray g;
  if (png_image_begin_read_from_file(&image, file.c_str()) == 0) {
    ADD_FAILURE() << image.message;
    return g;
  }
  image.format = PNG_FORMAT_GRAY;
  g.width = image.width;
  g.height = image.height;
  g.pixels.resize(PNG_IMAGE_SIZE(image));
  if (png_image_finish_read(&image, nullptr, g.pixels.data(), 0, nullptr) == 0) {
    ADD_FAILURE() << image.message;
  }
  return g;
}

// Writes the gray image in another PNG format; `convert` maps a gray value to that format's
// pixel bytes.
template <typename Convert>
void save_as(const Gray& g, const fs::path& file, png_uint_32 format, std::size_t bytes_per_pixel,
             Convert convert, const std::vector<std::uint8_t>* colormap = nullptr) {
  std::vector<std::uint8_t> out(g.pixels.size() * bytes_per_pixel);
  for (std::size_t i = 0; i < g.pixels.size(); ++i)
    convert(g.pixels[i], &out[i * bytes_per_pixel]);
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  image.width = g.width;
  image.height = g.height;
  image.format = format;
  if (colormap != nullptr) image.colormap_entries = static_cast<png_uint_32>(colormap->size() / 3);
  ASSERT_NE(png_image_write_to_file(&image, file.c_str(), 0, out.data(), 0,
                                    colormap != nullptr ? colormap->data() : nullptr),
            0)
      << image.message;
}

TEST_F(QrFiles, PngRoundTripsThePayloadExactly) {
  const SecretString payload = format_group_payload(sample("Caf\xC3\xA9 \xF0\x9F\x8E\x89"));
  ASSERT_TRUE(write_png(payload.view(), path("group.png")).ok());
  auto text = read_png(path("group.png"));
  ASSERT_TRUE(text.ok()) << text.error().message();
  EXPECT_EQ(*text, payload);
  auto parsed = parse_group_payload(text->view());
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  EXPECT_EQ(parsed->name, "Caf\xC3\xA9 \xF0\x9F\x8E\x89");
}

TEST_F(QrFiles, PngIsGrayscaleOwnerOnlyAndUsesErrorCorrectionQ) {
  const SecretString payload = format_group_payload(sample());
  ASSERT_TRUE(write_png(payload.view(), path("group.png"), 4).ok());
  struct stat st {};
  ASSERT_EQ(::stat(path("group.png").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  ASSERT_NE(png_image_begin_read_from_file(&image, path("group.png").c_str()), 0);
  EXPECT_EQ(image.format, static_cast<png_uint_32>(PNG_FORMAT_GRAY));
  EXPECT_EQ(image.width % 4, 0u);  // whole modules at 4 px each
  EXPECT_EQ(image.width, image.height);
  png_image_free(&image);

  const Gray g = load_gray(path("group.png"));
  const ZXing::Result r =
      ZXing::ReadBarcode(ZXing::ImageView(g.pixels.data(), static_cast<int>(g.width),
                                          static_cast<int>(g.height), ZXing::ImageFormat::Lum),
                         ZXing::DecodeHints().setFormats(ZXing::BarcodeFormat::QRCode));
  ASSERT_TRUE(r.isValid());
  EXPECT_EQ(r.ecLevel(), "Q");
  EXPECT_EQ(r.text(), payload.str());
  // The 4-module quiet zone is white.
  for (std::uint32_t x = 0; x < g.width; ++x) {
    for (std::uint32_t y = 0; y < 16; ++y)
      ASSERT_EQ(g.pixels[y * g.width + x], 255);
  }
}

TEST_F(QrFiles, OverwritingTightensPermissions) {
  { std::ofstream(path("group.png")) << "old"; }
  fs::permissions(path("group.png"), fs::perms(0644));
  ASSERT_TRUE(write_png("hello", path("group.png")).ok());
  EXPECT_EQ(fs::status(path("group.png")).permissions() & fs::perms::all, fs::perms(0600));
}

TEST_F(QrFiles, ScalesAndLengths) {
  for (int scale : {1, 3, 32}) {
    ASSERT_TRUE(write_png("scale test", path("s.png"), scale).ok()) << scale;
    auto text = read_png(path("s.png"));
    ASSERT_TRUE(text.ok()) << scale << ": " << text.error().message();
    EXPECT_EQ(text->str(), "scale test");
  }
  const std::string longest(1600, 'z');
  ASSERT_TRUE(write_png(longest, path("long.png"), 2).ok());
  auto text = read_png(path("long.png"));
  ASSERT_TRUE(text.ok()) << text.error().message();
  EXPECT_EQ(text->str(), longest);
}

// The longest valid group payload, as a camera would see it (no "pure image" shortcut), at
// every scale from 2 px per module.
TEST_F(QrFiles, LongestGroupPayloadScansAtSmallScales) {
  GroupPayload p = sample(std::string(100, 'w'));
  p.group_id = std::string(128, 'e');
  const SecretString payload = format_group_payload(p);
  ASSERT_EQ(payload.size(), 325u);
  ASSERT_TRUE(parse_group_payload(payload.view()).ok());
  for (int scale = 2; scale <= 8; ++scale) {
    ASSERT_TRUE(write_png(payload.view(), path("max.png"), scale).ok());
    const Gray g = load_gray(path("max.png"));
    const ZXing::Result r =
        ZXing::ReadBarcode(ZXing::ImageView(g.pixels.data(), static_cast<int>(g.width),
                                            static_cast<int>(g.height), ZXing::ImageFormat::Lum),
                           ZXing::DecodeHints().setFormats(ZXing::BarcodeFormat::QRCode));
    ASSERT_TRUE(r.isValid()) << "scale " << scale;
    EXPECT_EQ(r.text(), payload.str());
  }
}

TEST_F(QrFiles, WriteRejectsBadInput) {
  EXPECT_EQ(write_png("x", path("a.png"), 0).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(write_png("x", path("a.png"), 33).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(write_png("", path("a.png")).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(write_png("\xFF\xFE", path("a.png")).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(write_png(std::string(1601, 'z'), path("a.png")).error().code(), ErrorCode::kTooLarge);
  EXPECT_FALSE(fs::exists(path("a.png")));
  auto missing_dir = write_png("x", path("no-such-dir") / "a.png");
  ASSERT_FALSE(missing_dir.ok());
  EXPECT_THAT(missing_dir.error().message(), HasSubstr("cannot create"));
}

TEST_F(QrFiles, PngWithoutQrIsNotFound) {
  Gray blank{120, 80, std::vector<std::uint8_t>(120 * 80, 255)};
  save_as(blank, path("blank.png"), PNG_FORMAT_GRAY, 1,
          [](std::uint8_t v, std::uint8_t* out) { out[0] = v; });
  auto r = read_png(path("blank.png"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);

  Gray noise{64, 64, std::vector<std::uint8_t>(64 * 64)};
  for (std::size_t i = 0; i < noise.pixels.size(); ++i) {
    noise.pixels[i] = static_cast<std::uint8_t>((i * 2654435761u) >> 13);
  }
  save_as(noise, path("noise.png"), PNG_FORMAT_GRAY, 1,
          [](std::uint8_t v, std::uint8_t* out) { out[0] = v; });
  auto n = read_png(path("noise.png"));
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error().code(), ErrorCode::kNotFound);
}

TEST_F(QrFiles, UnreadableFilesAreErrors) {
  auto missing = read_png(path("missing.png"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(missing.error().message(), HasSubstr("cannot open"));

  std::ofstream(path("text.png")) << "SECCHATS-GROUP:1:not an image at all\n";
  auto text = read_png(path("text.png"));
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(text.error().message(), HasSubstr("not a PNG"));

  std::ofstream(path("empty.png")).close();
  EXPECT_EQ(read_png(path("empty.png")).error().code(), ErrorCode::kInvalidArgument);

  EXPECT_EQ(read_png(dir_).error().code(), ErrorCode::kInvalidArgument);

  // A real PNG cut in half: valid signature and header, missing image data.
  ASSERT_TRUE(write_png("truncated", path("whole.png")).ok());
  std::ifstream in(path("whole.png"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(path("half.png"), std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  auto half = read_png(path("half.png"));
  ASSERT_FALSE(half.ok());
  EXPECT_EQ(half.error().code(), ErrorCode::kInvalidArgument);

  // Only the first 8 bytes are a PNG signature.
  std::ofstream(path("sig.png"), std::ios::binary) << bytes.substr(0, 8) << "garbage garbage";
  EXPECT_EQ(read_png(path("sig.png")).error().code(), ErrorCode::kInvalidArgument);
}

TEST_F(QrFiles, OtherColourTypesStillDecode) {
  const SecretString payload = format_group_payload(sample("Colour"));
  ASSERT_TRUE(write_png(payload.view(), path("gray.png"), 4).ok());
  const Gray g = load_gray(path("gray.png"));
  ASSERT_FALSE(g.pixels.empty());

  auto expect_decodes = [&](const fs::path& file) {
    auto text = read_png(file);
    ASSERT_TRUE(text.ok()) << file << ": " << text.error().message();
    EXPECT_EQ(*text, payload) << file;
  };

  save_as(g, path("rgb.png"), PNG_FORMAT_RGB, 3, [](std::uint8_t v, std::uint8_t* out) {
    // Dark blue on pale yellow: still a strong luminance contrast.
    out[0] = v ? 250 : 10;
    out[1] = v ? 240 : 20;
    out[2] = v ? 190 : 90;
  });
  expect_decodes(path("rgb.png"));

  // Transparent background whose colour bytes are black: must be composited onto white.
  save_as(g, path("rgba.png"), PNG_FORMAT_RGBA, 4, [](std::uint8_t v, std::uint8_t* out) {
    out[0] = out[1] = out[2] = 0;
    out[3] = v ? 0 : 255;
  });
  expect_decodes(path("rgba.png"));

  save_as(g, path("gray-alpha.png"), PNG_FORMAT_GA, 2, [](std::uint8_t v, std::uint8_t* out) {
    out[0] = 0;
    out[1] = static_cast<std::uint8_t>(255 - v);
  });
  expect_decodes(path("gray-alpha.png"));

  // 16-bit linear gray.
  save_as(g, path("gray16.png"), PNG_FORMAT_LINEAR_Y, 2, [](std::uint8_t v, std::uint8_t* out) {
    const std::uint16_t w = v ? 65535 : 0;
    std::memcpy(out, &w, sizeof w);
  });
  expect_decodes(path("gray16.png"));

  // Palette image with two entries.
  const std::vector<std::uint8_t> palette{20, 30, 60, 255, 255, 255};
  save_as(
      g, path("palette.png"), PNG_FORMAT_RGB_COLORMAP, 1,
      [](std::uint8_t v, std::uint8_t* out) { out[0] = v ? 1 : 0; }, &palette);
  expect_decodes(path("palette.png"));

  // Light modules on dark (a screenshot of an inverted terminal rendering).
  save_as(g, path("inverted.png"), PNG_FORMAT_GRAY, 1,
          [](std::uint8_t v, std::uint8_t* out) { out[0] = static_cast<std::uint8_t>(255 - v); });
  expect_decodes(path("inverted.png"));
}

// ---- terminal --------------------------------------------------------------------------------

std::vector<std::string> glyph_lines(const std::string& text, bool* only_expected) {
  std::vector<std::string> lines;  // each glyph as its own element joined: one char per module
  std::string line;
  *only_expected = true;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '\n') {
      lines.push_back(line);
      line.clear();
      ++i;
    } else if (text[i] == ' ') {
      line += ' ';
      ++i;
    } else if (text.compare(i, 3, "\u2588") == 0) {
      line += 'F';
      i += 3;
    } else if (text.compare(i, 3, "\u2580") == 0) {
      line += 'T';
      i += 3;
    } else if (text.compare(i, 3, "\u2584") == 0) {
      line += 'B';
      i += 3;
    } else {
      *only_expected = false;
      ++i;
    }
  }
  if (!line.empty()) {
    *only_expected = false;  // output must end with a newline
    lines.push_back(line);
  }
  return lines;
}

TEST(RenderTerminal, ConsistentLinesOfHalfBlocks) {
  const SecretString payload = format_group_payload(sample());
  auto rendered = render_terminal(payload.view());
  ASSERT_TRUE(rendered.ok()) << rendered.error().message();
  bool only_expected = false;
  const std::vector<std::string> lines = glyph_lines(*rendered, &only_expected);
  EXPECT_TRUE(only_expected);
  ASSERT_FALSE(lines.empty());
  const std::size_t side = lines[0].size();
  EXPECT_EQ((side - 4 - 17) % 4, 0u) << side;  // QR symbol sizes are 4v + 17, plus 2 + 2
  EXPECT_EQ(lines.size(), (side + 1) / 2);
  for (const std::string& line : lines)
    EXPECT_EQ(line.size(), side);
  EXPECT_EQ(lines.front(), std::string(side, 'F'));     // top quiet zone, light
  EXPECT_EQ(lines.back(), std::string(side, 'T'));      // odd height: last row is a top half
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {  // left and right quiet zones, light
    EXPECT_EQ(lines[i].substr(0, 2), "FF");
    EXPECT_EQ(lines[i].substr(side - 2), "FF");
  }
}

TEST(RenderTerminal, ScansAsDrawn) {
  const std::string text =
      "SECCHATS-GROUP:1:" + kGroupId + ":" + kKey + ":" + b64url("\xE5\xAE\xB6");
  auto rendered = render_terminal(text);
  ASSERT_TRUE(rendered.ok());
  bool only_expected = false;
  const std::vector<std::string> lines = glyph_lines(*rendered, &only_expected);
  ASSERT_TRUE(only_expected);
  // Paint it as a light-on-dark terminal would: glyph halves light, blanks dark, and a dark
  // terminal border around it; 4 px per module.
  const int px = 4;
  const int border = 6;
  const int w = static_cast<int>(lines[0].size()) + 2 * border;
  const int h = static_cast<int>(lines.size()) * 2 + 2 * border;
  std::vector<std::uint8_t> image(static_cast<std::size_t>(w * px) * (h * px), 0);
  for (std::size_t row = 0; row < lines.size(); ++row) {
    for (std::size_t col = 0; col < lines[row].size(); ++col) {
      const char c = lines[row][col];
      const bool top = c == 'F' || c == 'T';
      const bool bottom = c == 'F' || c == 'B';
      for (int half = 0; half < 2; ++half) {
        if (!(half == 0 ? top : bottom)) continue;
        const int my = border + static_cast<int>(row) * 2 + half;
        const int mx = border + static_cast<int>(col);
        for (int dy = 0; dy < px; ++dy) {
          for (int dx = 0; dx < px; ++dx) {
            image[static_cast<std::size_t>((my * px + dy) * w * px + mx * px + dx)] = 255;
          }
        }
      }
    }
  }
  const ZXing::Result r =
      ZXing::ReadBarcode(ZXing::ImageView(image.data(), w * px, h * px, ZXing::ImageFormat::Lum),
                         ZXing::DecodeHints().setFormats(ZXing::BarcodeFormat::QRCode));
  ASSERT_TRUE(r.isValid());
  EXPECT_EQ(r.text(), text);
}

TEST(RenderTerminal, RejectsWhatCannotBeEncoded) {
  EXPECT_EQ(render_terminal("").error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(render_terminal(std::string(5000, 'a')).error().code(), ErrorCode::kTooLarge);
  EXPECT_EQ(render_terminal("\xC0\x80").error().code(), ErrorCode::kInvalidArgument);
}

// What an application does with encode_matrix: paint it (here 3 px per module, 4-module
// quiet zone) and read it back from grayscale pixels, as from a camera frame.
TEST(QrMatrix, PaintedMatrixDecodesFromGrayscale) {
  const std::string text = "SECCHATS-VERIFY:1:" + std::string(60, '7');
  auto matrix = encode_matrix(text);
  ASSERT_TRUE(matrix.ok()) << matrix.error().message();
  ASSERT_GT(matrix->size, 20);
  ASSERT_EQ(matrix->dark.size(), static_cast<std::size_t>(matrix->size * matrix->size));
  const int scale = 3;
  const int side = (matrix->size + 8) * scale;
  std::vector<std::uint8_t> pixels(static_cast<std::size_t>(side * side), 255);
  for (int y = 0; y < side; ++y)
    for (int x = 0; x < side; ++x)
      if (matrix->at(x / scale - 4, y / scale - 4))
        pixels[static_cast<std::size_t>(y * side + x)] = 0;
  auto decoded = decode_gray(pixels, side, side);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  EXPECT_EQ(decoded->str(), text);

  // Inverted (light on dark, as a dark-theme screenshot) reads too.
  for (auto& p : pixels)
    p = static_cast<std::uint8_t>(255 - p);
  decoded = decode_gray(pixels, side, side);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  EXPECT_EQ(decoded->str(), text);
}

TEST(QrMatrix, BadInputIsAClearError) {
  EXPECT_EQ(encode_matrix("").error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(encode_matrix(std::string(5000, 'a')).error().code(), ErrorCode::kTooLarge);
  std::vector<std::uint8_t> blank(100 * 100, 255);
  EXPECT_EQ(decode_gray(blank, 100, 100).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(decode_gray(blank, 100, 99).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(decode_gray(blank, 0, 0).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(decode_gray(blank, -100, -100).error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace secchats::qr
