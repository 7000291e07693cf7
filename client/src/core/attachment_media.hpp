// What send_file uploads for a path: the AttachmentInfo the FILE message shows and the file
// whose bytes become the blob (the original for kind "file"; a re-encoded copy for photos
// and converted voice notes). Internal to libsecchats.
#pragma once

#include <filesystem>

#include "secchats/client.hpp"
#include "secchats/common/result.hpp"

namespace secchats::core {

struct PreparedAttachment {
  AttachmentInfo info;                // kind, media_type, file_name, size, w/h/duration/thumb
  std::filesystem::path upload_path;  // whose bytes are encrypted and uploaded
  bool temporary = false;             // upload_path is ours to delete once uploaded
};

// Describes `path` as SendFileOptions asks. `scratch` is a file name in the account's home
// (no extension) where a re-encoded copy may be written. kInvalidArgument for a kind that is
// not auto/file/image/voice/video, or media that cannot be read as the kind asked for.
Result<PreparedAttachment> describe_attachment(const std::filesystem::path& path,
                                               const SendFileOptions& options,
                                               const std::filesystem::path& scratch);

// A media type from a file name's extension ("application/octet-stream" if unknown).
std::string media_type_for(const std::filesystem::path& path);

}  // namespace secchats::core
