#include "secchats/crypto/v2/ratchet.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "secchats/common/encoding.hpp"

namespace secchats::crypto::v2 {
namespace {

// "m" + std::to_string(i) built by appending: g++ 12 at -O3 reports a false -Wrestrict on
// operator+(const char*, std::string&&) (GCC PR 105651), which breaks a -Werror Release build.
std::string numbered(std::string prefix, long long n) {
  prefix += std::to_string(n);
  return prefix;
}

// "alice-id" < "bob-id": Alice is always the initiator.
struct Party {
  explicit Party(std::string user_id) : id(std::move(user_id)) {}
  std::string id;
  IdentityKeyPair ik = IdentityKeyPair::generate();
  SignedPrekey spk = SignedPrekey::generate(ik);
  Bundle bundle() const { return make_bundle(ik, spk); }
};

RatchetSession connect(const Party& self, const Party& peer) {
  auto r = RatchetSession::create(self.id, self.ik, self.spk, peer.id, peer.bundle());
  if (!r.ok()) ADD_FAILURE() << r.error().message();
  return std::move(r).value();
}

struct WireHeader {
  std::uint8_t version, kind;
  PublicKey dh;
  std::uint32_t pn, n;
};

std::vector<std::uint8_t> wire_bytes(const std::string& wire) {
  EXPECT_TRUE(wire.starts_with("sc2:"));
  auto raw = base64_decode(std::string_view(wire).substr(4));
  EXPECT_TRUE(raw.has_value());
  return raw.value_or(std::vector<std::uint8_t>{});
}

std::string to_wire(const std::vector<std::uint8_t>& raw) {
  return "sc2:" + base64_encode(raw);
}

std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         p[3];
}

WireHeader header_of(const std::string& wire) {
  const auto raw = wire_bytes(wire);
  WireHeader h{};
  if (raw.size() < RatchetSession::kHeaderSize) {
    ADD_FAILURE() << "short wire";
    return h;
  }
  h.version = raw[0];
  h.kind = raw[1];
  std::copy_n(raw.begin() + 2, 32, h.dh.begin());
  h.pn = be32(raw.data() + 34);
  h.n = be32(raw.data() + 38);
  return h;
}

std::string enc(RatchetSession& s, std::string_view text) {
  auto r = s.encrypt(text);
  if (!r.ok()) {
    ADD_FAILURE() << r.error().message();
    return {};
  }
  return std::move(r).value();
}

// Decrypts and returns the text, or "<error: ...>" (which never equals a test plaintext).
std::string dec(RatchetSession& s, const std::string& wire) {
  auto r = s.decrypt(wire);
  if (!r.ok()) return "<error: " + r.error().message() + ">";
  return std::string(r->begin(), r->end());
}

// The uniform failure, and the state exactly as before.
void expect_undecryptable(RatchetSession& s, const std::string& wire) {
  const SecretBytes before = s.serialize();
  auto r = s.decrypt(wire);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().message(), "message could not be decrypted");
  EXPECT_TRUE(s.serialize() == before) << "state changed by a failed decrypt";
}

RatchetSession restore(const RatchetSession& s) {
  auto r = RatchetSession::deserialize(s.serialize());
  if (!r.ok()) ADD_FAILURE() << r.error().message();
  return std::move(r).value();
}

bool contains(const SecretBytes& haystack, std::span<const std::uint8_t> needle) {
  return std::search(haystack.span().begin(), haystack.span().end(), needle.begin(),
                     needle.end()) != haystack.span().end();
}

class RatchetTest : public ::testing::Test {
 protected:
  Party alice_{"alice-id"};
  Party bob_{"bob-id"};
  RatchetSession a_ = connect(alice_, bob_);
  RatchetSession b_ = connect(bob_, alice_);

  // Alice's first message, which lets Bob send.
  void start() { ASSERT_EQ(dec(b_, enc(a_, "hello bob")), "hello bob"); }
};

