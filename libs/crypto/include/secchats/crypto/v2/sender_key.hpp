// Protocol v2 group messages: signed sender keys (docs/protocol-v2.md, "Groups v2").
//
// Every member has, per group and per epoch, its own sending key: a hash chain (one message
// key per iteration, so old message keys cannot be recomputed from the current state) and an
// Ed25519 signing key pair. A member hands the public part of it (chain key at the current
// iteration, iteration, signing public key) to each other member over their pairwise v2
// channel; with it the others can decrypt that member's later messages and check that the
// member, and no one else, sent them.
//
// Wire form of a group message: "sc2:" + base64(header(18) || ciphertext || signature(64)),
// header = u8 version 2 || u8 kind 2 || key id(8) || epoch(u32 BE) || iteration(u32 BE).
// Plaintexts are padded (padding.hpp) inside the encryption.
//
// Fenced: no libsodium type appears here. Chain keys, message keys and signing keys are
// SecretBytes. Not thread-safe: one state per (member, group, epoch), used by one thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "secchats/common/result.hpp"
#include "secchats/common/secret.hpp"

namespace secchats::crypto::v2 {

using SenderKeyId = std::array<std::uint8_t, 8>;
using SigningPublicKey = std::array<std::uint8_t, 32>;

// A message may be at most this many iterations ahead of the next expected one.
inline constexpr std::uint32_t kMaxGroupSkip = 1000;
// At most this many skipped message keys are kept per sender key; the oldest go first.
inline constexpr std::size_t kMaxGroupSkippedKeys = 2000;
// Group ids are 1..255 bytes (they are length-prefixed with one byte in every label).
inline constexpr std::size_t kMaxGroupIdSize = 255;

// The first 8 bytes of SHA-256(signing public key).
SenderKeyId sender_key_id(const SigningPublicKey& signing_public_key);

// What a member gives the others so they can read and verify its messages. The chain key is
// secret (it decrypts every later message of this sender key): send it only encrypted.
struct SenderKeyDistribution {
  std::string group_id;
  std::uint32_t epoch = 0;
  SecretBytes chain_key;        // 32 bytes, the chain key at `iteration`
  std::uint32_t iteration = 0;  // the next iteration the owner will send
  SigningPublicKey signing_public_key{};
  SenderKeyId key_id{};  // sender_key_id(signing_public_key)
};

// A compact binary form of a distribution (for an UPDATE message or a QR announcement):
// u8 format 1 || u8 len || group id || epoch(u32) || iteration(u32) || chain key(32) ||
// signing public key(32). The key id is recomputed on parsing. serialize_distribution refuses
// (kInvalidArgument) a group id outside 1..255 bytes or a chain key that is not 32 bytes;
// parse_distribution refuses anything but that layout, and an invalid signing public key.
Result<SecretBytes> serialize_distribution(const SenderKeyDistribution& distribution);
Result<SenderKeyDistribution> parse_distribution(std::span<const std::uint8_t> bytes);

// The routing fields of a group message, read without any key so the caller can find the
// ReceivedSenderKey it belongs to. Nothing here is authenticated until decrypt succeeds.
struct GroupWireHeader {
  SenderKeyId key_id{};
  std::uint32_t epoch = 0;
  std::uint32_t iteration = 0;
};
// Fails with the uniform "message could not be decrypted" if `wire` is not a v2 group message.
Result<GroupWireHeader> peek_group_wire(std::string_view wire);

// True if `wire` is "sc2:" followed by base64 of a v2 QR bootstrap announcement header
// (kind 3); says nothing about whether it will open.
bool is_qr_announcement_wire(std::string_view wire);

// Our own sending key for one group and epoch.
class SenderKeyState {
 public:
  // A fresh random chain key and signing key pair at iteration 0. kInvalidArgument for a
  // group id outside 1..255 bytes; kInternal if libsodium cannot start.
  static Result<SenderKeyState> generate(std::string_view group_id, std::uint32_t epoch);

  SenderKeyState(SenderKeyState&&) noexcept = default;
  SenderKeyState& operator=(SenderKeyState&&) noexcept = default;
  // A copy would encrypt different messages under the same message keys (and nonces).
  SenderKeyState(const SenderKeyState&) = delete;
  SenderKeyState& operator=(const SenderKeyState&) = delete;

  // Pads, encrypts and signs one message at the current iteration, then moves the chain on
  // (the message key is forgotten). Persist serialize() before posting the result, and never
  // restore an older blob: that would reuse message keys. Fails (kInvalidArgument) only when
  // the iteration counter is used up (2^32 - 1 messages): start a new epoch.
  Result<std::string> encrypt(std::span<const std::uint8_t> plaintext);
  Result<std::string> encrypt(std::string_view plaintext);

  // The public distribution at the current iteration (messages already sent stay unreadable
  // to whoever receives it).
  SenderKeyDistribution distribution() const;

