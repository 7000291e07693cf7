#include "attachment_media.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <span>
#include <string_view>
#include <system_error>
#include <utility>

#include "file_descriptor.hpp"
#include "secchats/media/audio_video.hpp"
#include "secchats/media/image.hpp"

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

namespace {

constexpr std::uintmax_t kMaxPhotoInputBytes = std::uintmax_t{64} << 20;

Result<std::vector<std::uint8_t>> read_whole(const fs::path& path, std::uintmax_t size) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  if (!in || !in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size))) {
    return Error(ErrorCode::kNotFound, "cannot read the file");
  }
  return bytes;
}

Status write_private(const fs::path& path, std::span<const std::uint8_t> bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Error(ErrorCode::kInternal, "cannot write a temporary file in the account");
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return Error(ErrorCode::kInternal, "cannot write a temporary file in the account");
  return ok_status();
}

std::string with_extension(const std::string& name, std::string_view extension) {
  fs::path p(name);
  p.replace_extension(extension);
  return p.filename().string();
}

bool looks_like_video(const fs::path& path) {
  const std::string type = media_type_for(path);
  return type.starts_with("video/");
}

// A photo: re-encoded (upright, every metadata block dropped) into scratch.jpg/.png, with a
// thumbnail. The original's bytes never leave the machine.
Result<PreparedAttachment> prepare_image(const fs::path& path, std::uintmax_t size,
                                         PreparedAttachment out, const fs::path& scratch) {
  if (size > kMaxPhotoInputBytes) {
    return Error(ErrorCode::kTooLarge, "a photo is at most 64 MiB; send it as kind file");
  }
  SC_ASSIGN_OR_RETURN(auto bytes, read_whole(path, size));
  SC_ASSIGN_OR_RETURN(media::EncodedImage photo, media::prepare_photo(bytes, {}));
  const bool png = photo.media_type == "image/png";
  fs::path target = scratch;
  target += png ? ".png" : ".jpg";
  SC_TRY(write_private(target, photo.bytes));
  AttachmentInfo& info = out.info;
  info.kind = "image";
  info.media_type = photo.media_type;
  info.size = photo.bytes.size();
  info.width = photo.width;
  info.height = photo.height;
  info.file_name = with_extension(info.file_name, png ? ".png" : ".jpg");
  if (info.thumbnail.empty()) {
    auto thumb = media::make_thumbnail(photo.bytes);
    if (thumb.ok() && thumb->bytes.size() <= kMaxThumbnailBytes) info.thumbnail = thumb->bytes;
  }
  out.upload_path = target;
  out.temporary = true;
  return out;
}

Result<PreparedAttachment> prepare_video(const fs::path& path, PreparedAttachment out) {
  SC_ASSIGN_OR_RETURN(media::VideoInfo video, media::probe_video(path));
  AttachmentInfo& info = out.info;
  info.kind = "video";
  if (info.width == 0) info.width = video.width;
  if (info.height == 0) info.height = video.height;
  if (info.duration_ms == 0) info.duration_ms = video.duration_ms;
  if (info.thumbnail.empty() && video.thumbnail.size() <= kMaxThumbnailBytes) {
    info.thumbnail = video.thumbnail;
  }
  return out;
}

// A voice note: Ogg/Opus as it is, anything else converted into scratch.ogg.
Result<PreparedAttachment> prepare_voice(const fs::path& path, PreparedAttachment out,
                                         const fs::path& scratch) {
  AttachmentInfo& info = out.info;
  info.kind = "voice";
  info.media_type = "audio/ogg";
  if (auto opus = media::probe_ogg_opus(path); opus.ok()) {
    if (info.duration_ms == 0) info.duration_ms = opus->duration_ms;
    return out;
  }
  fs::path target = scratch;
  target += ".ogg";
  SC_ASSIGN_OR_RETURN(media::VoiceInfo voice, media::convert_to_ogg_opus(path, target));
  std::error_code ec;
  fs::permissions(target, fs::perms::owner_read | fs::perms::owner_write, ec);
  info.size = fs::file_size(target, ec);
  if (ec) return Error(ErrorCode::kInternal, "cannot read the converted voice note");
  if (info.duration_ms == 0) info.duration_ms = voice.duration_ms;
  info.file_name = with_extension(info.file_name, ".ogg");
  out.upload_path = target;
  out.temporary = true;
  return out;
}

}  // namespace

Result<PreparedAttachment> describe_attachment(const fs::path& path, const SendFileOptions& options,
                                               const fs::path& scratch) {
  const std::string& kind = options.kind;
  if (kind != "auto" && kind != "file" && kind != "image" && kind != "voice" && kind != "video") {
    return Error(ErrorCode::kInvalidArgument,
                 "unknown attachment kind (use auto, file, image, voice or video)");
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
                 "the name to send must be 1..255 bytes without a directory part");
  }
  info.width = options.width;
  info.height = options.height;
  info.duration_ms = options.duration_ms;
  if (options.thumbnail.size() > kMaxThumbnailBytes) {
    return Error(ErrorCode::kInvalidArgument, "a thumbnail is at most 16 KiB");
  }
  info.thumbnail = options.thumbnail;

  if (kind == "image") return prepare_image(path, size, std::move(out), scratch);
  if (kind == "voice") return prepare_voice(path, std::move(out), scratch);
  if (kind == "video") return prepare_video(path, std::move(out));
  if (kind == "auto") {
    // A photo the decoder reads becomes kind image; a video it reads, kind video; anything
    // else (or a photo or video it cannot read) is a file, its bytes untouched.
    std::array<std::uint8_t, 32> head{};
    std::ifstream in(path, std::ios::binary);
    in.read(reinterpret_cast<char*>(head.data()), head.size());
    const auto got = static_cast<std::size_t>(in.gcount());
    if (!media::sniff_image_type(std::span<const std::uint8_t>(head.data(), got)).empty() &&
        size <= kMaxPhotoInputBytes) {
      auto image = prepare_image(path, size, out, scratch);
      if (image.ok()) return image;
    }
    if (looks_like_video(path)) {
      auto video = prepare_video(path, out);
      if (video.ok()) return video;
    }
  }
  return out;
}

}  // namespace secchats::core