TEST_F(RatchetTest, RolesFollowUserIds) {
  EXPECT_EQ(a_.role(), Role::kInitiator);
  EXPECT_EQ(b_.role(), Role::kResponder);
  EXPECT_EQ(a_.own_user_id(), "alice-id");
  EXPECT_EQ(a_.peer_user_id(), "bob-id");
  EXPECT_EQ(a_.peer_identity_key(), bob_.ik.public_key());
  EXPECT_TRUE(a_.can_send());
  EXPECT_FALSE(b_.can_send());
}

TEST_F(RatchetTest, RoundTripBothDirections) {
  EXPECT_EQ(dec(b_, enc(a_, "hello bob")), "hello bob");
  EXPECT_EQ(dec(a_, enc(b_, "hello alice")), "hello alice");
  EXPECT_EQ(dec(b_, enc(a_, "")), "");  // empty plaintext
  std::string big(100000, 'x');
  big[500] = '\0';  // binary-safe
  EXPECT_EQ(dec(a_, enc(b_, big)), big);
}

TEST_F(RatchetTest, WireFormat) {
  const std::string w0 = enc(a_, "abc");
  EXPECT_TRUE(is_v2_wire(w0));
  const auto raw = wire_bytes(w0);
  EXPECT_EQ(raw.size(), 42u + 3 + 16);
  const WireHeader h0 = header_of(w0);
  EXPECT_EQ(h0.version, 2);
  EXPECT_EQ(h0.kind, 1);
  EXPECT_EQ(h0.pn, 0u);
  EXPECT_EQ(h0.n, 0u);
  const WireHeader h1 = header_of(enc(a_, "abc"));
  EXPECT_EQ(h1.n, 1u);
  EXPECT_EQ(h1.dh, h0.dh);
  // Alice's ratchet key is fresh, not her prekey or identity key.
  EXPECT_NE(h0.dh, alice_.spk.public_key());
  EXPECT_NE(h0.dh, alice_.ik.public_key());
  // Same plaintext, different message keys: different ciphertexts.
  const auto raw2 = wire_bytes(enc(a_, "abc"));
  EXPECT_FALSE(std::equal(raw.begin() + 42, raw.end(), raw2.begin() + 42, raw2.end()));
}

TEST(WireMarker, Prefix) {
  EXPECT_TRUE(is_v2_wire("sc2:AAAA"));
  EXPECT_TRUE(is_v2_wire("sc2:"));
  EXPECT_FALSE(is_v2_wire("sc2"));
  EXPECT_FALSE(is_v2_wire("SC2:AAAA"));
  EXPECT_FALSE(is_v2_wire("c2M6AAAA"));  // plain base64, as every v1 value
  EXPECT_FALSE(is_v2_wire(""));
}

TEST_F(RatchetTest, ResponderCannotSendBeforeFirstReceive) {
  auto r = b_.encrypt("too early");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message().find("before"), std::string::npos) << r.error().message();
  // A forged first message does not unlock sending either.
  std::vector<std::uint8_t> raw = wire_bytes(enc(a_, "hi"));
  raw.back() ^= 0x01;
  expect_undecryptable(b_, to_wire(raw));
  EXPECT_FALSE(b_.can_send());
  start();
  EXPECT_TRUE(b_.can_send());
  EXPECT_TRUE(b_.encrypt("now").ok());
}

TEST_F(RatchetTest, ManyAlternatingExchangesStepTheRatchet) {
  start();
  std::set<PublicKey> turn_keys;
  for (int round = 0; round < 40; ++round) {
    const bool alice_sends = round % 2 == 0;
    RatchetSession& sender = alice_sends ? a_ : b_;
    RatchetSession& receiver = alice_sends ? b_ : a_;
    const int batch = 1 + round % 3;
    PublicKey turn_key{};
    for (int i = 0; i < batch; ++i) {
      const std::string text = "round " + std::to_string(round) + " msg " + std::to_string(i);
      const std::string wire = enc(sender, text);
      const WireHeader h = header_of(wire);
      // Alice's first turn continues the chain start() began.
      EXPECT_EQ(h.n, static_cast<std::uint32_t>(round == 0 ? i + 1 : i));
      if (i == 0) turn_key = h.dh;
      EXPECT_EQ(h.dh, turn_key) << "ratchet key changed within a sending turn";
      ASSERT_EQ(dec(receiver, wire), text);
    }
    // Each turn is a DH ratchet step: a ratchet key never seen before.
    EXPECT_TRUE(turn_keys.insert(turn_key).second) << "round " << round;
  }
  EXPECT_EQ(turn_keys.size(), 40u);
  EXPECT_EQ(a_.skipped_key_count(), 0u);
  EXPECT_EQ(b_.skipped_key_count(), 0u);
}

