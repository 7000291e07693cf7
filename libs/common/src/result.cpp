#include "secchats/common/result.hpp"

namespace secchats {

const char* to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "invalid argument";
    case ErrorCode::kUnauthenticated:
      return "unauthenticated";
    case ErrorCode::kPermissionDenied:
      return "permission denied";
    case ErrorCode::kNotFound:
      return "not found";
    case ErrorCode::kAlreadyExists:
      return "already exists";
    case ErrorCode::kTooLarge:
      return "too large";
    case ErrorCode::kRateLimited:
      return "rate limited";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kNetwork:
      return "network error";
    case ErrorCode::kRefused:
      return "refused";
    case ErrorCode::kCorrupt:
      return "corrupt";
    case ErrorCode::kInsecure:
      return "insecure";
    case ErrorCode::kInternal:
      return "internal error";
  }
  return "unknown";
}

}  // namespace secchats
