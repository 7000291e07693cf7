#include "attachment_media.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>
#include <system_error>
#include <utility>

#include "file_descriptor.hpp"

namespace secchats::core {
namespace fs = std::filesystem;

std::string media_type_for(const fs::path& path) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 24> kTypes{{
      {".jpg", "image/jpeg"},       {".jpeg", "image/jpeg"},       {".png", "image/png"},
      {".gif", "image/gif"},        {".webp", "image/webp"},       {".heic", "image/heic"},
      {".ogg", "audio/ogg"},        {".opus", "audio/ogg"},        {".mp3", "audio/mpeg"},
      {".m4a", "audio/mp4"},        {".wav", "audio/wav"},         {".flac", "audio/flac"},
      {".mp4", "video/mp4"},        {".mov", "video/quicktime"},   {".webm", "video/webm"},
      {".mkv", "video/x-matroska"}, {".pdf", "application/pdf"},   {".txt", "text/plain"},
      {".zip", "application/zip"},  {".json", "application/json"}, {".csv", "text/csv"},
      {".html", "text/html"},       {".md", "text/markdown"},      {".gz", "application/gzip"},
  }};
  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const auto& [ext, type] : kTypes) {
    if (extension == ext) return std::string(type);
  }
  return "application/octet-stream";
}

Result<PreparedAttachment> describe_attachment(const fs::path& path, const SendFileOptions& options,
                                               const fs::path& /*scratch*/) {
  const std::string& kind = options.kind;
  if (kind != "auto" && kind != "file" && kind != "image" && kind != "voice" && kind != "video") {
    return Error(ErrorCode::kInvalidArgument,
                 "unknown attachment kind (use auto, file, image, voice or video)");
  }
  if (kind == "image" || kind == "voice" || kind == "video") {
    // Photos are re-encoded (metadata dropped) and voice notes converted by the media
    // library; until this build has it, say so rather than send something else.
    return Error(ErrorCode::kUnavailable, "sending as " + kind +
                                              " needs the media library, which this build lacks; "
                                              "send it as kind file");
  }
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return Error(ErrorCode::kNotFound, "cannot read the file: " + ec.message());

  PreparedAttachment out;
  out.upload_path = path;
  AttachmentInfo& info = out.info;
  info.kind = "file";
  info.size = size;
  info.media_type = media_type_for(path);
  info.file_name = options.file_name.empty() ? path.filename().string() : options.file_name;
  if (info.file_name.size() > kMaxFileNameBytes || info.file_name.empty() ||
      info.file_name.find('/') != std::string::npos) {
    return Error(ErrorCode::kInvalidArgument,
                 "the file name must be 1..255 bytes without a directory part");
  }
  info.width = options.width;
  info.height = options.height;
  info.duration_ms = options.duration_ms;
  if (options.thumbnail.size() > kMaxThumbnailBytes) {
    return Error(ErrorCode::kInvalidArgument, "a thumbnail is at most 16 KiB");
  }
  info.thumbnail = options.thumbnail;
  return out;
}

}  // namespace secchats::core
