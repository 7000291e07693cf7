// Shared by the attachment upload and download (attachments_send.cpp, attachments_download.cpp):
// progress reporting at a steady step and the error a stopped transfer ends with.
#pragma once

#include <cstdint>

#include "secchats/client.hpp"
#include "secchats/common/result.hpp"

namespace secchats::core {

inline constexpr std::uint64_t kProgressStep = 256 * 1024;  // bytes between reports

inline Error transfer_stopped() {
  return Error(ErrorCode::kUnavailable, "transfer stopped; run it again to resume");
}

// Calls the application's callback about every kProgressStep bytes of a phase (and always
// at its end); remembers a false answer.
class ProgressReporter {
 public:
  explicit ProgressReporter(const ProgressCallback& callback) : callback_(callback) {}

  // Starts a phase of `total` bytes of which `resumed` are already done.
  void begin(TransferProgress::Phase phase, std::uint64_t total, std::uint64_t resumed = 0) {
    state_ = TransferProgress{phase, resumed, total, resumed};
    last_reported_ = resumed;
  }
  // `done` bytes of the phase so far. False: the application asked to stop.
  bool update(std::uint64_t done) {
    state_.done_bytes = done;
    if (!callback_) return true;
    if (done < state_.total_bytes && done - last_reported_ < kProgressStep) return true;
    last_reported_ = done;
    return callback_(state_);
  }
  // Reports the start of the phase as well (so a short phase is seen at all).
  bool report_now() { return callback_ ? callback_(state_) : true; }

 private:
  const ProgressCallback& callback_;
  TransferProgress state_;
  std::uint64_t last_reported_ = 0;
};

}  // namespace secchats::core