TEST_F(RatchetTest, OutOfOrderWithinChain) {
  std::vector<std::string> wires;
  for (int i = 0; i < 5; ++i)
    wires.push_back(enc(a_, numbered("m", i)));
  EXPECT_EQ(dec(b_, wires[4]), "m4");
  EXPECT_EQ(b_.skipped_key_count(), 4u);
  EXPECT_EQ(dec(b_, wires[0]), "m0");
  EXPECT_EQ(dec(b_, wires[2]), "m2");
  EXPECT_EQ(dec(b_, wires[1]), "m1");
  EXPECT_EQ(dec(b_, wires[3]), "m3");
  EXPECT_EQ(b_.skipped_key_count(), 0u);
  // The chain goes on normally.
  EXPECT_EQ(dec(b_, enc(a_, "m5")), "m5");
}

TEST_F(RatchetTest, OutOfOrderAcrossChains) {
  const std::string a0 = enc(a_, "a0");
  const std::string a1 = enc(a_, "a1");  // delayed across Alice's next ratchet step
  ASSERT_EQ(dec(b_, a0), "a0");
  const std::string b0 = enc(b_, "b0");
  const std::string b1 = enc(b_, "b1");
  ASSERT_EQ(dec(a_, b1), "b1");  // b0 delayed
  const std::string a2 = enc(a_, "a2");
  const std::string a3 = enc(a_, "a3");
  EXPECT_EQ(header_of(a2).pn, 2u);
  EXPECT_NE(header_of(a2).dh, header_of(a1).dh);
  // Bob gets a3 first: a1 (old chain, via PN) and a2 (new chain) become skipped keys.
  ASSERT_EQ(dec(b_, a3), "a3");
  EXPECT_EQ(b_.skipped_key_count(), 2u);
  EXPECT_EQ(dec(b_, a1), "a1");
  EXPECT_EQ(dec(b_, a2), "a2");
  EXPECT_EQ(dec(a_, b0), "b0");
  EXPECT_EQ(a_.skipped_key_count(), 0u);
  EXPECT_EQ(b_.skipped_key_count(), 0u);
  EXPECT_EQ(dec(a_, enc(b_, "b2")), "b2");
}

TEST_F(RatchetTest, MessageLoss) {
  start();
  enc(a_, "lost 1");
  enc(a_, "lost 2");
  EXPECT_EQ(dec(b_, enc(a_, "arrives")), "arrives");
  enc(b_, "lost 3");
  EXPECT_EQ(dec(a_, enc(b_, "arrives too")), "arrives too");
  enc(a_, "lost in a new chain");
  enc(b_, "lost as well");  // Bob's turn again without having heard from Alice
  EXPECT_EQ(dec(b_, enc(a_, "still works")), "still works");
  EXPECT_EQ(dec(a_, enc(b_, "both ways")), "both ways");
  EXPECT_EQ(b_.skipped_key_count(), 3u);  // "lost 1", "lost 2", "lost in a new chain"
}

