// Protocol v2 between two of our clients, pairwise (docs/protocol-v2.md): the upgrade from a
// v1 friendship (bundles in v1 UPDATE messages), Double Ratchet sealing and opening, the
// no-downgrade rule, identity-key changes and safety-number verification.
//
// No network here: this decides what to send and what to accept, and keeps every piece of v2
// state in the encrypted store; the caller posts. Each ratchet change is a read-modify-write of
// the store inside one transaction, so two processes of the same account (a `listen` and a
// `send`) can never both advance the same state and reuse a message key. Internal to
// libsecchats.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "message_codec.hpp"
#include "secchats/common/result.hpp"
#include "secchats/crypto/v1.hpp"
#include "secchats/crypto/v2/identity.hpp"
#include "secchats/crypto/v2/safety_number.hpp"
#include "secchats/protocol/objects.hpp"
#include "secchats/store/store.hpp"

namespace secchats::core {

// The UTF-8 text inside a v1 UPDATE's content (which, as for every type, travels base64'd):
// {"v":2,"ik":"<b64 32>","spk":"<b64 32>","sig":"<b64 64>"}.
std::string encode_bundle_json(const crypto::v2::Bundle& bundle);
// Strict about "v" (2) and the three fields (standard base64 of exactly 32, 32 and 64 bytes);
// other members are ignored, for later versions. kInvalidArgument otherwise. Does not verify
// the signature (crypto::v2::verify_bundle does).
Result<crypto::v2::Bundle> decode_bundle_json(std::string_view json);

// Our clients' v2 marker in a v1 ECDH public value (docs/protocol-v2.md §2.1). cryptoData is
// base64("curve:xhex:yhex") (COMPAT.md §4); the reference client writes hex without leading
// zeros (Java BigInteger.toString(16)) and reads it with new BigInteger(s, 16), so an x
// written with one extra leading "0" is the same point to everyone, yet tells one of our
// clients that the peer speaks v2. mark_v2_capable returns its input unchanged if it is not
// such a value; has_v2_marker is true only for a marked ECDH value.
std::string mark_v2_capable(std::string_view public_crypto_data);
bool has_v2_marker(std::string_view crypto_data);

// Why nothing may be sent to a friend whose identity key changed after it was verified
// (kInsecure): messages, key confirmations and group invites all answer with it.
Error sending_blocked_error(std::string_view friend_id);

// The message type that carries bundles (v1) and key confirmations (v2).
inline constexpr std::string_view kUpdateType = "UPDATE";

class PairwiseV2 {
 public:
  // Loads our v2 keys, first making and storing them if the account has none yet (accounts
  // created before v2 get them here, on their first open).
  static Result<std::unique_ptr<PairwiseV2>> load(store::Store& store, std::string own_user_id,
                                                  crypto::v1::MessageCipher& cipher);

  const crypto::v2::Bundle& own_bundle() const { return own_bundle_; }

  // What one direct message from a friend turned out to be.
  struct Opened {
    std::optional<protocol::Message> message;  // to interpret, store and show; never an UPDATE
    std::optional<std::string> warning;  // refused, or a key change (says what, never content)
    // A v2 UPDATE with content (group control: member lists, sender keys, removals), for the
    // caller to hand to GroupV2 in the same transaction. Never from v1.
    std::optional<protocol::Message> control;
  };
  // Opens a /postmsg encContent from friend `from` (as the relay vouches for it): v2 on the
  // session, or v1 under the channel key unless the friend has gone v2 (downgrade refused).
  // UPDATEs are consumed here. Every state change (session, flags) is written to the store;
  // call it inside the transaction that also stores the message and moves the cursor.
  // An error is a store failure; everything the friend sent wrong is a warning.
  Result<Opened> open(const std::string& from, std::string_view enc_content);

  // Seals a message to a friend: v2 if the session can send (the advanced state is committed
  // before this returns, so a crash after it never re-uses a message key), v1 otherwise.
  // kInsecure while sending to them is blocked by an identity-key change.
  Result<std::string> seal(const std::string& friend_id, const protocol::Message& m);

  // Seals a message on the friend's v2 session only: nullopt when there is none that can
  // send (group sender keys never travel over v1). Same commit rule and block as seal().
  Result<std::optional<std::string>> seal_v2_only(const std::string& friend_id,
                                                  const protocol::Message& m);

  // Upgrade traffic the caller posts and then confirms. seal_bundle_update: the v1 UPDATE with
  // our bundle, nullopt if it went out already. seal_pending_control: the v2 UPDATE we owe
  // (key confirmation or its answer), nullopt if none is owed or the session cannot send yet;
  // its ratchet step is committed before it returns.
  Result<std::optional<std::string>> seal_bundle_update(const std::string& friend_id,
                                                        const Sender& me);
  Status mark_update_sent(const std::string& friend_id);
  Result<std::optional<std::string>> seal_pending_control(const std::string& friend_id,
                                                          const Sender& me);
  Status mark_control_sent(const std::string& friend_id);

  // The safety number with a friend whose identity key we have (kNotFound before that).
  Result<crypto::v2::SafetyNumber> safety_number(const std::string& friend_id);
  // Compares `typed_or_scanned` (60 digits with any whitespace or dashes, or a QR payload)
  // with the safety number for the friend's current identity key. Match: verified for that
  // key, identity_changed and the sending block cleared. Mismatch: kInvalidArgument
  // "safety numbers do not match", nothing changed.
  Status mark_verified(const std::string& friend_id, std::string_view typed_or_scanned);

 private:
  PairwiseV2(store::Store& store, std::string own_user_id, crypto::v1::MessageCipher& cipher,
             crypto::v2::IdentityKeyPair identity, crypto::v2::SignedPrekey prekey);

  Result<store::Friend> require_friend(std::string_view id);
  Result<Opened> open_v2(store::Friend f, std::string_view enc_content);
  Result<Opened> open_v1(store::Friend f, std::string_view enc_content);
  Result<Opened> accept_bundle(store::Friend f, const protocol::Message& m);
  Status learn_nickname(const store::Friend& f, const protocol::Message& m);
  // Encrypts a Message on the friend's session and writes the new state; nullopt if there is
  // no session or it cannot send yet. Call inside the transaction that read `f`.
  Result<std::optional<std::string>> seal_v2(store::Friend& f, const protocol::Message& m);

  store::Store& store_;
  std::string own_user_id_;
  crypto::v1::MessageCipher& cipher_;
  crypto::v2::IdentityKeyPair identity_;
  crypto::v2::SignedPrekey prekey_;
  crypto::v2::Bundle own_bundle_;
};

}  // namespace secchats::core
