// Exit codes of the secchats command (docs/cli.md). Scripts rely on them: keep them stable.
#pragma once

#include "secchats/common/result.hpp"

namespace secchats::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,        // anything not below (local state, I/O)
  kExitUsage = 2,          // bad arguments or input
  kExitWrongPassword = 3,  // the store did not unlock
  kExitNetwork = 4,        // the relay could not be reached (or is overloaded)
  kExitRefused = 5,        // the relay answered with an error
  kExitNotFound = 6,       // no such friend, group, request, message or ID
  kExitBusy = 7,           // another secchats daemon serves this account (docs/cli.md)
  // Ctrl-C stopped a transfer (send-file, send-voice, download) at a resumable point: the
  // shell's convention for SIGINT (128 + 2). Running the same command again resumes.
  kExitInterrupted = 130,
};

// For errors after the store is open (a 401 then is the relay refusing our token).
inline int exit_code_for(const Error& e) {
  switch (e.code()) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kTooLarge:
      return kExitUsage;
    case ErrorCode::kNetwork:
    case ErrorCode::kUnavailable:
      return kExitNetwork;
    case ErrorCode::kRefused:
    case ErrorCode::kUnauthenticated:
    case ErrorCode::kRateLimited:
    case ErrorCode::kPermissionDenied:
    case ErrorCode::kInsecure:
      return kExitRefused;
    case ErrorCode::kNotFound:
      return kExitNotFound;
    default:
      return kExitFailure;
  }
}

}  // namespace secchats::cli