TEST_F(RatchetTest, ReplayRejected) {
  const std::string m0 = enc(a_, "m0");
  ASSERT_EQ(dec(b_, m0), "m0");
  expect_undecryptable(b_, m0);  // in the current chain
  const std::string m1 = enc(a_, "m1");
  const std::string m2 = enc(a_, "m2");
  ASSERT_EQ(dec(b_, m2), "m2");
  ASSERT_EQ(dec(b_, m1), "m1");  // from the skipped keys
  expect_undecryptable(b_, m1);  // its skipped key is gone
  expect_undecryptable(b_, m2);
  // After ratchet steps, a message from an old chain is still refused.
  ASSERT_EQ(dec(a_, enc(b_, "reply")), "reply");
  ASSERT_EQ(dec(b_, enc(a_, "new chain")), "new chain");
  expect_undecryptable(b_, m0);
  expect_undecryptable(b_, m2);
  EXPECT_EQ(dec(b_, enc(a_, "still fine")), "still fine");
}

TEST_F(RatchetTest, SkippingMoreThanMaxSkipFails) {
  std::vector<std::string> wires;
  for (std::uint32_t i = 0; i <= RatchetSession::kMaxSkip + 1; ++i) {
    wires.push_back(enc(a_, numbered("m", i)));
  }
  // N = 1001 from nr = 0 would skip 1001 keys: refused, nothing changes.
  expect_undecryptable(b_, wires[RatchetSession::kMaxSkip + 1]);
  EXPECT_EQ(b_.skipped_key_count(), 0u);
  EXPECT_FALSE(b_.can_send());
  // Earlier messages still decrypt; then exactly kMaxSkip skipped is allowed.
  ASSERT_EQ(dec(b_, wires[0]), "m0");
  ASSERT_EQ(dec(b_, wires[RatchetSession::kMaxSkip + 1]), "m1001");
  EXPECT_EQ(b_.skipped_key_count(), RatchetSession::kMaxSkip);
  EXPECT_EQ(dec(b_, wires[500]), "m500");
  EXPECT_EQ(dec(a_, enc(b_, "ok")), "ok");
}

TEST_F(RatchetTest, SkippingMoreThanMaxSkipInThePreviousChainFails) {
  start();
  ASSERT_EQ(dec(a_, enc(b_, "reply")), "reply");  // Alice's next send starts a new chain
  std::vector<std::string> old_chain;
  for (std::uint32_t i = 0; i <= RatchetSession::kMaxSkip + 1; ++i) {
    old_chain.push_back(enc(a_, "old " + std::to_string(i)));
  }
  ASSERT_EQ(dec(b_, old_chain[0]), "old 0");
  ASSERT_EQ(dec(a_, enc(b_, "turn")), "turn");  // Bob stepped: so does Alice
  const std::string next = enc(a_, "next chain");
  EXPECT_EQ(header_of(next).pn, RatchetSession::kMaxSkip + 2);
  // Bob expects old message 1: PN = 1002 would skip 1001 keys of the old chain.
  expect_undecryptable(b_, next);
  ASSERT_EQ(dec(b_, old_chain[1]), "old 1");
  EXPECT_EQ(dec(b_, next), "next chain");  // now exactly kMaxSkip: allowed
  EXPECT_EQ(b_.skipped_key_count(), RatchetSession::kMaxSkip);
  EXPECT_EQ(dec(b_, old_chain[RatchetSession::kMaxSkip + 1]), "old 1001");
}

TEST_F(RatchetTest, StoredSkippedKeysAreCappedOldestFirst) {
  start();
  // Three rounds, each leaving 1000 skipped keys with Bob.
  std::vector<std::vector<std::string>> rounds;
  for (int round = 0; round < 3; ++round) {
    std::vector<std::string> wires;
    for (std::uint32_t i = 0; i <= RatchetSession::kMaxSkip; ++i) {
      wires.push_back(enc(a_, numbered(numbered("r", round) + " m", i)));
    }
    ASSERT_EQ(dec(b_, wires.back()), numbered("r", round) + " m1000");
    ASSERT_EQ(dec(a_, enc(b_, "ack")), "ack");
    rounds.push_back(std::move(wires));
  }
  EXPECT_EQ(b_.skipped_key_count(), RatchetSession::kMaxStoredSkippedKeys);
  // The first round's keys were evicted; the newer ones are kept.
  expect_undecryptable(b_, rounds[0][999]);
  EXPECT_EQ(dec(b_, rounds[1][0]), "r1 m0");
  EXPECT_EQ(dec(b_, rounds[2][999]), "r2 m999");
  EXPECT_EQ(b_.skipped_key_count(), RatchetSession::kMaxStoredSkippedKeys - 2);
  // The cap survives a save and restore.
  EXPECT_EQ(restore(b_).skipped_key_count(), RatchetSession::kMaxStoredSkippedKeys - 2);
}

