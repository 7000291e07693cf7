// Protocol v2 safety numbers: iterated SHA-512 fingerprints of (identity key, user id).
#include "secchats/crypto/v2/safety_number.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "pairwise_internal.hpp"

namespace secchats::crypto::v2 {
namespace {

using namespace pairwise_detail;

constexpr std::string_view kFingerprintLabel = "SC2-FP";
constexpr std::uint8_t kFingerprintVersion = 0;
// Iterations make a targeted search for a second key with the same digits expensive.
constexpr int kIterations = 5200;
constexpr std::size_t kDigitsPerParty = kSafetyNumberDigits / 2;
constexpr std::size_t kGroupSize = 5;

using Sha512Digest = std::array<std::uint8_t, crypto_hash_sha512_BYTES>;

// h = SHA-512("SC2-FP" || u8 0 || IK || user id); 5200 times h = SHA-512(h || IK); the first
// 30 bytes as six big-endian 40-bit numbers, each mod 100000 as 5 digits.
std::string party_digits(const PublicKey& identity, std::string_view user_id) {
  ensure_sodium();
  Sha512Digest h{};
  crypto_hash_sha512_state st;
  crypto_hash_sha512_init(&st);
  crypto_hash_sha512_update(&st, as_bytes(kFingerprintLabel).data(), kFingerprintLabel.size());
  crypto_hash_sha512_update(&st, &kFingerprintVersion, 1);
  crypto_hash_sha512_update(&st, identity.data(), identity.size());
  crypto_hash_sha512_update(&st, as_bytes(user_id).data(), user_id.size());
  crypto_hash_sha512_final(&st, h.data());

  std::array<std::uint8_t, crypto_hash_sha512_BYTES + kPublicKeySize> buf{};
  std::copy(identity.begin(), identity.end(), buf.begin() + h.size());
  for (int i = 0; i < kIterations; ++i) {
    std::copy(h.begin(), h.end(), buf.begin());
    crypto_hash_sha512(h.data(), buf.data(), buf.size());
  }

  std::string out;
  out.reserve(kDigitsPerParty);
  for (std::size_t chunk = 0; chunk < kDigitsPerParty / kGroupSize; ++chunk) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 5; ++i)
      v = (v << 8) | h[chunk * 5 + i];
    v %= 100000;
    char group[kGroupSize];
    for (std::size_t i = kGroupSize; i-- > 0;) {
      group[i] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
    out.append(group, kGroupSize);
  }
  return out;
}

bool all_digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}

std::string strip_whitespace(std::string_view typed) {
  std::string out;
  for (char ch : typed) {
    if (!std::isspace(static_cast<unsigned char>(ch))) out.push_back(ch);
  }
  return out;
}

}  // namespace

Result<SafetyNumber> SafetyNumber::compute(std::string_view own_user_id,
                                           const PublicKey& own_identity,
                                           std::string_view peer_user_id,
                                           const PublicKey& peer_identity) {
  if (own_user_id == peer_user_id) {
    return Error(ErrorCode::kInvalidArgument, "safety number: the two user ids are equal");
  }
  // The smaller user id's half comes first, so both sides show the same number.
  const bool own_first = own_user_id < peer_user_id;
  std::string first = own_first ? party_digits(own_identity, own_user_id)
                                : party_digits(peer_identity, peer_user_id);
  const std::string second = own_first ? party_digits(peer_identity, peer_user_id)
                                       : party_digits(own_identity, own_user_id);
  first += second;
  return SafetyNumber(std::move(first));
}

Result<SafetyNumber> SafetyNumber::parse(std::string_view typed) {
  std::string digits = strip_whitespace(typed);
  if (digits.size() != kSafetyNumberDigits || !all_digits(digits)) {
    return Error(ErrorCode::kInvalidArgument, "a safety number is 60 digits");
  }
  return SafetyNumber(std::move(digits));
}

Result<SafetyNumber> SafetyNumber::parse_qr_payload(std::string_view payload) {
  if (!payload.starts_with(kSafetyQrPrefix)) {
    return Error(ErrorCode::kInvalidArgument, "not a Secure Chats verification code");
  }
  const std::string_view digits = payload.substr(kSafetyQrPrefix.size());
  if (digits.size() != kSafetyNumberDigits || !all_digits(digits)) {
    return Error(ErrorCode::kInvalidArgument, "not a Secure Chats verification code");
  }
  return SafetyNumber(std::string(digits));
}

std::string SafetyNumber::formatted() const {
  std::string out;
  for (std::size_t i = 0; i < digits_.size(); i += kGroupSize) {
    if (i > 0) out.push_back(' ');
    out.append(digits_, i, kGroupSize);
  }
  return out;
}

std::string SafetyNumber::qr_payload() const {
  return std::string(kSafetyQrPrefix) + digits_;
}

bool safety_number_matches(const SafetyNumber& expected, std::string_view typed) {
  auto parsed = SafetyNumber::parse(typed);
  return parsed.ok() && parsed.value() == expected;
}

}  // namespace secchats::crypto::v2
