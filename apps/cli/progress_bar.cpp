#include "progress_bar.hpp"

#include <cmath>
#include <cstdio>

namespace secchats::cli {

std::string human_size(std::uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  constexpr int kLast = 5;
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double v = static_cast<double>(bytes);
  int unit = 0;
  while (v >= 1024 && unit < kLast) {
    v /= 1024;
    ++unit;
  }
  char buf[32];
  if (v < 99.95) {
    std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[unit]);
  } else if (const double rounded = std::round(v); rounded >= 1024 && unit < kLast) {
    std::snprintf(buf, sizeof buf, "%.1f %s", v / 1024, kUnits[unit + 1]);
  } else {
    std::snprintf(buf, sizeof buf, "%.0f %s", rounded, kUnits[unit]);
  }
  return buf;
}

std::string human_rate(double bytes_per_second) {
  if (!(bytes_per_second > 0)) return "";
  return human_size(static_cast<std::uint64_t>(std::llround(bytes_per_second))) + "/s";
}

std::string human_duration(std::int64_t seconds) {
  if (seconds < 0) return "";
  char buf[32];
  const std::int64_t h = seconds / 3600, m = seconds / 60 % 60, s = seconds % 60;
  if (h > 0) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(h),
                  static_cast<long long>(m), static_cast<long long>(s));
  } else {
    std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(m),
                  static_cast<long long>(s));
  }
  return buf;
}

std::string_view phase_name(TransferProgress::Phase phase) {
  switch (phase) {
    case TransferProgress::Phase::kPreparing:
      return "preparing";
    case TransferProgress::Phase::kUploading:
      return "uploading";
    case TransferProgress::Phase::kDownloading:
      return "downloading";
    case TransferProgress::Phase::kVerifying:
      return "verifying";
  }
  return "preparing";
}

int percent_of(std::uint64_t done, std::uint64_t total) {
  if (total == 0) return 0;
  if (done >= total) return 100;
  // done < total, so the quotient is below 100; long double keeps 2^40-byte sizes exact enough.
  const auto p = static_cast<int>(static_cast<long double>(done) * 100 / total);
  return p > 99 ? 99 : p;
}

namespace {

std::string padded_percent(int percent) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%3d %%", percent);
  return buf;
}

}  // namespace

std::string render_progress_line(const ProgressSnapshot& s, std::size_t width) {
  // "uploading  " — the longest phase name ("downloading") plus one space, so the columns
  // after it stay put when the phase changes.
  std::string left(phase_name(s.phase));
  left.resize(12, ' ');
  left += padded_percent(s.percent);
  const std::string sizes = "  " + human_size(s.done_bytes) + " / " + human_size(s.total_bytes);
  std::string speed;
  if (const std::string rate = human_rate(s.bytes_per_second); !rate.empty()) speed += "  " + rate;
  if (const std::string eta = human_duration(s.eta_seconds); !eta.empty() && s.percent < 100) {
    speed += "  ETA " + eta;
  }
  const std::string right = sizes + speed;
  constexpr std::size_t kMinBar = 10, kMaxBar = 30;
  const std::size_t fixed = left.size() + 2 + right.size();  // " [" "]", one space less
  if (width >= fixed + kMinBar) {
    const std::size_t bar = std::min(kMaxBar, width - fixed);
    const std::size_t filled = bar * static_cast<std::size_t>(s.percent) / 100;
    return left + " [" + std::string(filled, '#') + std::string(bar - filled, ' ') + "]" +
           right.substr(1);
  }
  if (width >= left.size() + right.size()) return left + right;
  if (width >= left.size() + sizes.size()) return left + sizes;
  return left.substr(0, std::min(width, left.size()));
}

std::string progress_json(const ProgressSnapshot& s) {
  // Only fixed names and numbers: nothing here needs escaping.
  std::string j = "{\"event\":\"progress\",\"phase\":\"";
  j += phase_name(s.phase);
  j += "\",\"doneBytes\":" + std::to_string(s.done_bytes);
  j += ",\"totalBytes\":" + std::to_string(s.total_bytes);
  j += ",\"percent\":" + std::to_string(s.percent);
  j += ",\"bytesPerSecond\":" + std::to_string(std::llround(s.bytes_per_second));
  j += ",\"etaSeconds\":" + std::to_string(s.eta_seconds);
  j += "}";
  return j;
}

