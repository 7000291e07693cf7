// Videos: dimensions as displayed, duration and a thumbnail of the first frame, read with
// libavformat/libavcodec; the frame becomes RGB with libswscale and goes through the photo
// pipeline's thumbnail encoder (image.cpp).
extern "C" {
#include <libavutil/display.h>
#include <libswscale/swscale.h>
}

#include <cmath>

#include "av_util.hpp"
#include "image_internal.hpp"
#include "secchats/media/audio_video.hpp"

namespace secchats::media {
namespace {

using detail::av_error_text;

Error unreadable_video(const std::string& reason) {
  return Error(ErrorCode::kInvalidArgument, "not a video this client can read: " + reason);
}

// The EXIF orientation that shows the frame as the display matrix asks (phones record
// portrait video as landscape frames with a 90° rotation).
int orientation_of(const AVStream* st) {
  const auto* matrix = reinterpret_cast<const std::int32_t*>(
      av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, nullptr));
  if (matrix == nullptr) return 1;
  // av_display_rotation_get is counter-clockwise; we want the clockwise turn to display.
  double turn = -av_display_rotation_get(matrix);
  if (std::isnan(turn)) return 1;
  turn = std::fmod(std::fmod(turn, 360.0) + 360.0, 360.0);
  const long quarter = std::lround(turn / 90.0) % 4;
  return quarter == 1 ? 6 : quarter == 2 ? 3 : quarter == 3 ? 8 : 1;
}

Result<detail::Pixels> to_rgb(const AVFrame* f) {
  std::unique_ptr<SwsContext, void (*)(SwsContext*)> sws(
      sws_getContext(f->width, f->height, static_cast<AVPixelFormat>(f->format), f->width,
                     f->height, AV_PIX_FMT_RGB24, SWS_BILINEAR, nullptr, nullptr, nullptr),
      sws_freeContext);
  if (!sws) return unreadable_video("unsupported pixel format");
  detail::Pixels px{
      static_cast<std::uint32_t>(f->width), static_cast<std::uint32_t>(f->height), 3, {}};
  px.data.resize(std::size_t{px.width} * px.height * 3);
  std::uint8_t* dst[4] = {px.data.data(), nullptr, nullptr, nullptr};
  const int stride[4] = {f->width * 3, 0, 0, 0};
  if (sws_scale(sws.get(), f->data, f->linesize, 0, f->height, dst, stride) <= 0) {
    return unreadable_video("cannot convert the first frame");
  }
  return px;
}

// Decodes frames of stream `index` until the first one comes out.
Result<detail::FramePtr> first_frame(AVFormatContext* in, AVCodecContext* dec, int index) {
  detail::PacketPtr pkt(av_packet_alloc());
  detail::FramePtr frame(av_frame_alloc());
  bool flushed = false;
  for (;;) {
    int err = avcodec_receive_frame(dec, frame.get());
    if (err >= 0) return frame;
    if (err == AVERROR_EOF) return unreadable_video("no frame decodes");
    if (err != AVERROR(EAGAIN)) return unreadable_video(av_error_text(err));
    if (flushed) return unreadable_video("no frame decodes");
    err = av_read_frame(in, pkt.get());
    if (err == AVERROR_EOF) {
      avcodec_send_packet(dec, nullptr);
      flushed = true;
      continue;
    }
    if (err < 0) return unreadable_video(av_error_text(err));
    if (pkt->stream_index == index) err = avcodec_send_packet(dec, pkt.get());
    av_packet_unref(pkt.get());
    if (err < 0 && err != AVERROR(EAGAIN)) return unreadable_video(av_error_text(err));
  }
}

}  // namespace

Result<VideoInfo> probe_video(const std::filesystem::path& path) {
  detail::quiet_ffmpeg_log();
  auto opened = detail::open_input(path);
  if (!opened.ok()) return unreadable_video(opened.error().message());
  detail::InputPtr in = std::move(*opened);
  const AVCodec* codec = nullptr;
  const int index = av_find_best_stream(in.get(), AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
  if (index < 0 || codec == nullptr) return unreadable_video("no video stream");
  const AVStream* st = in->streams[index];
  // Still images (a JPEG, a PNG) open as one-frame "videos"; they are photos, not videos.
  if ((st->disposition & AV_DISPOSITION_ATTACHED_PIC) != 0 ||
      std::string(in->iformat->name).find("_pipe") != std::string::npos ||
      std::string(in->iformat->name) == "image2") {
    return unreadable_video("a still image");
  }
  const auto w = static_cast<std::uint64_t>(std::max(st->codecpar->width, 0));
  const auto h = static_cast<std::uint64_t>(std::max(st->codecpar->height, 0));
  if (Status s = detail::check_dimensions(w, h); !s.ok()) {
    return unreadable_video(s.error().message());
  }
  VideoInfo info;
  const int orientation = orientation_of(st);
  info.width = static_cast<std::uint32_t>(orientation >= 5 ? h : w);
  info.height = static_cast<std::uint32_t>(orientation >= 5 ? w : h);
  if (in->duration > 0) {
    info.duration_ms = av_rescale(in->duration, 1000, AV_TIME_BASE);
  } else if (st->duration > 0) {
    info.duration_ms = av_rescale_q(st->duration, st->time_base, AVRational{1, 1000});
  }

  auto dec = detail::open_decoder(in.get(), index, codec);
  if (!dec.ok()) return unreadable_video(dec.error().message());
  SC_ASSIGN_OR_RETURN(detail::FramePtr frame, first_frame(in.get(), dec->get(), index));
  SC_ASSIGN_OR_RETURN(detail::Pixels rgb, to_rgb(frame.get()));
  auto thumb =
      detail::thumbnail_from_pixels(detail::apply_orientation(std::move(rgb), orientation));
  if (!thumb.ok()) return unreadable_video(thumb.error().message());
  info.thumbnail = std::move(thumb->bytes);
  return info;
}

}  // namespace secchats::media