TEST_F(RatchetTest, TamperingRejectedUniformly) {
  start();
  const std::string wire = enc(a_, "attack at dawn");
  const std::vector<std::uint8_t> raw = wire_bytes(wire);
  // version, kind, ratchet key, PN, N, ciphertext, tag.
  for (std::size_t pos : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{33},
                          std::size_t{34}, std::size_t{37}, std::size_t{38}, std::size_t{41},
                          std::size_t{42}, std::size_t{50}, raw.size() - 16, raw.size() - 1}) {
    std::vector<std::uint8_t> bad = raw;
    bad[pos] ^= 0x01;
    SCOPED_TRACE("byte " + std::to_string(pos));
    expect_undecryptable(b_, to_wire(bad));
  }
  std::vector<std::uint8_t> truncated(raw.begin(), raw.end() - 1);
  expect_undecryptable(b_, to_wire(truncated));
  std::vector<std::uint8_t> header_only(raw.begin(), raw.begin() + 42 + 15);
  expect_undecryptable(b_, to_wire(header_only));
  std::vector<std::uint8_t> extended = raw;
  extended.push_back(0);
  expect_undecryptable(b_, to_wire(extended));
  expect_undecryptable(b_, wire.substr(4));           // no prefix
  expect_undecryptable(b_, "sc2:not base64!");        // not base64
  expect_undecryptable(b_, "sc2:");                   // empty
  expect_undecryptable(b_, "");                       // nothing
  expect_undecryptable(b_, "SC2:" + wire.substr(4));  // prefix is case-sensitive
  // Bob's own message to Alice is not valid towards Bob.
  expect_undecryptable(b_, enc(b_, "reflected"));
  // The genuine message still decrypts afterwards.
  EXPECT_EQ(dec(b_, wire), "attack at dawn");
}

TEST_F(RatchetTest, OtherUserIdsInAssociatedDataRejected) {
  // Same keys, same roles ("alice-x" < "bob-id"), so the same DH results and root key: only
  // the associated data differs. A message bound to (alice-id, bob-id) must not decrypt.
  Party alice_renamed{"alice-x"};
  auto b2 = RatchetSession::create(bob_.id, bob_.ik, bob_.spk, alice_renamed.id, alice_.bundle());
  ASSERT_TRUE(b2.ok());
  const std::string wire = enc(a_, "for bob from alice-id");
  expect_undecryptable(*b2, wire);
  EXPECT_EQ(dec(b_, wire), "for bob from alice-id");
  // Likewise the other way: the same peer, but Bob's id differs.
  Party bob_renamed{"bob-x"};
  auto b3 = RatchetSession::create(bob_renamed.id, bob_.ik, bob_.spk, alice_.id, alice_.bundle());
  ASSERT_TRUE(b3.ok());
  expect_undecryptable(*b3, enc(a_, "again"));
}

TEST_F(RatchetTest, SerializeAfterEveryStepAndContinue) {
  // Both sides restart from their saved state after every single operation.
  std::vector<std::pair<std::string, std::string>> delayed;  // (wire, text)
  for (int round = 0; round < 12; ++round) {
    const bool alice_sends = round % 2 == 0;
    RatchetSession& sender = alice_sends ? a_ : b_;
    RatchetSession& receiver = alice_sends ? b_ : a_;
    for (int i = 0; i < 3; ++i) {
      const std::string text = numbered(numbered("r", round) + ".", i);
      const std::string wire = enc(sender, text);
      sender = restore(sender);
      if (i == 1 && alice_sends) {
        delayed.emplace_back(wire, text);
        continue;
      }
      ASSERT_EQ(dec(receiver, wire), text);
      receiver = restore(receiver);
    }
  }
  EXPECT_EQ(b_.skipped_key_count(), delayed.size());
  for (const auto& [wire, text] : delayed) {
    EXPECT_EQ(dec(b_, wire), text);
    b_ = restore(b_);
  }
  EXPECT_EQ(b_.skipped_key_count(), 0u);
  EXPECT_EQ(dec(a_, enc(b_, "end")), "end");
}

