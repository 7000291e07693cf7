// Errors as values: every fallible operation in the libraries returns Result<T> (or Status),
// never throws across a library boundary.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace secchats {

// What went wrong, coarse enough to map onto an HTTP status or a CLI exit code.
enum class ErrorCode {
  kInvalidArgument,   // malformed or out-of-range input (HTTP 400, CLI usage)
  kUnauthenticated,   // bad credentials (HTTP 401)
  kPermissionDenied,  // authenticated but not allowed, or wrong password
  kNotFound,          // unknown target (HTTP 404)
  kAlreadyExists,
  kTooLarge,     // input exceeds a configured bound (HTTP 413)
  kRateLimited,  // HTTP 429
  kUnavailable,  // overloaded or shutting down (HTTP 503)
  kNetwork,      // could not reach a peer
  kRefused,      // a peer answered with an error
  kCorrupt,      // stored or received data failed an integrity check
  kInsecure,     // the peer asked for something we refuse for security reasons
  kInternal,     // a bug or an unexpected library failure
};

const char* to_string(ErrorCode code);

class Error {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  ErrorCode code_;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value)
      : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const& { return std::get<1>(state_); }
  Error&& error() && { return std::get<1>(std::move(state_)); }

 private:
  std::variant<T, Error> state_;
};

// Result<void>: success or an error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

 private:
  Error error_{ErrorCode::kInternal, ""};
  bool ok_ = true;
};

using Status = Result<void>;

inline Status ok_status() {
  return {};
}

}  // namespace secchats

#define SECCHATS_CONCAT_INNER(a, b) a##b
#define SECCHATS_CONCAT(a, b) SECCHATS_CONCAT_INNER(a, b)

// Returns the error of a failed Result/Status from the enclosing function.
#define SC_TRY(expr) SC_TRY_IMPL(SECCHATS_CONCAT(sc_try_result_, __COUNTER__), expr)
// A unique name per use, so an SC_TRY inside a lambda inside an SC_TRY does not shadow.
#define SC_TRY_IMPL(tmp, expr)       \
  do {                               \
    auto&& tmp = (expr);             \
    if (!tmp.ok()) {                 \
      return std::move(tmp).error(); \
    }                                \
  } while (false)

// Declares `lhs` from a successful Result, or returns the error from the enclosing function.
#define SC_ASSIGN_OR_RETURN(lhs, expr) \
  SC_ASSIGN_OR_RETURN_IMPL(SECCHATS_CONCAT(sc_result_, __COUNTER__), lhs, expr)
#define SC_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) {                               \
    return std::move(tmp).error();               \
  }                                              \
  lhs = std::move(tmp).value()
