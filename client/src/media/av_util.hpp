// Ownership and error text for ffmpeg's C objects, shared by audio.cpp and video.cpp.
#pragma once

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
}

#include <filesystem>
#include <memory>
#include <string>

#include "secchats/common/result.hpp"

namespace secchats::media::detail {

struct InputCloser {
  void operator()(AVFormatContext* c) const { avformat_close_input(&c); }
};
struct CodecCloser {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct FrameCloser {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct PacketCloser {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
using InputPtr = std::unique_ptr<AVFormatContext, InputCloser>;
using CodecPtr = std::unique_ptr<AVCodecContext, CodecCloser>;
using FramePtr = std::unique_ptr<AVFrame, FrameCloser>;
using PacketPtr = std::unique_ptr<AVPacket, PacketCloser>;

inline std::string av_error_text(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(err, buf, sizeof buf);
  return buf;
}

// Opens `path` and reads its stream information; the error says why (never the path).
inline Result<InputPtr> open_input(const std::filesystem::path& path) {
  AVFormatContext* raw = nullptr;
  int err = avformat_open_input(&raw, path.c_str(), nullptr, nullptr);
  if (err < 0) return Error(ErrorCode::kInvalidArgument, av_error_text(err));
  InputPtr in(raw);
  err = avformat_find_stream_info(raw, nullptr);
  if (err < 0) return Error(ErrorCode::kInvalidArgument, av_error_text(err));
  return in;
}

// A decoder for stream `index` of `in`, opened.
inline Result<CodecPtr> open_decoder(AVFormatContext* in, int index, const AVCodec* codec) {
  CodecPtr dec(avcodec_alloc_context3(codec));
  if (!dec) return Error(ErrorCode::kInternal, "out of memory");
  int err = avcodec_parameters_to_context(dec.get(), in->streams[index]->codecpar);
  if (err >= 0) err = avcodec_open2(dec.get(), codec, nullptr);
  if (err < 0) return Error(ErrorCode::kInvalidArgument, av_error_text(err));
  return dec;
}

}  // namespace secchats::media::detail