TEST_F(RatchetTest, RestoringAnOldStateRedecrypts) {
  start();
  // A crash after decrypting but before the new state was stored: the old state decrypts the
  // same message again, and the conversation continues from there.
  const SecretBytes saved = b_.serialize();
  const std::string m = enc(a_, "once more");
  ASSERT_EQ(dec(b_, m), "once more");
  auto old = RatchetSession::deserialize(saved);
  ASSERT_TRUE(old.ok()) << old.error().message();
  EXPECT_EQ(dec(*old, m), "once more");
  EXPECT_EQ(dec(a_, enc(*old, "reply")), "reply");
  EXPECT_EQ(old->role(), Role::kResponder);
  EXPECT_EQ(old->own_user_id(), "bob-id");
  EXPECT_EQ(old->peer_user_id(), "alice-id");
}

TEST_F(RatchetTest, ResponderStateBeforeFirstMessageRoundTrips) {
  RatchetSession fresh_bob = restore(b_);
  EXPECT_FALSE(fresh_bob.can_send());
  RatchetSession fresh_alice = restore(a_);
  EXPECT_EQ(dec(fresh_bob, enc(fresh_alice, "after restore")), "after restore");
  EXPECT_EQ(dec(fresh_alice, enc(fresh_bob, "back")), "back");
}

TEST_F(RatchetTest, StateBlobIsVersionedAndChecked) {
  start();
  enc(a_, "skipped");
  ASSERT_EQ(dec(b_, enc(a_, "later")), "later");  // leaves one skipped key in the blob
  const SecretBytes good = b_.serialize();
  ASSERT_EQ(std::string(good.view().substr(0, 4)), "SC2S");
  EXPECT_EQ(good.data()[4], 1);  // format version

  const auto expect_corrupt = [](const SecretBytes& blob, std::string_view what) {
    auto r = RatchetSession::deserialize(blob);
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.error().code(), ErrorCode::kCorrupt) << what;
  };
  SecretBytes other_version = good;
  other_version.data()[4] = 2;
  expect_corrupt(other_version, "version");
  auto r = RatchetSession::deserialize(other_version);
  EXPECT_NE(r.error().message().find("version"), std::string::npos) << r.error().message();

  for (std::size_t pos = 0; pos < good.size(); pos += 7) {  // every field, checksum included
    SecretBytes bad = good;
    bad.data()[pos] ^= 0x40;
    expect_corrupt(bad, "flipped byte " + std::to_string(pos));
  }
  for (std::size_t len : {std::size_t{0}, std::size_t{4}, std::size_t{37}, good.size() - 1}) {
    SecretBytes shorter = good;
    shorter.resize(len);
    expect_corrupt(shorter, "truncated to " + std::to_string(len));
  }
  SecretBytes longer = good;
  longer.resize(good.size() + 1);
  expect_corrupt(longer, "extended");
}

TEST_F(RatchetTest, UsedMessageKeysLeaveTheState) {
  // Forward secrecy within the state: once a message is decrypted its key is gone, so a
  // later compromise of the stored state cannot decrypt it.
  start();
  const std::string m0 = enc(a_, "m0");
  const std::string m1 = enc(a_, "m1");
  ASSERT_EQ(dec(b_, m1), "m1");
  ASSERT_EQ(b_.skipped_key_count(), 1u);
  // The only skipped entry sits just before the 32-byte checksum: DH | N | message key.
  const SecretBytes with_key = b_.serialize();
  const std::vector<std::uint8_t> mk(with_key.span().end() - 64, with_key.span().end() - 32);
  ASSERT_TRUE(contains(with_key, mk));

  ASSERT_EQ(dec(b_, m0), "m0");
  const SecretBytes without_key = b_.serialize();
  EXPECT_FALSE(contains(without_key, mk));
  EXPECT_EQ(without_key.size(), with_key.size() - (32 + 4 + 32));
  // And neither message decrypts on the current state (or on one restored from it).
  expect_undecryptable(b_, m0);
  expect_undecryptable(b_, m1);
  RatchetSession restored = restore(b_);
  expect_undecryptable(restored, m0);
  expect_undecryptable(restored, m1);
}

