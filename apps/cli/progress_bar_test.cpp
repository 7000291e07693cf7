// The progress bar's formatting and pacing, with time passed in (no clocks, no sleeps).
#include "progress_bar.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace secchats::cli {
namespace {

using Phase = TransferProgress::Phase;

TEST(HumanSize, BinaryUnitsWithOneDecimalBelowAHundred) {
  EXPECT_EQ(human_size(0), "0 B");
  EXPECT_EQ(human_size(1), "1 B");
  EXPECT_EQ(human_size(1023), "1023 B");
  EXPECT_EQ(human_size(1024), "1.0 KiB");
  EXPECT_EQ(human_size(1536), "1.5 KiB");
  EXPECT_EQ(human_size(50ull << 20), "50.0 MiB");
  EXPECT_EQ(human_size(123ull << 20), "123 MiB");
  EXPECT_EQ(human_size((3ull << 30) / 2), "1.5 GiB");
  EXPECT_EQ(human_size(1ull << 40), "1.0 TiB");
}

TEST(HumanSize, NeverShowsAFullUnitOfTheSmallerOne) {
  // 1023.9 KiB would round to "1024 KiB": shown as the next unit instead.
  EXPECT_EQ(human_size(1024 * 1024 - 100), "1.0 MiB");
  // 99.96 KiB rounds past the one-decimal form: a whole number.
  EXPECT_EQ(human_size(102359), "100 KiB");
}

TEST(HumanRate, PerSecondOrNothingWhenUnknown) {
  EXPECT_EQ(human_rate(0), "");
  EXPECT_EQ(human_rate(-5), "");
  EXPECT_EQ(human_rate(512), "512 B/s");
  EXPECT_EQ(human_rate(12.3 * 1024 * 1024), "12.3 MiB/s");
}

TEST(HumanDuration, MinutesSecondsAndHours) {
  EXPECT_EQ(human_duration(-1), "");
  EXPECT_EQ(human_duration(0), "0:00");
  EXPECT_EQ(human_duration(7), "0:07");
  EXPECT_EQ(human_duration(65), "1:05");
  EXPECT_EQ(human_duration(3599), "59:59");
  EXPECT_EQ(human_duration(3723), "1:02:03");
}

TEST(Percent, RoundsDownAndIsHundredOnlyWhenDone) {
  EXPECT_EQ(percent_of(0, 0), 0);
  EXPECT_EQ(percent_of(0, 10), 0);
  EXPECT_EQ(percent_of(6, 10), 60);
  EXPECT_EQ(percent_of(999, 1000), 99);
  EXPECT_EQ(percent_of(999999, 1000000), 99);
  EXPECT_EQ(percent_of(10, 10), 100);
  EXPECT_EQ(percent_of(1ull << 40, 1ull << 40), 100);
  EXPECT_EQ(percent_of((1ull << 40) - 1, 1ull << 40), 99);
}

ProgressSnapshot sixty_percent() {
  ProgressSnapshot s;
  s.phase = Phase::kUploading;
  s.done_bytes = 30ull << 20;
  s.total_bytes = 50ull << 20;
  s.percent = 60;
  s.bytes_per_second = 10.0 * (1 << 20);
  s.eta_seconds = 2;
  return s;
}

TEST(ProgressLine, FullLineWithBarSizesRateAndEta) {
  const std::string line = render_progress_line(sixty_percent(), 100);
  EXPECT_EQ(line,
            "uploading    60 % [##################            ] 30.0 MiB / 50.0 MiB  "
            "10.0 MiB/s  ETA 0:02");
  EXPECT_LE(line.size(), 100u);
}

TEST(ProgressLine, DropsPartsAsTheWidthShrinksAndNeverExceedsIt) {
  const ProgressSnapshot s = sixty_percent();
  for (std::size_t width = 1; width <= 120; ++width) {
    const std::string line = render_progress_line(s, width);
    EXPECT_LE(line.size(), width) << line;
    EXPECT_FALSE(line.empty());
  }
  // Narrow: the bar goes first, then rate and ETA, then the sizes.
  EXPECT_EQ(render_progress_line(s, 62),
            "uploading    60 %  30.0 MiB / 50.0 MiB  10.0 MiB/s  ETA 0:02");
  EXPECT_EQ(render_progress_line(s, 40), "uploading    60 %  30.0 MiB / 50.0 MiB");
  EXPECT_EQ(render_progress_line(s, 20), "uploading    60 %");
  EXPECT_EQ(render_progress_line(s, 9), "uploading");
}

TEST(ProgressLine, UnknownRateAndFinishedTransferShowNoEta) {
  ProgressSnapshot s = sixty_percent();
  s.bytes_per_second = 0;
  s.eta_seconds = -1;
  EXPECT_EQ(render_progress_line(s, 40), "uploading    60 %  30.0 MiB / 50.0 MiB");
  s = sixty_percent();
  s.done_bytes = s.total_bytes;
  s.percent = 100;
  s.eta_seconds = 0;
  const std::string line = render_progress_line(s, 200);
  EXPECT_EQ(line.find("ETA"), std::string::npos) << line;
  EXPECT_NE(line.find("[" + std::string(30, '#') + "]"), std::string::npos) << line;
}

TEST(ProgressJson, OneObjectWithNumbers) {
  EXPECT_EQ(progress_json(sixty_percent()),
            "{\"event\":\"progress\",\"phase\":\"uploading\",\"doneBytes\":31457280,"
            "\"totalBytes\":52428800,\"percent\":60,\"bytesPerSecond\":10485760,"
            "\"etaSeconds\":2}");
}

TransferProgress progress(Phase phase, std::uint64_t done, std::uint64_t total,
                          std::uint64_t resumed = 0) {
  TransferProgress p;
  p.phase = phase;
  p.done_bytes = done;
  p.total_bytes = total;
  p.resumed_from = resumed;
  return p;
}

TEST(ProgressMeter, RateAndEtaCountOnlyWhatThisRunMoved) {
  ProgressMeter meter;
  // Resumed at 20 MiB of 50: the first callback says so.
  meter.update(progress(Phase::kUploading, 20ull << 20, 50ull << 20, 20ull << 20), 1000);
  // 2 s later 10 MiB more: 5 MiB/s, 20 MiB left: 4 s.
  auto s = meter.update(progress(Phase::kUploading, 30ull << 20, 50ull << 20, 20ull << 20), 3000);
  EXPECT_DOUBLE_EQ(s.bytes_per_second, 5.0 * (1 << 20));
  EXPECT_EQ(s.eta_seconds, 4);
  EXPECT_EQ(s.percent, 60);
}

TEST(ProgressMeter, RateStartsAgainWithEachPhase) {
  ProgressMeter meter;
  meter.update(progress(Phase::kDownloading, 0, 100), 0);
  meter.update(progress(Phase::kDownloading, 100, 100), 1000);
  auto s = meter.update(progress(Phase::kVerifying, 0, 100), 1000);
  EXPECT_EQ(s.bytes_per_second, 0);
  EXPECT_EQ(s.eta_seconds, -1);
  s = meter.update(progress(Phase::kVerifying, 50, 100), 1500);
  EXPECT_DOUBLE_EQ(s.bytes_per_second, 100);
  EXPECT_EQ(s.eta_seconds, 1);
}

// A reporter fed with a scripted clock, recording what it writes.
struct Script {
  std::int64_t now = 0;
  std::vector<std::string> written;
  ProgressReporter reporter(ProgressReporter::Mode mode, std::size_t width = 80) {
    return ProgressReporter(
        mode, width, [this](std::string_view s) { written.emplace_back(s); },
        [this] { return now; });
  }
};

TEST(ProgressReporter, BarWaitsHalfASecondThenRedrawsAtMostTenTimesASecond) {
  Script script;
  auto reporter = script.reporter(ProgressReporter::Mode::kBar);
  const std::uint64_t total = 1000;
  // A callback every 20 ms for 2 s.
  for (std::uint64_t i = 0; i <= 100; ++i) {
    script.now = static_cast<std::int64_t>(i) * 20;
    reporter(progress(Phase::kUploading, i * 10, total));
  }
  // Nothing in the first 500 ms; then at 500 ms and every 100 ms up to 2000 ms: 16 draws.
  ASSERT_EQ(script.written.size(), 16u);
  for (const auto& w : script.written) {
    EXPECT_EQ(w.front(), '\r');
    EXPECT_TRUE(w.ends_with("\x1b[K"));
    EXPECT_LE(w.size() - 4, 79u) << w;  // the last column stays free
  }
  EXPECT_NE(script.written.front().find(" 25 %"), std::string::npos) << script.written.front();
  EXPECT_NE(script.written.back().find("100 %"), std::string::npos) << script.written.back();
  reporter.finish();
  EXPECT_EQ(script.written.back(), "\r\x1b[K");
  EXPECT_EQ(reporter.where(), "100 % (1000 B of 1000 B uploaded)");
}

TEST(ProgressReporter, AQuickTransferDrawsNothingAndClearsNothing) {
  Script script;
  auto reporter = script.reporter(ProgressReporter::Mode::kBar);
  for (std::int64_t t = 0; t < 400; t += 50) {
    script.now = t;
    reporter(progress(Phase::kUploading, static_cast<std::uint64_t>(t), 400));
  }
  reporter.finish();
  EXPECT_TRUE(script.written.empty());
}

TEST(ProgressReporter, JsonEventsFirstOfEachPhaseThenPacedAndTheCompletingOne) {
  Script script;
  auto reporter = script.reporter(ProgressReporter::Mode::kJson);
  script.now = 0;
  reporter(progress(Phase::kPreparing, 0, 10));
  script.now = 10;
  reporter(progress(Phase::kPreparing, 10, 10));  // completes the phase
  reporter(progress(Phase::kUploading, 0, 100));  // first of a phase
  script.now = 50;
  reporter(progress(Phase::kUploading, 50, 100));  // too soon
  script.now = 110;
  reporter(progress(Phase::kUploading, 60, 100));  // 100 ms since the last
  script.now = 120;
  reporter(progress(Phase::kUploading, 100, 100));  // completes it
  ASSERT_EQ(script.written.size(), 5u);
  EXPECT_NE(script.written[0].find("\"phase\":\"preparing\",\"doneBytes\":0"), std::string::npos);
  EXPECT_NE(script.written[1].find("\"percent\":100"), std::string::npos);
  EXPECT_NE(script.written[2].find("\"phase\":\"uploading\",\"doneBytes\":0"), std::string::npos);
  EXPECT_NE(script.written[3].find("\"doneBytes\":60"), std::string::npos);
  EXPECT_NE(script.written[4].find("\"doneBytes\":100"), std::string::npos);
  reporter.finish();  // JSON: nothing to clear
  EXPECT_EQ(script.written.size(), 5u);
  EXPECT_EQ(reporter.where(), "100 % (100 B of 100 B uploaded)");
}

TEST(ProgressReporter, NoneWritesNothingButStillKnowsWhereItStopped) {
  Script script;
  auto reporter = script.reporter(ProgressReporter::Mode::kNone);
  EXPECT_EQ(reporter.where(), "0 %");
  script.now = 5000;
  reporter(progress(Phase::kDownloading, 60, 100));
  EXPECT_TRUE(script.written.empty());
}

}  // namespace
}  // namespace secchats::cli
