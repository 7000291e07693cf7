// Voice notes and videos: probing (duration, dimensions, a thumbnail frame) and converting
// audio to Ogg/Opus, through ffmpeg's libraries (libavformat, libavcodec, libswresample,
// libswscale) and libopusfile. Nothing here parses a container itself.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "secchats/common/result.hpp"

namespace secchats::media {

struct VoiceInfo {
  std::int64_t duration_ms = 0;
};

// ok with the duration if `path` is a whole Ogg/Opus file (libopusfile opens and reads its
// length, then decodes every packet). kInvalidArgument "not an Ogg/Opus file" / "Ogg/Opus file
// is corrupt: <reason>"; kNotFound "cannot read the file" (missing or unreadable).
Result<VoiceInfo> probe_ogg_opus(const std::filesystem::path& path);

// Converts any audio ffmpeg reads (WAV, FLAC, MP3, AAC/M4A, Ogg/Vorbis, ...) to an Ogg/Opus
// voice note at `out` (mono, 48 kHz, about 32 kbit/s), written to a temporary name and renamed
// on success. kInvalidArgument "cannot read audio from this file: <reason>" (no audio stream,
// unknown format); kUnavailable "no Opus encoder in this ffmpeg build".
Result<VoiceInfo> convert_to_ogg_opus(const std::filesystem::path& in,
                                      const std::filesystem::path& out);

struct VideoInfo {
  std::uint32_t width = 0;  // pixels, as displayed
  std::uint32_t height = 0;
  std::int64_t duration_ms = 0;
  std::vector<std::uint8_t> thumbnail;  // JPEG of the first frame, long edge ≤ 320, ≤ 16 KiB
};

// kInvalidArgument "not a video this client can read: <reason>".
Result<VideoInfo> probe_video(const std::filesystem::path& path);

}  // namespace secchats::media