ProgressSnapshot ProgressMeter::update(const TransferProgress& p, std::int64_t now_ms) {
  if (start_ms_ < 0) start_ms_ = now_ms;
  phase_new_ = !last_ || last_->phase != p.phase;
  if (phase_new_) {
    phase_start_ms_ = now_ms;
    phase_start_bytes_ = p.done_bytes;
  }
  const bool was_complete = last_ && !phase_new_ && last_->done_bytes >= last_->total_bytes;
  ProgressSnapshot s;
  s.phase = p.phase;
  s.done_bytes = p.done_bytes;
  s.total_bytes = p.total_bytes;
  s.percent = percent_of(p.done_bytes, p.total_bytes);
  // Rate over what this phase of this run moved; too short a time says nothing.
  const std::int64_t elapsed = now_ms - phase_start_ms_;
  if (elapsed >= 250 && p.done_bytes > phase_start_bytes_) {
    s.bytes_per_second = static_cast<double>(p.done_bytes - phase_start_bytes_) * 1000.0 /
                         static_cast<double>(elapsed);
    const std::uint64_t left = p.total_bytes > p.done_bytes ? p.total_bytes - p.done_bytes : 0;
    s.eta_seconds =
        static_cast<std::int64_t>(std::ceil(static_cast<double>(left) / s.bytes_per_second));
  }
  phase_complete_ = p.total_bytes > 0 && p.done_bytes >= p.total_bytes && !was_complete;
  last_ = s;
  return s;
}

bool ProgressMeter::bar_due(std::int64_t now_ms) const {
  if (start_ms_ < 0 || now_ms - start_ms_ < kQuietMs) return false;
  if (last_draw_ms_ < 0) return true;
  return phase_complete_ || now_ms - last_draw_ms_ >= kRedrawMs;
}

bool ProgressMeter::event_due(std::int64_t now_ms) const {
  return phase_new_ || phase_complete_ || last_draw_ms_ < 0 || now_ms - last_draw_ms_ >= kRedrawMs;
}

void ProgressMeter::mark_drawn(std::int64_t now_ms) {
  last_draw_ms_ = now_ms;
}

ProgressReporter::ProgressReporter(Mode mode, std::size_t width, Write write, Clock clock)
    : mode_(mode), width_(width), write_(std::move(write)), clock_(std::move(clock)) {}

void ProgressReporter::operator()(const TransferProgress& p) {
  const std::int64_t now = clock_();
  // Tracked even when nothing is shown, so a Ctrl-C can say where the transfer stopped.
  const ProgressSnapshot s = meter_.update(p, now);
  if (mode_ == Mode::kNone) return;
  if (mode_ == Mode::kJson) {
    if (!meter_.event_due(now)) return;
    write_(progress_json(s));
  } else {
    if (!meter_.bar_due(now)) return;
    // The last column stays free: some terminals wrap when it is written.
    write_("\r" + render_progress_line(s, width_ > 1 ? width_ - 1 : 1) + "\x1b[K");
  }
  meter_.mark_drawn(now);
}

void ProgressReporter::finish() {
  if (mode_ == Mode::kBar && meter_.drawn()) write_("\r\x1b[K");
}

std::string ProgressReporter::where() const {
  const auto& s = meter_.last();
  if (!s || s->total_bytes == 0) return "0 %";
  std::string text = std::to_string(s->percent) + " % (" + human_size(s->done_bytes) + " of " +
                     human_size(s->total_bytes);
  switch (s->phase) {
    case TransferProgress::Phase::kPreparing:
      return text + " prepared)";
    case TransferProgress::Phase::kUploading:
      return text + " uploaded)";
    case TransferProgress::Phase::kDownloading:
      return text + " downloaded)";
    case TransferProgress::Phase::kVerifying:
      return text + " verified)";
  }
  return text + ")";
}

}  // namespace secchats::cli