  const std::string& group_id() const { return group_id_; }
  std::uint32_t epoch() const { return epoch_; }
  std::uint32_t iteration() const { return iteration_; }
  const SigningPublicKey& signing_public_key() const { return signing_public_key_; }
  SenderKeyId key_id() const { return sender_key_id(signing_public_key_); }

  // Versioned, checksummed binary form ("SC2K" || u8 format 1 || u8 type 1 || ... || SHA-256)
  // holding the signing seed and the chain key: store it only encrypted. deserialize refuses
  // anything else (truncated, altered, another type or version) with kCorrupt.
  SecretBytes serialize() const;
  static Result<SenderKeyState> deserialize(std::span<const std::uint8_t> blob);

 private:
  friend Result<std::string> seal_qr_announcement(const SecretBytes& bootstrap_key,
                                                  const SenderKeyState& own,
                                                  std::string_view user_id);
  SenderKeyState() = default;
  std::vector<std::uint8_t> sign(std::span<const std::uint8_t> message) const;

  std::string group_id_;
  std::uint32_t epoch_ = 0;
  std::uint32_t iteration_ = 0;
  SecretBytes chain_key_;       // 32
  SecretBytes signing_secret_;  // 64, libsodium's seed || public key
  SigningPublicKey signing_public_key_{};
};

// Another member's sending key, as received in a distribution.
class ReceivedSenderKey {
 public:
  // kInvalidArgument for a malformed distribution: wrong sizes, a group id outside 1..255
  // bytes, an invalid signing public key, or a key id that does not match it.
  static Result<ReceivedSenderKey> from_distribution(const SenderKeyDistribution& distribution);

  // Checks the header against this key and `group_id`, verifies the signature before anything
  // else, then derives the message key (skipping ahead at most kMaxGroupSkip iterations, or
  // using a stored skipped key once), decrypts and unpads. Every failure — wrong group, key or
  // epoch, bad signature, bad tag, too far ahead, replay, bad padding — is kInvalidArgument
  // with the message "message could not be decrypted", and leaves the state unchanged.
  Result<std::vector<std::uint8_t>> decrypt(std::string_view group_id, std::string_view wire);

  const std::string& group_id() const { return group_id_; }
  std::uint32_t epoch() const { return epoch_; }
  const SigningPublicKey& signing_public_key() const { return signing_public_key_; }
  SenderKeyId key_id() const { return sender_key_id(signing_public_key_); }
  // The next iteration the chain will produce; lower ones decrypt only from stored keys.
  std::uint32_t next_iteration() const { return next_iteration_; }
  std::size_t skipped_key_count() const { return skipped_.size(); }

  // Versioned, checksummed binary form ("SC2K" || u8 format 1 || u8 type 2 || ... || SHA-256)
  // including skipped keys: store it only encrypted. deserialize refuses anything else
  // (truncated, altered, another type or version, inconsistent fields) with kCorrupt.
  SecretBytes serialize() const;
  static Result<ReceivedSenderKey> deserialize(std::span<const std::uint8_t> blob);

 private:
  ReceivedSenderKey() = default;

  std::string group_id_;
  std::uint32_t epoch_ = 0;
  SigningPublicKey signing_public_key_{};
  std::uint32_t next_iteration_ = 0;
  SecretBytes chain_key_;                         // the chain key at next_iteration_
  std::map<std::uint32_t, SecretBytes> skipped_;  // iteration -> message key
};

// ---------------------------------------------------------------------------------------------
// In-person (QR) groups: members announce their sender keys to the group itself.

// HKDF-SHA256(ikm = S, salt = empty, info = "SecureChats v2 qr bootstrap" || group id, 32),
// where S is the 32 bytes of the QR's group key. The string form takes the canonical base64
// key string of the QR payload (kInvalidArgument unless it decodes to exactly 32 bytes).
SecretBytes derive_qr_bootstrap_key(const SecretBytes& group_secret, std::string_view group_id);
Result<SecretBytes> derive_qr_bootstrap_key(const SecretString& group_key_string,
                                            std::string_view group_id);

struct QrAnnouncement {
  std::string user_id;  // claimed by the announcer; trusted on first use only
  SenderKeyDistribution distribution;
};

// Posts `own`'s distribution for `user_id` (1..255 bytes) to the group: signed with `own`'s
// signing key, then sealed with XChaCha20-Poly1305 under the bootstrap key and a random
// 24-byte nonce. Wire: "sc2:" + base64(u8 2 || u8 kind 3 || nonce(24) || ciphertext).
Result<std::string> seal_qr_announcement(const SecretBytes& bootstrap_key,
                                         const SenderKeyState& own, std::string_view user_id);

// Opens and verifies an announcement for `group_id`. Every failure (wrong key or group,
// tampering, bad signature, malformed content) is kInvalidArgument with the message
// "message could not be decrypted".
Result<QrAnnouncement> open_qr_announcement(const SecretBytes& bootstrap_key,
                                            std::string_view group_id, std::string_view wire);

}  // namespace secchats::crypto::v2
