// Protocol v2 pairwise sessions: the symmetric handshake and the Double Ratchet
// (docs/protocol-v2.md, "Handshake" and "Double Ratchet").
//
// A RatchetSession is the whole state of one friendship's v2 channel. It is a value the
// client keeps in its encrypted store: encrypt() and decrypt() change it, and the caller
// persists serialize() atomically with the message it belongs to (after encrypt: before
// posting; after decrypt: together with the accepted message). Restoring an older state and
// ENCRYPTING again would reuse message keys, so a state that has encrypted must never be
// rolled back.
//
// Fenced: no libsodium type appears here.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "secchats/common/result.hpp"
#include "secchats/common/secret.hpp"
#include "secchats/crypto/v2/identity.hpp"
#include "secchats/crypto/v2/wire.hpp"

namespace secchats::crypto::v2 {

// The initiator is the party whose user id compares smaller (std::string operator<).
enum class Role { kInitiator, kResponder };

// Every decryption failure has this one message (and ErrorCode::kInvalidArgument, as v1),
// so the result says nothing about which check failed.
inline constexpr std::string_view kDecryptError = "message could not be decrypted";

class RatchetSession {
 public:
  // Message keys a single message may make us skip in one chain (per chain step).
  static constexpr std::uint32_t kMaxSkip = 1000;
  // Skipped message keys kept in total; past it the oldest are dropped (and those messages
  // can no longer be decrypted).
  static constexpr std::size_t kMaxStoredSkippedKeys = 2000;
  // Header: u8 version (2) || u8 kind (1) || ratchet public key (32) || PN (u32 BE) || N (u32 BE).
  static constexpr std::size_t kHeaderSize = 42;

  // Runs the handshake between us and a friend and starts the ratchet in the role the two
  // user ids give us. Fails with kInsecure if the friend's bundle does not verify or a key
  // agreement gives a degenerate result, and with kInvalidArgument if the ids are equal,
  // empty or longer than 255 bytes, or our prekey is not signed by our identity key.
  // The responder cannot encrypt until it has decrypted the initiator's first message.
  static Result<RatchetSession> create(std::string_view own_user_id,
                                       const IdentityKeyPair& own_identity,
                                       const SignedPrekey& own_prekey,
                                       std::string_view peer_user_id, const Bundle& peer_bundle);

  // Inverse of serialize(). A blob that is truncated, altered, of another format version or
  // internally inconsistent is kCorrupt and nothing is restored.
  static Result<RatchetSession> deserialize(const SecretBytes& blob);

  RatchetSession(RatchetSession&&) noexcept;
  RatchetSession& operator=(RatchetSession&&) noexcept;
  ~RatchetSession();
  // Copying would fork the ratchet and make two states encrypt under the same keys.
  RatchetSession(const RatchetSession&) = delete;
  RatchetSession& operator=(const RatchetSession&) = delete;

  Role role() const;
  const std::string& own_user_id() const;
  const std::string& peer_user_id() const;
  const PublicKey& peer_identity_key() const;
  // False only for a responder that has not yet received a message.
  bool can_send() const;
  // Skipped message keys currently stored (for diagnostics and tests).
  std::size_t skipped_key_count() const;

  // Encrypts one message under the next sending key: "sc2:" + base64(header || ct || tag).
  // Fails (kInvalidArgument) if can_send() is false or the sending chain is exhausted
  // (2^32 - 1 messages without a reply); the state is unchanged then.
  Result<std::string> encrypt(std::span<const std::uint8_t> plaintext);
  Result<std::string> encrypt(std::string_view plaintext);

  // Decrypts a message from the friend. Any failure — not v2, malformed, wrong version or
  // kind, too many skipped messages, a replay, a bad tag — is kInvalidArgument with
  // kDecryptError, and leaves the state exactly as it was.
  Result<std::vector<std::uint8_t>> decrypt(std::string_view wire);

  // The full state, skipped keys included, as a versioned and checksummed blob.
  SecretBytes serialize() const;

 private:
  struct State;
  explicit RatchetSession(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace secchats::crypto::v2
