// Voice notes and videos: inputs are made here (a WAV written sample by sample, an MP4 encoded
// with libavcodec's mpeg4 encoder), converted and probed through the real libraries.
extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
}
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "image_test_inputs.hpp"
#include "secchats/media/audio_video.hpp"
#include "secchats/media/image.hpp"
#include "support/temp_dir.hpp"

namespace secchats::media {
namespace {

namespace fs = std::filesystem;

void write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// A 16-bit PCM WAV (RIFF) of a 440 Hz sine.
std::string sine_wav(int rate, int channels, double seconds) {
  const auto frames = static_cast<std::uint32_t>(rate * seconds);
  std::string out;
  auto u32 = [&out](std::uint32_t v) {
    for (int i = 0; i < 4; ++i)
      out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  };
  auto u16 = [&out](std::uint16_t v) {
    out.push_back(static_cast<char>(v & 0xFF));
    out.push_back(static_cast<char>(v >> 8));
  };
  const std::uint32_t data_bytes = frames * static_cast<std::uint32_t>(channels) * 2;
  out += "RIFF";
  u32(36 + data_bytes);
  out += "WAVEfmt ";
  u32(16);
  u16(1);  // PCM
  u16(static_cast<std::uint16_t>(channels));
  u32(static_cast<std::uint32_t>(rate));
  u32(static_cast<std::uint32_t>(rate * channels * 2));
  u16(static_cast<std::uint16_t>(channels * 2));
  u16(16);
  out += "data";
  u32(data_bytes);
  for (std::uint32_t i = 0; i < frames; ++i) {
    const auto s = static_cast<std::int16_t>(12000 * std::sin(2 * M_PI * 440.0 * i / rate));
    for (int c = 0; c < channels; ++c)
      u16(static_cast<std::uint16_t>(s));
  }
  return out;
}

// An MPEG-4 Part 2 video in an MP4 (or Matroska) file: `frames` frames at 25 fps, a
// gradient, optionally tagged with a display rotation.
void encode_video(const fs::path& path, const char* format, int width, int height, int frames,
                  int rotate_cw = 0) {
  AVFormatContext* oc = nullptr;
  ASSERT_GE(avformat_alloc_output_context2(&oc, nullptr, format, path.c_str()), 0);
  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_MPEG4);
  ASSERT_NE(codec, nullptr);
  AVCodecContext* enc = avcodec_alloc_context3(codec);
  enc->width = width;
  enc->height = height;
  enc->pix_fmt = AV_PIX_FMT_YUV420P;
  enc->time_base = AVRational{1, 25};
  enc->framerate = AVRational{25, 1};
  enc->bit_rate = 400000;
  enc->gop_size = 10;
  if ((oc->oformat->flags & AVFMT_GLOBALHEADER) != 0) enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  ASSERT_GE(avcodec_open2(enc, codec, nullptr), 0);
  AVStream* st = avformat_new_stream(oc, nullptr);
  avcodec_parameters_from_context(st->codecpar, enc);
  st->time_base = enc->time_base;
  if (rotate_cw != 0) {
    auto* matrix = reinterpret_cast<std::int32_t*>(
        av_stream_new_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, sizeof(std::int32_t) * 9));
    av_display_rotation_set(matrix, -rotate_cw);  // counter-clockwise degrees
  }
  ASSERT_GE(avio_open(&oc->pb, path.c_str(), AVIO_FLAG_WRITE), 0);
  ASSERT_GE(avformat_write_header(oc, nullptr), 0);
  AVFrame* frame = av_frame_alloc();
  frame->format = enc->pix_fmt;
  frame->width = width;
  frame->height = height;
  ASSERT_GE(av_frame_get_buffer(frame, 0), 0);
  AVPacket* pkt = av_packet_alloc();
  auto drain = [&] {
    while (avcodec_receive_packet(enc, pkt) >= 0) {
      av_packet_rescale_ts(pkt, enc->time_base, st->time_base);
      pkt->stream_index = st->index;
      av_interleaved_write_frame(oc, pkt);
    }
  };
  for (int i = 0; i < frames; ++i) {
    av_frame_make_writable(frame);
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x)
        frame->data[0][y * frame->linesize[0] + x] = static_cast<std::uint8_t>(x + y + i);
    }
    for (int y = 0; y < height / 2; ++y) {
      for (int x = 0; x < width / 2; ++x) {
        frame->data[1][y * frame->linesize[1] + x] = 128;
        frame->data[2][y * frame->linesize[2] + x] = 128;
      }
    }
    frame->pts = i;
    avcodec_send_frame(enc, frame);
    drain();
  }
  avcodec_send_frame(enc, nullptr);
  drain();
  av_write_trailer(oc);
  avio_closep(&oc->pb);
  av_packet_free(&pkt);
  av_frame_free(&frame);
  avcodec_free_context(&enc);
  avformat_free_context(oc);
}

