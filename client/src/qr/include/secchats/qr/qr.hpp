// QR codes for the in-person group mode (ZXing-C++ behind this header). Nothing here touches
// the network: the group key goes from one screen or PNG to another camera or file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "secchats/common/result.hpp"
#include "secchats/common/secret.hpp"

namespace secchats::qr {

// What an in-person group QR carries. Format (docs/qr-payload.md):
//   SECCHATS-GROUP:1:<groupId hex>:<group key, standard base64>:<name, base64url no padding>
struct GroupPayload {
  std::string group_id;
  SecretString key;
  std::string name;
};
SecretString format_group_payload(const GroupPayload& payload);
// kInvalidArgument with a reason ("not a Secure Chats group code", "unsupported version 2",
// "group key must be 32 bytes", ...) for anything but a well-formed payload.
Result<GroupPayload> parse_group_payload(std::string_view text);

// The QR as UTF-8 half-block text (two modules per character row, 2-module quiet zone), to
// print in a terminal. The light modules and the quiet zone are the printed glyphs, so on the
// usual light-on-dark terminal the code shows dark-on-light, as scanners expect (on a
// dark-on-light terminal it shows inverted; offer write_png as the fallback).
Result<std::string> render_terminal(std::string_view text);
// Writes an 8-bit grayscale PNG (scale pixels per module, 4-module quiet zone).
Status write_png(std::string_view text, const std::filesystem::path& file, int scale = 8);
// Decodes the first QR code found in a PNG. kNotFound if there is none; kInvalidArgument if
// the file is not a readable PNG.
Result<SecretString> read_png(const std::filesystem::path& file);

// The bare QR symbol for `text` (UTF-8, error correction level Q), for an application that
// draws it itself (the desktop app paints it at any size). size × size modules, row-major,
// true = dark, no quiet zone: leave at least 4 light modules around it when drawing.
// kInvalidArgument for empty or invalid UTF-8 text; kTooLarge past what a QR code holds.
struct QrMatrix {
  int size = 0;
  std::vector<bool> dark;
  bool at(int x, int y) const {
    return x >= 0 && y >= 0 && x < size && y < size &&
           dark[static_cast<std::size_t>(y) * static_cast<std::size_t>(size) +
                static_cast<std::size_t>(x)];
  }
};
Result<QrMatrix> encode_matrix(std::string_view text);

// Decodes the first QR code in an 8-bit grayscale image: `pixels` holds width × height bytes,
// row-major with no padding (a camera frame or a screenshot converted by the application).
// Dark-on-light and inverted codes are both read. kNotFound if there is none;
// kInvalidArgument for sizes that do not match (or exceed 16384 px per side, 64 Mpx).
Result<SecretString> decode_gray(std::span<const std::uint8_t> pixels, int width, int height);

}  // namespace secchats::qr
