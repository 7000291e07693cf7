// Files the user names on the command line (send-image FILE, verify --scan, group qr-join
// --png, --password-file): each is checked the same way, so that a directory, a missing,
// unreadable or empty file is refused with one line "cannot read FILE: <reason>" (exit 2,
// docs/cli.md) before anything is sent, instead of failing somewhere deeper.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "secchats/common/result.hpp"

namespace secchats::cli {

// Reads FILE whole, but at most `max_bytes` bytes (a longer file yields max_bytes bytes, so
// the caller's own size check refuses it). Pipes and devices are read too (`<(...)`).
// Errors (kInvalidArgument): "cannot read FILE: <reason>" where reason is the system's
// (No such file or directory, Permission denied, ...), "is a directory" or "the file is empty".
Result<std::vector<std::uint8_t>> read_input_file(const std::string& path, std::size_t max_bytes);

// The same checks without reading a regular file's contents, for files a library function
// opens itself (the QR PNG readers). A pipe or device passes unread.
Status check_input_file(const std::string& path);

// For an attachment (send-file, send-voice): a regular file that can be opened for reading,
// empty or not ("cannot read FILE: not a regular file" for a pipe or device: a transfer is
// resumed by path, size and modification time, which only a regular file keeps).
Status check_attachment_file(const std::string& path);

}  // namespace secchats::cli
