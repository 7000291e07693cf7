// Protocol v2 safety numbers (docs/protocol-v2.md, "Safety numbers"): 60 digits both friends
// compare — read aloud, typed, or scanned as a QR code — to detect a substituted identity key.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "secchats/common/result.hpp"
#include "secchats/crypto/v2/identity.hpp"

namespace secchats::crypto::v2 {

inline constexpr std::size_t kSafetyNumberDigits = 60;
inline constexpr std::string_view kSafetyQrPrefix = "SECCHATS-VERIFY:1:";

class SafetyNumber {
 public:
  // The number for the friendship of two (user id, identity key) pairs. Both sides get the
  // same digits whichever way round they pass them. kInvalidArgument if the ids are equal.
  static Result<SafetyNumber> compute(std::string_view own_user_id, const PublicKey& own_identity,
                                      std::string_view peer_user_id,
                                      const PublicKey& peer_identity);

  // What a person typed: exactly 60 digits once whitespace is removed (the grouping spaces,
  // line breaks). Anything else is kInvalidArgument.
  static Result<SafetyNumber> parse(std::string_view typed);
  // A scanned QR payload: kSafetyQrPrefix followed by exactly 60 digits (kInvalidArgument
  // otherwise).
  static Result<SafetyNumber> parse_qr_payload(std::string_view payload);

  // The 60 digits, no separators.
  const std::string& digits() const { return digits_; }
  // 12 groups of 5 digits separated by single spaces.
  std::string formatted() const;
  // kSafetyQrPrefix + digits().
  std::string qr_payload() const;

  bool operator==(const SafetyNumber&) const = default;

 private:
  explicit SafetyNumber(std::string digits) : digits_(std::move(digits)) {}
  std::string digits_;
};

// True if `typed` (whitespace ignored) is exactly `expected`.
bool safety_number_matches(const SafetyNumber& expected, std::string_view typed);

}  // namespace secchats::crypto::v2