class AudioVideo : public ::testing::Test {
 protected:
  secchats::testing::TempDir dir_;
};

TEST_F(AudioVideo, WavBecomesAnOggOpusVoiceNoteOfTheSameLength) {
  write_file(dir_.path() / "in.wav", sine_wav(44100, 2, 2.5));
  auto converted = convert_to_ogg_opus(dir_.path() / "in.wav", dir_.path() / "note.opus");
  ASSERT_TRUE(converted.ok()) << converted.error().message();
  EXPECT_NEAR(static_cast<double>(converted->duration_ms), 2500.0, 50.0);
  EXPECT_FALSE(fs::exists(dir_.path() / "note.opus.part"));
  auto probed = probe_ogg_opus(dir_.path() / "note.opus");
  ASSERT_TRUE(probed.ok()) << probed.error().message();
  EXPECT_NEAR(static_cast<double>(probed->duration_ms), 2500.0, 50.0);
  // About 32 kbit/s mono: 2.5 s is ~10 KB, far below the 441 KB of PCM.
  EXPECT_LT(fs::file_size(dir_.path() / "note.opus"), 40'000u);
  // A mono 8 kHz recording too (resampled to 48 kHz).
  write_file(dir_.path() / "low.wav", sine_wav(8000, 1, 0.7));
  auto low = convert_to_ogg_opus(dir_.path() / "low.wav", dir_.path() / "low.opus");
  ASSERT_TRUE(low.ok()) << low.error().message();
  EXPECT_NEAR(static_cast<double>(low->duration_ms), 700.0, 50.0);
}

TEST_F(AudioVideo, WhatIsNotAudioIsRefusedAndNothingIsLeft) {
  write_file(dir_.path() / "notes.txt", "shopping list: milk, eggs\n");
  auto out = convert_to_ogg_opus(dir_.path() / "notes.txt", dir_.path() / "x.opus");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(out.error().message().rfind("cannot read audio from this file: ", 0), 0u)
      << out.error().message();
  EXPECT_FALSE(fs::exists(dir_.path() / "x.opus"));
  EXPECT_FALSE(fs::exists(dir_.path() / "x.opus.part"));

  auto probed = probe_ogg_opus(dir_.path() / "notes.txt");
  ASSERT_FALSE(probed.ok());
  EXPECT_EQ(probed.error().message(), "not an Ogg/Opus file");
  write_file(dir_.path() / "in.wav", sine_wav(16000, 1, 0.2));
  EXPECT_EQ(probe_ogg_opus(dir_.path() / "in.wav").error().message(), "not an Ogg/Opus file");
  EXPECT_FALSE(probe_ogg_opus(dir_.path() / "missing.opus").ok());

  // A video without sound has no audio to convert.
  encode_video(dir_.path() / "silent.mkv", "matroska", 64, 48, 5);
  auto silent = convert_to_ogg_opus(dir_.path() / "silent.mkv", dir_.path() / "y.opus");
  ASSERT_FALSE(silent.ok());
  EXPECT_EQ(silent.error().message(), "cannot read audio from this file: no audio stream");
}

TEST_F(AudioVideo, OggOpusCutShortIsCorruptOrShorter) {
  write_file(dir_.path() / "in.wav", sine_wav(48000, 1, 3.0));
  ASSERT_TRUE(convert_to_ogg_opus(dir_.path() / "in.wav", dir_.path() / "n.opus").ok());
  std::ifstream f(dir_.path() / "n.opus", std::ios::binary);
  std::string whole((std::istreambuf_iterator<char>(f)), {});
  write_file(dir_.path() / "head.opus", whole.substr(0, 40));
  auto head = probe_ogg_opus(dir_.path() / "head.opus");
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(head.error().code(), ErrorCode::kInvalidArgument);
}

TEST_F(AudioVideo, ProbesAnMp4AndAMatroskaVideo) {
  encode_video(dir_.path() / "clip.mp4", "mp4", 160, 120, 50);
  auto mp4 = probe_video(dir_.path() / "clip.mp4");
  ASSERT_TRUE(mp4.ok()) << mp4.error().message();
  EXPECT_EQ(mp4->width, 160u);
  EXPECT_EQ(mp4->height, 120u);
  EXPECT_NEAR(static_cast<double>(mp4->duration_ms), 2000.0, 80.0);
  ASSERT_FALSE(mp4->thumbnail.empty());
  EXPECT_LE(mp4->thumbnail.size(), 16u * 1024);
  EXPECT_EQ(sniff_image_type(mp4->thumbnail), "image/jpeg");
  const auto thumb = media::testing::decode(mp4->thumbnail);
  EXPECT_EQ(thumb.width, 160u);
  EXPECT_EQ(thumb.height, 120u);

  encode_video(dir_.path() / "clip.mkv", "matroska", 96, 64, 25);
  auto mkv = probe_video(dir_.path() / "clip.mkv");
  ASSERT_TRUE(mkv.ok()) << mkv.error().message();
  EXPECT_EQ(mkv->width, 96u);
  EXPECT_EQ(mkv->height, 64u);
  EXPECT_NEAR(static_cast<double>(mkv->duration_ms), 1000.0, 80.0);
  EXPECT_FALSE(mkv->thumbnail.empty());

  // 640×360 recorded by a phone held upright: shown as 360×640, the thumbnail too.
  encode_video(dir_.path() / "portrait.mp4", "mp4", 640, 360, 12, 90);
  auto rotated = probe_video(dir_.path() / "portrait.mp4");
  ASSERT_TRUE(rotated.ok()) << rotated.error().message();
  EXPECT_EQ(rotated->width, 360u);
  EXPECT_EQ(rotated->height, 640u);
  const auto portrait = media::testing::decode(rotated->thumbnail);
  EXPECT_EQ(portrait.height, 320u);
  EXPECT_EQ(portrait.width, 180u);
}

TEST_F(AudioVideo, WhatIsNotAVideoIsRefused) {
  write_file(dir_.path() / "notes.txt", "not a video at all");
  auto text = probe_video(dir_.path() / "notes.txt");
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(text.error().message().rfind("not a video this client can read: ", 0), 0u);
  write_file(dir_.path() / "in.wav", sine_wav(16000, 1, 0.2));
  EXPECT_EQ(probe_video(dir_.path() / "in.wav").error().message(),
            "not a video this client can read: no video stream");
  const auto jpeg = media::testing::encode_jpeg(media::testing::make_picture(32, 32, 5, 4), 80);
  write_file(dir_.path() / "photo.jpg", std::string(jpeg.begin(), jpeg.end()));
  EXPECT_FALSE(probe_video(dir_.path() / "photo.jpg").ok());
}

}  // namespace
}  // namespace secchats::media