TEST_F(RatchetTest, BundleWithBadSignatureRefused) {
  Bundle forged = bob_.bundle();
  forged.spk_sig[10] ^= 0x01;
  auto r = RatchetSession::create(alice_.id, alice_.ik, alice_.spk, bob_.id, forged);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kInsecure);

  Party mallory{"mallory"};
  Bundle swapped = bob_.bundle();
  swapped.spk = mallory.spk.public_key();  // Mallory's prekey under Bob's identity
  EXPECT_FALSE(RatchetSession::create(alice_.id, alice_.ik, alice_.spk, bob_.id, swapped).ok());
}

TEST_F(RatchetTest, SubstitutedKeysFailToDecrypt) {
  Party mallory{"bob-id"};  // a relay handing Alice Mallory's valid bundle as Bob's
  RatchetSession to_mallory = connect(alice_, mallory);
  expect_undecryptable(b_, enc(to_mallory, "secret"));

  // Bob believes Alice's identity key is Mallory's.
  Party fake_alice{"alice-id"};
  RatchetSession bob_fooled = connect(bob_, fake_alice);
  expect_undecryptable(bob_fooled, enc(a_, "secret"));

  // Alice still holds Bob's previous (validly signed) prekey; Bob has rotated it.
  const SignedPrekey old_spk = bob_.spk;
  bob_.spk = SignedPrekey::generate(bob_.ik);
  RatchetSession bob_rotated = connect(bob_, alice_);
  auto stale = RatchetSession::create(alice_.id, alice_.ik, alice_.spk, bob_.id,
                                      make_bundle(bob_.ik, old_spk));
  ASSERT_TRUE(stale.ok());
  expect_undecryptable(bob_rotated, enc(*stale, "secret"));
}

TEST_F(RatchetTest, CreateValidatesArguments) {
  const auto expect_invalid = [](Result<RatchetSession> r) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << r.error().message();
  };
  expect_invalid(RatchetSession::create("same", alice_.ik, alice_.spk, "same", bob_.bundle()));
  expect_invalid(RatchetSession::create("", alice_.ik, alice_.spk, "bob-id", bob_.bundle()));
  expect_invalid(RatchetSession::create(std::string(256, 'a'), alice_.ik, alice_.spk, "bob-id",
                                        bob_.bundle()));
  EXPECT_TRUE(
      RatchetSession::create(std::string(255, 'a'), alice_.ik, alice_.spk, "bob-id", bob_.bundle())
          .ok());
  // Our prekey signed by another identity: a mix-up in our own store.
  const SignedPrekey foreign = SignedPrekey::generate(bob_.ik);
  expect_invalid(RatchetSession::create("alice-id", alice_.ik, foreign, "bob-id", bob_.bundle()));
}

TEST_F(RatchetTest, RoleIsSymmetricWhicheverSideIsCreatedFirst) {
  // Ids decide the roles, not who calls create() first: "zed" > "amy".
  Party zed{"zed"}, amy{"amy"};
  RatchetSession z = connect(zed, amy);
  RatchetSession a = connect(amy, zed);
  EXPECT_EQ(z.role(), Role::kResponder);
  EXPECT_EQ(a.role(), Role::kInitiator);
  EXPECT_FALSE(z.encrypt("x").ok());
  EXPECT_EQ(dec(z, enc(a, "hi zed")), "hi zed");
}

}  // namespace
}  // namespace secchats::crypto::v2
