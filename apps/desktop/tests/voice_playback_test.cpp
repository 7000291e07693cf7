// Voice messages play inline: an Ogg/Opus file made by the library's converter (the same one
// send_file uses for kind "voice") is loaded by Qt Multimedia with its duration and plays.
// Skipped, with the backend's reason, where the multimedia backend cannot play headless.
#include <gtest/gtest.h>

#include <QAudioOutput>
#include <QFile>
#include <QMediaPlayer>
#include <QTest>
#include <QUrl>
#include <QtEndian>
#include <cmath>

#include "secchats/media/audio_video.hpp"
#include "support/temp_dir.hpp"

namespace {

// A mono 16-bit 48 kHz WAV of `ms` milliseconds of a 440 Hz tone.
QByteArray wavTone(int ms) {
  const int rate = 48000;
  const int samples = rate * ms / 1000;
  QByteArray pcm(samples * 2, Qt::Uninitialized);
  for (int i = 0; i < samples; ++i) {
    const auto v = static_cast<qint16>(8000 * std::sin(2 * M_PI * 440 * i / rate));
    qToLittleEndian<qint16>(v, pcm.data() + 2 * i);
  }
  QByteArray wav;
  auto u32 = [&](quint32 x) {
    char b[4];
    qToLittleEndian<quint32>(x, b);
    wav.append(b, 4);
  };
  auto u16 = [&](quint16 x) {
    char b[2];
    qToLittleEndian<quint16>(x, b);
    wav.append(b, 2);
  };
  wav.append("RIFF");
  u32(36 + static_cast<quint32>(pcm.size()));
  wav.append("WAVEfmt ");
  u32(16);
  u16(1);  // PCM
  u16(1);  // mono
  u32(rate);
  u32(rate * 2);
  u16(2);
  u16(16);
  wav.append("data");
  u32(static_cast<quint32>(pcm.size()));
  wav.append(pcm);
  return wav;
}

TEST(VoicePlayback, AConvertedVoiceNoteLoadsWithItsDurationAndPlays) {
  secchats::testing::TempDir dir("secchats-voice-playback");
  const auto wav = dir.path() / "tone.wav";
  {
    QFile f(QString::fromStdString(wav.string()));
    ASSERT_TRUE(f.open(QIODevice::WriteOnly));
    f.write(wavTone(2000));
  }
  const auto ogg = dir.path() / "voice.ogg";
  auto converted = secchats::media::convert_to_ogg_opus(wav, ogg);
  if (!converted.ok() && converted.error().code() == secchats::ErrorCode::kUnavailable) {
    GTEST_SKIP() << converted.error().message();
  }
  ASSERT_TRUE(converted.ok()) << converted.error().message();
  EXPECT_NEAR(static_cast<double>(converted->duration_ms), 2000.0, 100.0);

  // As main.cpp: the ffmpeg backend (GStreamer's crashes here without its plugins).
  if (qEnvironmentVariableIsEmpty("QT_MEDIA_BACKEND")) qputenv("QT_MEDIA_BACKEND", "ffmpeg");
  QMediaPlayer player;
  QAudioOutput output;
  player.setAudioOutput(&output);
  player.setSource(QUrl::fromLocalFile(QString::fromStdString(ogg.string())));
  const bool settled = QTest::qWaitFor(
      [&] {
        return player.duration() > 0 || player.error() != QMediaPlayer::NoError ||
               player.mediaStatus() == QMediaPlayer::InvalidMedia;
      },
      10000);
  if (!settled || player.error() != QMediaPlayer::NoError || player.duration() <= 0) {
    GTEST_SKIP() << "the multimedia backend does not load media headless here: "
                 << player.errorString().toStdString();
  }
  EXPECT_NEAR(static_cast<double>(player.duration()), 2000.0, 150.0);
  player.play();
  const bool playing = QTest::qWaitFor(
      [&] {
        return player.playbackState() == QMediaPlayer::PlayingState ||
               player.error() != QMediaPlayer::NoError;
      },
      5000);
  if (!playing || player.error() != QMediaPlayer::NoError) {
    GTEST_SKIP() << "no audio output to play on here: " << player.errorString().toStdString();
  }
  EXPECT_EQ(player.playbackState(), QMediaPlayer::PlayingState);
  player.stop();
}

}  // namespace
