// QR codes for the in-person group mode (ZXing-C++ behind this header). Nothing here touches
// the network: the group key goes from one screen or PNG to another camera or file.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

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

}  // namespace secchats::qr
