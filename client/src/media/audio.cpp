// Voice notes: probing Ogg/Opus with libopusfile, and converting any audio ffmpeg reads to
// Ogg/Opus (libavformat demuxes, libavcodec decodes and encodes with libopus, libswresample
// makes it mono 48 kHz).
extern "C" {
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libswresample/swresample.h>
}
#include <opusfile.h>

#include <system_error>
#include <vector>

#include "av_util.hpp"
#include "image_internal.hpp"
#include "secchats/media/audio_video.hpp"

namespace secchats::media {
namespace {

using detail::av_error_text;

constexpr int kOpusRate = 48000;  // Opus always decodes at 48 kHz; granule positions count it

Error unreadable_audio(const std::string& reason) {
  return Error(ErrorCode::kInvalidArgument, "cannot read audio from this file: " + reason);
}

struct Converter {
  AVFormatContext* out = nullptr;
  AVCodecContext* enc = nullptr;
  AVStream* stream = nullptr;
  std::int64_t next_pts = 0;

  // Sends one frame (or nullptr to drain) and writes every packet the encoder gives back.
  Status encode(AVFrame* frame) {
    if (frame != nullptr) {
      frame->pts = next_pts;
      next_pts += frame->nb_samples;
    }
    int err = avcodec_send_frame(enc, frame);
    if (err < 0) return Error(ErrorCode::kInternal, "Opus encoding failed: " + av_error_text(err));
    detail::PacketPtr pkt(av_packet_alloc());
    for (;;) {
      err = avcodec_receive_packet(enc, pkt.get());
      if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return ok_status();
      if (err < 0)
        return Error(ErrorCode::kInternal, "Opus encoding failed: " + av_error_text(err));
      av_packet_rescale_ts(pkt.get(), enc->time_base, stream->time_base);
      pkt->stream_index = stream->index;
      err = av_interleaved_write_frame(out, pkt.get());
      if (err < 0)
        return Error(ErrorCode::kInternal, "writing the voice note failed: " + av_error_text(err));
    }
  }
};

struct OutputCloser {
  void operator()(AVFormatContext* c) const {
    if (c->pb != nullptr) avio_closep(&c->pb);
    avformat_free_context(c);
  }
};

Status convert(const std::filesystem::path& in_path, const std::filesystem::path& tmp) {
  detail::quiet_ffmpeg_log();
  auto opened = detail::open_input(in_path);
  if (!opened.ok()) return unreadable_audio(opened.error().message());
  detail::InputPtr in = std::move(*opened);
  const AVCodec* dec_codec = nullptr;
  const int index = av_find_best_stream(in.get(), AVMEDIA_TYPE_AUDIO, -1, -1, &dec_codec, 0);
  if (index < 0 || dec_codec == nullptr) return unreadable_audio("no audio stream");
  auto dec_or = detail::open_decoder(in.get(), index, dec_codec);
  if (!dec_or.ok()) return unreadable_audio(dec_or.error().message());
  detail::CodecPtr dec = std::move(*dec_or);

  const AVCodec* enc_codec = avcodec_find_encoder_by_name("libopus");
  if (enc_codec == nullptr)
    return Error(ErrorCode::kUnavailable, "no Opus encoder in this ffmpeg build");
  detail::CodecPtr enc(avcodec_alloc_context3(enc_codec));
  enc->sample_rate = kOpusRate;
  av_channel_layout_default(&enc->ch_layout, 1);
  enc->sample_fmt =
      enc_codec->sample_fmts != nullptr ? enc_codec->sample_fmts[0] : AV_SAMPLE_FMT_S16;
  enc->bit_rate = 32000;
  enc->time_base = AVRational{1, kOpusRate};

  AVFormatContext* out_raw = nullptr;
  int err = avformat_alloc_output_context2(&out_raw, nullptr, "ogg", tmp.c_str());
  if (err < 0 || out_raw == nullptr)
    return Error(ErrorCode::kInternal, "no Ogg muxer in this ffmpeg build");
  std::unique_ptr<AVFormatContext, OutputCloser> out(out_raw);
  if ((out->oformat->flags & AVFMT_GLOBALHEADER) != 0) enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  err = avcodec_open2(enc.get(), enc_codec, nullptr);
  if (err < 0)
    return Error(ErrorCode::kInternal, "cannot start the Opus encoder: " + av_error_text(err));
  AVStream* stream = avformat_new_stream(out.get(), nullptr);
  if (stream == nullptr) return Error(ErrorCode::kInternal, "out of memory");
  avcodec_parameters_from_context(stream->codecpar, enc.get());
  stream->time_base = enc->time_base;
  err = avio_open(&out->pb, tmp.c_str(), AVIO_FLAG_WRITE);
  if (err < 0)
    return Error(ErrorCode::kInternal, "cannot write the voice note: " + av_error_text(err));
  err = avformat_write_header(out.get(), nullptr);
  if (err < 0)
    return Error(ErrorCode::kInternal, "cannot write the voice note: " + av_error_text(err));

  // The decoder's layout may be unspecified (only a channel count): take the default one.
  AVChannelLayout in_layout{};
  if (dec->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC || dec->ch_layout.nb_channels == 0) {
    av_channel_layout_default(&in_layout, std::max(dec->ch_layout.nb_channels, 1));
  } else {
    av_channel_layout_copy(&in_layout, &dec->ch_layout);
  }
  SwrContext* swr_raw = nullptr;
  err = swr_alloc_set_opts2(&swr_raw, &enc->ch_layout, enc->sample_fmt, kOpusRate, &in_layout,
                            dec->sample_fmt, dec->sample_rate, 0, nullptr);
  av_channel_layout_uninit(&in_layout);
  std::unique_ptr<SwrContext, void (*)(SwrContext*)> swr(swr_raw,
                                                         [](SwrContext* s) { swr_free(&s); });
  if (err < 0 || swr_init(swr.get()) < 0) return unreadable_audio("unsupported sample layout");
  const int frame_size = enc->frame_size > 0 ? enc->frame_size : 960;
  std::unique_ptr<AVAudioFifo, void (*)(AVAudioFifo*)> fifo(
      av_audio_fifo_alloc(enc->sample_fmt, 1, frame_size), av_audio_fifo_free);

  Converter conv{out.get(), enc.get(), stream, 0};
  detail::FramePtr frame(av_frame_alloc());
  // Moves converted samples into the FIFO, then encodes whole frames (all of them at the end).
  auto push = [&](const std::uint8_t** data, int samples, bool last) -> Status {
    const int room = swr_get_out_samples(swr.get(), samples);
    if (room > 0) {
      detail::FramePtr buf(av_frame_alloc());
      buf->format = enc->sample_fmt;
      buf->nb_samples = room;
      av_channel_layout_copy(&buf->ch_layout, &enc->ch_layout);
      if (av_frame_get_buffer(buf.get(), 0) < 0)
        return Error(ErrorCode::kInternal, "out of memory");
      const int got = swr_convert(swr.get(), buf->data, room, data, samples);
      if (got < 0) return unreadable_audio("cannot resample");
      if (got > 0) av_audio_fifo_write(fifo.get(), reinterpret_cast<void**>(buf->data), got);
    }
    while (av_audio_fifo_size(fifo.get()) >= frame_size ||
           (last && av_audio_fifo_size(fifo.get()) > 0)) {
      detail::FramePtr f(av_frame_alloc());
      f->format = enc->sample_fmt;
      f->nb_samples = std::min(frame_size, av_audio_fifo_size(fifo.get()));
      f->sample_rate = kOpusRate;
      av_channel_layout_copy(&f->ch_layout, &enc->ch_layout);
      if (av_frame_get_buffer(f.get(), 0) < 0) return Error(ErrorCode::kInternal, "out of memory");
      av_audio_fifo_read(fifo.get(), reinterpret_cast<void**>(f->data), f->nb_samples);
      SC_TRY(conv.encode(f.get()));
    }
    return ok_status();
  };
  auto drain_decoder = [&]() -> Status {
    for (;;) {
      err = avcodec_receive_frame(dec.get(), frame.get());
      if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return ok_status();
      if (err < 0) return unreadable_audio(av_error_text(err));
      SC_TRY(
          push(const_cast<const std::uint8_t**>(frame->extended_data), frame->nb_samples, false));
      av_frame_unref(frame.get());
    }
  };
  detail::PacketPtr pkt(av_packet_alloc());
  bool any_audio = false;
  while ((err = av_read_frame(in.get(), pkt.get())) >= 0) {
    if (pkt->stream_index == index) {
      any_audio = true;
      const int sent = avcodec_send_packet(dec.get(), pkt.get());
      if (sent < 0 && sent != AVERROR(EAGAIN)) {
        av_packet_unref(pkt.get());
        return unreadable_audio(av_error_text(sent));
      }
      if (Status s = drain_decoder(); !s.ok()) {
        av_packet_unref(pkt.get());
        return s;
      }
    }
    av_packet_unref(pkt.get());
  }
  if (err != AVERROR_EOF) return unreadable_audio(av_error_text(err));
  if (!any_audio) return unreadable_audio("no audio data");
  avcodec_send_packet(dec.get(), nullptr);
  SC_TRY(drain_decoder());
  SC_TRY(push(nullptr, 0, true));  // what swresample still holds, and the last partial frame
  SC_TRY(conv.encode(nullptr));
  err = av_write_trailer(out.get());
  if (err < 0)
    return Error(ErrorCode::kInternal, "cannot write the voice note: " + av_error_text(err));
  return ok_status();
}

}  // namespace

Result<VoiceInfo> probe_ogg_opus(const std::filesystem::path& path) {
  int err = 0;
  OggOpusFile* raw = op_open_file(path.c_str(), &err);
  if (raw == nullptr) {
    if (err == OP_EFAULT) return Error(ErrorCode::kNotFound, "cannot read the file");
    if (err == OP_ENOTFORMAT || err == OP_EVERSION) {
      return Error(ErrorCode::kInvalidArgument, "not an Ogg/Opus file");
    }
    return Error(ErrorCode::kInvalidArgument,
                 "Ogg/Opus file is corrupt: libopusfile error " + std::to_string(err));
  }
  std::unique_ptr<OggOpusFile, void (*)(OggOpusFile*)> of(raw, op_free);
  const ogg_int64_t samples = op_pcm_total(raw, -1);
  if (samples < 0) {
    return Error(ErrorCode::kInvalidArgument, "Ogg/Opus file is corrupt: no length");
  }
  // Decoding every packet is what tells a whole file from one cut or damaged inside.
  std::vector<float> pcm(5760 * 2);
  for (;;) {
    const int n = op_read_float(raw, pcm.data(), static_cast<int>(pcm.size()), nullptr);
    if (n == 0) break;
    if (n < 0) {
      return Error(ErrorCode::kInvalidArgument,
                   "Ogg/Opus file is corrupt: libopusfile error " + std::to_string(n));
    }
  }
  return VoiceInfo{samples * 1000 / kOpusRate};
}

Result<VoiceInfo> convert_to_ogg_opus(const std::filesystem::path& in,
                                      const std::filesystem::path& out) {
  std::filesystem::path tmp = out;
  tmp += ".part";
  Status s = convert(in, tmp);
  std::error_code ec;
  if (!s.ok()) {
    std::filesystem::remove(tmp, ec);
    return s.error();
  }
  auto info = probe_ogg_opus(tmp);
  if (!info.ok()) {
    std::filesystem::remove(tmp, ec);
    return Error(ErrorCode::kInternal, "the voice note written does not read back");
  }
  std::filesystem::rename(tmp, out, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return Error(ErrorCode::kInternal, "cannot write the voice note");
  }
  return info;
}

}  // namespace secchats::media
