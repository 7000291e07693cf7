// Progress of an attachment transfer as the CLI shows it (docs/cli.md "Progress"):
//
// - stderr is a terminal (and no --json): one line redrawn in place, at most every 100 ms and
//   only once the transfer has lasted 500 ms (a quick one shows nothing), cleared at the end:
//   "uploading  60 % [##########      ] 30.0 MiB / 50.0 MiB  12.3 MiB/s  ETA 0:02"
// - --json: `progress` objects on stdout, one per line, among the command's other objects:
//   {"event":"progress","phase":"uploading","doneBytes":N,"totalBytes":N,"percent":P,
//    "bytesPerSecond":R,"etaSeconds":S} — the first callback of each phase, then at most one
//   per 100 ms, and the one that completes a phase (doneBytes == totalBytes).
// - otherwise nothing.
//
// Time is passed in (milliseconds of a steady clock) so that the formatting is testable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "secchats/client.hpp"

namespace secchats::cli {

// Binary units: "0 B", "1023 B", "1.0 KiB", "12.3 MiB", "123 MiB", "1.5 GiB" (one decimal
// below 100 of a unit, whole numbers from 100 up; never "1024 KiB").
std::string human_size(std::uint64_t bytes);
// human_size of a rate + "/s" ("12.3 MiB/s"); "" when the rate is not known (<= 0).
std::string human_rate(double bytes_per_second);
// "0:07", "1:05", "59:59", "1:02:03"; "" when unknown (negative).
std::string human_duration(std::int64_t seconds);
// "preparing", "uploading", "downloading", "verifying" (also the JSON `phase`).
std::string_view phase_name(TransferProgress::Phase phase);
// done/total in whole percent, rounded down: 100 only once done == total (and 0 for total 0).
int percent_of(std::uint64_t done, std::uint64_t total);

// Where a transfer stands, as drawn or printed.
struct ProgressSnapshot {
  TransferProgress::Phase phase = TransferProgress::Phase::kPreparing;
  std::uint64_t done_bytes = 0;
  std::uint64_t total_bytes = 0;
  int percent = 0;
  double bytes_per_second = 0;    // over this phase of this run (resumed bytes not counted)
  std::int64_t eta_seconds = -1;  // -1: unknown
};

// The bar line in at most `width` columns. Parts are dropped as the width shrinks: first the
// bar, then rate and ETA, then the sizes; the phase and percentage always stay.
std::string render_progress_line(const ProgressSnapshot& s, std::size_t width);

// A `progress` JSON object (see above) on one line, without the newline.
std::string progress_json(const ProgressSnapshot& s);

// Follows one transfer's callbacks and says when to draw.
class ProgressMeter {
 public:
  static constexpr std::int64_t kRedrawMs = 100;  // at most ~10 redraws a second
  static constexpr std::int64_t kQuietMs = 500;   // nothing drawn for a shorter transfer

  ProgressSnapshot update(const TransferProgress& p, std::int64_t now_ms);
  // A bar redraw is due: the transfer has lasted kQuietMs and the last draw is kRedrawMs
  // old (or the phase just completed and something was drawn before).
  bool bar_due(std::int64_t now_ms) const;
  // A JSON event is due: the phase's first callback, kRedrawMs since the last event, or the
  // callback that completes the phase.
  bool event_due(std::int64_t now_ms) const;
  void mark_drawn(std::int64_t now_ms);
  const std::optional<ProgressSnapshot>& last() const { return last_; }
  bool drawn() const { return last_draw_ms_ >= 0; }

 private:
  std::int64_t start_ms_ = -1;        // first callback of the transfer
  std::int64_t phase_start_ms_ = -1;  // first callback of the current phase
  std::uint64_t phase_start_bytes_ = 0;
  std::int64_t last_draw_ms_ = -1;
  bool phase_new_ = false;
  bool phase_complete_ = false;
  std::optional<ProgressSnapshot> last_;
};

// Turns callbacks into bar redraws or JSON events through `write`.
class ProgressReporter {
 public:
  enum class Mode { kNone, kBar, kJson };
  // kBar: the text to write to the terminal (carriage return, line, erase to its end);
  // kJson: one JSON object without the newline.
  using Write = std::function<void(std::string_view)>;
  using Clock = std::function<std::int64_t()>;  // steady milliseconds

  ProgressReporter(Mode mode, std::size_t width, Write write, Clock clock);
  void operator()(const TransferProgress& p);
  // Clears a drawn bar so that the next line starts clean.
  void finish();
  // For the Ctrl-C line: "60 % (30.0 MiB of 50.0 MiB uploaded)", or "0 %" before any byte.
  std::string where() const;

 private:
  Mode mode_;
  std::size_t width_;
  Write write_;
  Clock clock_;
  ProgressMeter meter_;
};

}  // namespace secchats::cli
