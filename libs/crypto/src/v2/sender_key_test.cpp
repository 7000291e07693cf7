#include "secchats/crypto/v2/sender_key.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "secchats/common/encoding.hpp"
#include "secchats/crypto/hash.hpp"
#include "secchats/crypto/random.hpp"
#include "secchats/crypto/v2/padding.hpp"

namespace secchats::crypto::v2 {
namespace {

// "m" + std::to_string(i) built by appending: g++ 12 at -O3 reports a false -Wrestrict on
// operator+(const char*, std::string&&) (GCC PR 105651), which breaks a -Werror Release build.
std::string numbered(std::string prefix, long long n) {
  prefix += std::to_string(n);
  return prefix;
}

const std::string kGroup = "5be0c1d2e3f4a5b697887766554433aa";
const std::string kOtherGroup = "00112233445566778899aabbccddeeff";

std::string text(const std::vector<std::uint8_t>& bytes) {
  return std::string(bytes.begin(), bytes.end());
}

void expect_undecryptable(const Result<std::vector<std::uint8_t>>& r, const std::string& what) {
  ASSERT_FALSE(r.ok()) << what;
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << what;
  EXPECT_EQ(r.error().message(), "message could not be decrypted") << what;
}

SenderKeyState make_state(const std::string& group = kGroup, std::uint32_t epoch = 1) {
  auto s = SenderKeyState::generate(group, epoch);
  EXPECT_TRUE(s.ok());
  return std::move(s).value();
}

ReceivedSenderKey receiver_of(const SenderKeyState& state) {
  auto r = ReceivedSenderKey::from_distribution(state.distribution());
  EXPECT_TRUE(r.ok()) << r.error().message();
  return std::move(r).value();
}

std::string encrypt(SenderKeyState& s, const std::string& plaintext) {
  auto wire = s.encrypt(plaintext);
  EXPECT_TRUE(wire.ok()) << wire.error().message();
  return std::move(wire).value();
}

std::string decrypt_ok(ReceivedSenderKey& r, const std::string& wire,
                       const std::string& group = kGroup) {
  auto plain = r.decrypt(group, wire);
  EXPECT_TRUE(plain.ok()) << plain.error().message();
  return plain.ok() ? text(*plain) : std::string("<failed>");
}

std::vector<std::uint8_t> wire_body(const std::string& wire) {
  EXPECT_TRUE(wire.starts_with("sc2:"));
  auto body = base64_decode(wire.substr(4));
  EXPECT_TRUE(body.has_value());
  return body.value_or(std::vector<std::uint8_t>{});
}

std::string make_wire(const std::vector<std::uint8_t>& body) {
  return "sc2:" + base64_encode(body);
}

std::vector<std::uint8_t> bytes_of(std::string_view s) {
  return {s.begin(), s.end()};
}

void append(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> b) {
  out.insert(out.end(), b.begin(), b.end());
}

void append_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<std::uint8_t>(v >> shift));
}

// An Ed25519 key pair held by the test (a member acting outside the library).
struct RawSigningKey {
  SigningPublicKey pk{};
  std::array<std::uint8_t, 64> sk{};
  RawSigningKey() {
    EXPECT_GE(sodium_init(), 0);
    crypto_sign_keypair(pk.data(), sk.data());
  }
};

// Builds a group message from the specification alone, as a member with a copy of some chain
// key could: any key id and epoch in the header, signed with any key.
// `padded` is encrypted as given (no padding is added), `corrupt_tag` breaks the AEAD tag
// before signing, so the signature is valid but the ciphertext is not.
std::string craft_raw_group_message(const std::string& group_id, const SecretBytes& chain_key,
                                    const SenderKeyId& key_id, std::uint32_t epoch,
                                    std::uint32_t iteration, const RawSigningKey& signer,
                                    const std::vector<std::uint8_t>& padded,
                                    bool corrupt_tag = false) {
  const std::uint8_t one = 0x01;
  const auto mk = hmac_sha256(chain_key.span(), std::span<const std::uint8_t>(&one, 1));
  const SecretBytes material = hkdf_sha256(mk, {}, "SecureChats v2 group message", 56);

  std::vector<std::uint8_t> header{2, 2};
  append(header, key_id);
  append_u32(header, epoch);
  append_u32(header, iteration);

  std::vector<std::uint8_t> ad = bytes_of("SC2G");
  ad.push_back(static_cast<std::uint8_t>(group_id.size()));
  append(ad, bytes_of(group_id));
  append(ad, header);

  std::vector<std::uint8_t> ciphertext(padded.size() + 16);
  unsigned long long len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(ciphertext.data(), &len, padded.data(), padded.size(),
                                             ad.data(), ad.size(), nullptr, material.data() + 32,
                                             material.data());
  if (corrupt_tag) ciphertext.back() ^= 1;

  std::vector<std::uint8_t> to_sign = bytes_of("SC2G-SIG");
  to_sign.push_back(static_cast<std::uint8_t>(group_id.size()));
  append(to_sign, bytes_of(group_id));
  append(to_sign, header);
  append(to_sign, ciphertext);
  std::array<std::uint8_t, 64> sig{};
  crypto_sign_detached(sig.data(), nullptr, to_sign.data(), to_sign.size(), signer.sk.data());

  std::vector<std::uint8_t> body = header;
  append(body, ciphertext);
  append(body, sig);
  return make_wire(body);
}

std::string craft_group_message(const std::string& group_id, const SecretBytes& chain_key,
                                const SenderKeyId& key_id, std::uint32_t epoch,
                                std::uint32_t iteration, const RawSigningKey& signer,
                                std::string_view plaintext) {
  return craft_raw_group_message(group_id, chain_key, key_id, epoch, iteration, signer,
                                 pad(plaintext));
}

SecretBytes chain_key_after(const SecretBytes& chain_key, std::uint32_t steps) {
  SecretBytes chain = chain_key;
  for (std::uint32_t i = 0; i < steps; ++i) {
    const std::uint8_t two = 0x02;
    auto next = hmac_sha256(chain.span(), std::span<const std::uint8_t>(&two, 1));
    chain = SecretBytes(next.data(), next.size());
  }
  return chain;
}

// Recomputes the SHA-256 trailer of an edited state blob, so the edit reaches the field checks.
std::vector<std::uint8_t> reseal(std::vector<std::uint8_t> blob) {
  blob.resize(blob.size() - 32);
  const auto digest = sha256(std::span<const std::uint8_t>(blob));
  blob.insert(blob.end(), digest.begin(), digest.end());
  return blob;
}

std::vector<std::uint8_t> to_vector(const SecretBytes& b) {
  return {b.span().begin(), b.span().end()};
}

// Offsets in a state blob: "SC2K", format, type, then u8 len || group id.
constexpr std::size_t kBlobFieldsAt = 6;

// ---------------------------------------------------------------------------------------------

TEST(SenderKeyTest, RoundTrip) {
  auto alice = make_state();
  auto bob_view = receiver_of(alice);
  const std::string wire = encrypt(alice, "hello group");
  EXPECT_TRUE(wire.starts_with("sc2:"));
  EXPECT_EQ(wire.find("hello"), std::string::npos);

  auto peek = peek_group_wire(wire);
  ASSERT_TRUE(peek.ok());
  EXPECT_EQ(peek->key_id, alice.key_id());
  EXPECT_EQ(peek->epoch, 1u);
  EXPECT_EQ(peek->iteration, 0u);
  EXPECT_EQ(alice.iteration(), 1u);

  EXPECT_EQ(decrypt_ok(bob_view, wire), "hello group");
  EXPECT_EQ(bob_view.next_iteration(), 1u);
  EXPECT_EQ(bob_view.key_id(), alice.key_id());
}

TEST(SenderKeyTest, WireSizeIsPaddedHeaderCiphertextSignature) {
  auto alice = make_state();
  for (std::size_t n : {0u, 200u, 255u, 256u, 1000u}) {
    const auto body = wire_body(encrypt(alice, std::string(n, 'x')));
    EXPECT_EQ(body.size(), 18 + padded_size(n) + 16 + 64) << n;
  }
}

TEST(SenderKeyTest, EmptyAndBinaryPlaintexts) {
  auto alice = make_state();
  auto bob_view = receiver_of(alice);
  EXPECT_EQ(decrypt_ok(bob_view, encrypt(alice, "")), "");
  std::vector<std::uint8_t> binary(300);
  for (std::size_t i = 0; i < binary.size(); ++i)
    binary[i] = static_cast<std::uint8_t>(i);
  auto wire = alice.encrypt(std::span<const std::uint8_t>(binary));
  ASSERT_TRUE(wire.ok());
  auto plain = bob_view.decrypt(kGroup, *wire);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain, binary);
}

TEST(SenderKeyTest, ManyMessagesInOrder) {
  auto alice = make_state();
  auto bob_view = receiver_of(alice);
  for (int i = 0; i < 500; ++i) {
    const std::string msg = "message " + std::to_string(i);
    ASSERT_EQ(decrypt_ok(bob_view, encrypt(alice, msg)), msg);
  }
  EXPECT_EQ(bob_view.next_iteration(), 500u);
  EXPECT_EQ(bob_view.skipped_key_count(), 0u);
}

TEST(SenderKeyTest, EveryMessageUsesADifferentKey) {
  auto alice = make_state();
  const auto a = wire_body(encrypt(alice, "same"));
  const auto b = wire_body(encrypt(alice, "same"));
  EXPECT_NE(std::vector<std::uint8_t>(a.begin() + 18, a.end() - 64),
            std::vector<std::uint8_t>(b.begin() + 18, b.end() - 64));
}

TEST(SenderKeyTest, OutOfOrder) {
  auto alice = make_state();
  auto bob_view = receiver_of(alice);
  std::vector<std::pair<std::string, std::string>> sent;
  for (int i = 0; i < 40; ++i) {
    const std::string msg = numbered("m", i);
    sent.emplace_back(msg, encrypt(alice, msg));
  }
  std::mt19937 rng(42);
  std::shuffle(sent.begin(), sent.end(), rng);
  for (const auto& [msg, wire] : sent)
    ASSERT_EQ(decrypt_ok(bob_view, wire), msg);
  EXPECT_EQ(bob_view.skipped_key_count(), 0u);
  EXPECT_EQ(bob_view.next_iteration(), 40u);
}

TEST(SenderKeyTest, LossLeavesOnlyTheMissingKeys) {
  auto alice = make_state();
  auto bob_view = receiver_of(alice);
  std::vector<std::string> wires;
  for (int i = 0; i < 6; ++i)
    wires.push_back(encrypt(alice, numbered("m", i)));
  for (int i : {0, 2, 4, 5})
    EXPECT_EQ(decrypt_ok(bob_view, wires[i]), numbered("m", i));
  EXPECT_EQ(bob_view.skipped_key_count(), 2u);  // 1 and 3 never arrived
  EXPECT_EQ(decrypt_ok(bob_view, wires[3]), "m3");
  EXPECT_EQ(bob_view.skipped_key_count(), 1u);
}

TEST(SenderKeyTest, ReplayRejected) {
  auto alice = make_state();
  auto bob_view = receiver_of(alice);
  const std::string w0 = encrypt(alice, "zero");
  const std::string w1 = encrypt(alice, "one");
  const std::string w2 = encrypt(alice, "two");
  EXPECT_EQ(decrypt_ok(bob_view, w0), "zero");
  expect_undecryptable(bob_view.decrypt(kGroup, w0), "in-order replay");
  EXPECT_EQ(decrypt_ok(bob_view, w2), "two");
  expect_undecryptable(bob_view.decrypt(kGroup, w2), "replay of the newest");
  EXPECT_EQ(decrypt_ok(bob_view, w1), "one");  // from a skipped key
  expect_undecryptable(bob_view.decrypt(kGroup, w1), "replay of a skipped-key message");
  EXPECT_EQ(bob_view.skipped_key_count(), 0u);
}

TEST(SenderKeyTest, SkipAheadIsBounded) {
  auto alice = make_state();
  const auto start = alice.distribution();
  std::vector<std::string> wires;
  for (std::uint32_t i = 0; i <= kMaxGroupSkip + 1; ++i)
    wires.push_back(encrypt(alice, "x"));

  auto far = ReceivedSenderKey::from_distribution(start);
  ASSERT_TRUE(far.ok());
  const SecretBytes before = far->serialize();
  expect_undecryptable(far->decrypt(kGroup, wires[kMaxGroupSkip + 1]), "1001 ahead");
  EXPECT_EQ(far->serialize(), before) << "a refused message must not change the state";

  auto near = ReceivedSenderKey::from_distribution(start);
  ASSERT_TRUE(near.ok());
  EXPECT_EQ(decrypt_ok(*near, wires[kMaxGroupSkip]), "x");  // exactly 1000 ahead
  EXPECT_EQ(near->skipped_key_count(), kMaxGroupSkip);
  EXPECT_EQ(decrypt_ok(*near, wires[kMaxGroupSkip + 1]), "x");
  EXPECT_EQ(decrypt_ok(*near, wires[0]), "x");
}

TEST(SenderKeyTest, StoredSkippedKeysAreBoundedOldestFirst) {
  auto alice = make_state();
  auto bob_view = receiver_of(alice);
  std::vector<std::string> wires;
  for (int i = 0; i <= 3002; ++i)
    wires.push_back(encrypt(alice, std::to_string(i)));
  EXPECT_EQ(decrypt_ok(bob_view, wires[1000]), "1000");
  EXPECT_EQ(decrypt_ok(bob_view, wires[2001]), "2001");
  EXPECT_EQ(bob_view.skipped_key_count(), 2000u);
  EXPECT_EQ(decrypt_ok(bob_view, wires[3002]), "3002");
  EXPECT_EQ(bob_view.skipped_key_count(), kMaxGroupSkippedKeys);
  // 3000 keys were skipped; the 1000 oldest (iterations 0..999) were dropped.
  expect_undecryptable(bob_view.decrypt(kGroup, wires[0]), "evicted");
  expect_undecryptable(bob_view.decrypt(kGroup, wires[999]), "evicted");
  EXPECT_EQ(decrypt_ok(bob_view, wires[1001]), "1001");
  EXPECT_EQ(decrypt_ok(bob_view, wires[3001]), "3001");
}

TEST(SenderKeyTest, LateJoinerReadsOnlyFromTheDistributedIteration) {
  auto alice = make_state();
  const std::string early = encrypt(alice, "before you joined");
  auto carol_view = receiver_of(alice);
  EXPECT_EQ(carol_view.next_iteration(), 1u);
  expect_undecryptable(carol_view.decrypt(kGroup, early), "before the distribution");
  EXPECT_EQ(decrypt_ok(carol_view, encrypt(alice, "welcome")), "welcome");
}

TEST(SenderKeyTest, CraftedMessageFromTheSpecIsAccepted) {
  // Control for the forgery tests: the crafting helper follows the format exactly.
  RawSigningKey mallory;
  SenderKeyDistribution d;
  d.group_id = kGroup;
  d.epoch = 3;
  d.chain_key = random_secret(32);
  d.iteration = 7;
  d.signing_public_key = mallory.pk;
  d.key_id = sender_key_id(mallory.pk);
  auto view = ReceivedSenderKey::from_distribution(d);
  ASSERT_TRUE(view.ok());
  const std::string wire =
      craft_group_message(kGroup, d.chain_key, d.key_id, 3, 7, mallory, "crafted");
  EXPECT_EQ(decrypt_ok(*view, wire), "crafted");

  // Signed by the right key, but for another epoch: refused.
  const std::string other_epoch = craft_group_message(kGroup, chain_key_after(d.chain_key, 1),
                                                      d.key_id, 4, 8, mallory, "epoch 4");
  expect_undecryptable(view->decrypt(kGroup, other_epoch), "validly signed, other epoch");
  EXPECT_EQ(decrypt_ok(*view, craft_group_message(kGroup, chain_key_after(d.chain_key, 1), d.key_id,
                                                  3, 8, mallory, "epoch 3")),
            "epoch 3");
}

TEST(SenderKeyTest, ValidlySignedButUndecryptableLeavesStateUnchanged) {
  // Only the owner can sign, but a buggy or malicious owner can still send garbage: the
  // receiver must not advance its chain or store skipped keys for it.
  RawSigningKey owner;
  SenderKeyDistribution d;
  d.group_id = kGroup;
  d.epoch = 1;
  d.chain_key = random_secret(32);
  d.signing_public_key = owner.pk;
  d.key_id = sender_key_id(owner.pk);
  auto view = ReceivedSenderKey::from_distribution(d);
  ASSERT_TRUE(view.ok());
  const SecretBytes before = view->serialize();
  const SecretBytes chain_500 = chain_key_after(d.chain_key, 500);

  expect_undecryptable(view->decrypt(kGroup, craft_raw_group_message(kGroup, chain_500, d.key_id, 1,
                                                                     500, owner, pad("x"),
                                                                     /*corrupt_tag=*/true)),
                       "bad tag");
  EXPECT_EQ(view->serialize(), before);
  expect_undecryptable(
      view->decrypt(kGroup, craft_raw_group_message(kGroup, chain_500, d.key_id, 1, 500, owner,
                                                    std::vector<std::uint8_t>(256, 0))),
      "no padding marker");
  EXPECT_EQ(view->serialize(), before);
  expect_undecryptable(
      view->decrypt(kGroup, craft_raw_group_message(kGroup, chain_500, d.key_id, 1, 500, owner,
                                                    std::vector<std::uint8_t>{'h', 'i'})),
      "not a bucket size");
  EXPECT_EQ(view->serialize(), before);
  expect_undecryptable(
      view->decrypt(kGroup, craft_raw_group_message(kGroup, chain_500, d.key_id, 1, 500, owner,
                                                    std::vector<std::uint8_t>{})),
      "empty plaintext, no padding");
  EXPECT_EQ(view->serialize(), before);
  expect_undecryptable(view->decrypt(kGroup, craft_group_message(kGroup, d.chain_key, d.key_id, 1,
                                                                 0xffffffffu, owner, "last")),
                       "iteration 2^32-1");
  EXPECT_EQ(view->serialize(), before);

  // The same iteration, well formed, is then accepted with 500 skipped keys.
  EXPECT_EQ(
      decrypt_ok(*view, craft_group_message(kGroup, chain_500, d.key_id, 1, 500, owner, "fine")),
      "fine");
  EXPECT_EQ(view->skipped_key_count(), 500u);
}

TEST(SenderKeyTest, IterationCounterEnds) {
  // A sender state just before the end of the counter, made by editing a stored blob.
  auto alice = make_state();
  const SecretBytes blob = alice.serialize();
  std::vector<std::uint8_t> v(blob.span().begin(), blob.span().end());
  const std::size_t iteration_at = kBlobFieldsAt + 1 + kGroup.size() + 4;
  std::fill(v.begin() + iteration_at, v.begin() + iteration_at + 4, 0xff);
  v[iteration_at + 3] = 0xfe;
  auto late = SenderKeyState::deserialize(reseal(v));
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->iteration(), 0xfffffffeu);
  auto view = receiver_of(*late);
  EXPECT_EQ(decrypt_ok(view, encrypt(*late, "last one")), "last one");
  auto refused = late->encrypt("one too many");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(late->iteration(), 0xffffffffu);

  // A receiver refuses a distribution that has nothing left to send, and a message that
  // claims the last iteration (which no sender produces).
  EXPECT_FALSE(ReceivedSenderKey::from_distribution(late->distribution()).ok());
  RawSigningKey owner;
  SenderKeyDistribution d;
  d.group_id = kGroup;
  d.epoch = 1;
  d.chain_key = random_secret(32);
  d.iteration = 0xfffffffeu;
  d.signing_public_key = owner.pk;
  d.key_id = sender_key_id(owner.pk);
  auto near_end = ReceivedSenderKey::from_distribution(d);
  ASSERT_TRUE(near_end.ok());
  expect_undecryptable(
      near_end->decrypt(kGroup, craft_group_message(kGroup, chain_key_after(d.chain_key, 1),
                                                    d.key_id, 1, 0xffffffffu, owner, "x")),
      "iteration 2^32-1");
  EXPECT_EQ(decrypt_ok(*near_end, craft_group_message(kGroup, d.chain_key, d.key_id, 1, 0xfffffffeu,
                                                      owner, "y")),
            "y");
}

TEST(SenderKeyTest, MemberCannotForgeAnotherMembersMessage) {
  // Bob is a member: he holds Alice's distribution, so he can compute her message keys, but he
  // signs with his own key.
  auto alice = make_state();
  const auto alice_distribution = alice.distribution();
  auto carol_view_of_alice = receiver_of(alice);
  RawSigningKey bob;
  const SecretBytes before = carol_view_of_alice.serialize();

  for (std::uint32_t iteration : {0u, 5u, 999u}) {
    const SecretBytes chain = chain_key_after(alice_distribution.chain_key, iteration);
    const std::string forged = craft_group_message(kGroup, chain, alice.key_id(), alice.epoch(),
                                                   iteration, bob, "I am Alice");
    expect_undecryptable(carol_view_of_alice.decrypt(kGroup, forged),
                         "forgery at iteration " + std::to_string(iteration));
    EXPECT_EQ(carol_view_of_alice.serialize(), before) << "state changed by a forgery";
  }
  // Alice's real message 0 still decrypts.
  EXPECT_EQ(decrypt_ok(carol_view_of_alice, encrypt(alice, "real")), "real");
}

TEST(SenderKeyTest, EveryFlippedByteIsRejected) {
  auto alice = make_state();
  auto bob_view = receiver_of(alice);
  const std::string wire = encrypt(alice, "flip me");
  const auto body = wire_body(wire);
  const SecretBytes before = bob_view.serialize();
  for (std::size_t i = 0; i < body.size(); ++i) {
    for (std::uint8_t mask : {0x01, 0x80}) {
      auto bad = body;
      bad[i] ^= mask;
      expect_undecryptable(bob_view.decrypt(kGroup, make_wire(bad)), "byte " + std::to_string(i));
    }
  }
  EXPECT_EQ(bob_view.serialize(), before);
  // Truncated and extended bodies, and broken encodings.
  auto shorter = body;
  shorter.pop_back();
  expect_undecryptable(bob_view.decrypt(kGroup, make_wire(shorter)), "truncated");
  auto longer = body;
  longer.push_back(0);
  expect_undecryptable(bob_view.decrypt(kGroup, make_wire(longer)), "extended");
  expect_undecryptable(bob_view.decrypt(kGroup, wire.substr(4)), "no prefix");
  expect_undecryptable(bob_view.decrypt(kGroup, "sc2:" + wire.substr(5)), "bad base64");
  expect_undecryptable(bob_view.decrypt(kGroup, "sc2:"), "empty");
  expect_undecryptable(bob_view.decrypt(kGroup, make_wire({body.begin(), body.begin() + 18})),
                       "header only");
  EXPECT_EQ(decrypt_ok(bob_view, wire), "flip me");
}

TEST(SenderKeyTest, WrongGroupIdRejected) {
  auto alice = make_state();
  auto bob_view = receiver_of(alice);
  const std::string wire = encrypt(alice, "for kGroup");
  expect_undecryptable(bob_view.decrypt(kOtherGroup, wire), "other group id");

  // The same keys recorded for another group: the group id is bound into the signature and
  // the associated data, so the message does not transfer.
  auto d = alice.distribution();
  auto moved_d = alice.distribution();
  moved_d.group_id = kOtherGroup;
  auto moved = ReceivedSenderKey::from_distribution(moved_d);
  ASSERT_TRUE(moved.ok());
  const std::string next = encrypt(alice, "still kGroup");
  expect_undecryptable(moved->decrypt(kOtherGroup, next), "relabelled key");
  EXPECT_EQ(decrypt_ok(bob_view, next), "still kGroup");
}

TEST(SenderKeyTest, EpochsAreSeparate) {
  auto old_epoch = make_state(kGroup, 1);
  auto new_epoch = make_state(kGroup, 2);
  EXPECT_NE(old_epoch.key_id(), new_epoch.key_id());
  auto old_view = receiver_of(old_epoch);
  auto new_view = receiver_of(new_epoch);
  const std::string old_wire = encrypt(old_epoch, "epoch 1");
  const std::string new_wire = encrypt(new_epoch, "epoch 2");
  EXPECT_EQ(peek_group_wire(old_wire)->epoch, 1u);
  EXPECT_EQ(peek_group_wire(new_wire)->epoch, 2u);
  expect_undecryptable(new_view.decrypt(kGroup, old_wire), "new key, old message");
  expect_undecryptable(old_view.decrypt(kGroup, new_wire), "old key, new message");
  EXPECT_EQ(decrypt_ok(old_view, old_wire), "epoch 1");
  EXPECT_EQ(decrypt_ok(new_view, new_wire), "epoch 2");

  // A header that names the right key but the wrong epoch is refused as well.
  auto body = wire_body(encrypt(new_epoch, "x"));
  body[13] ^= 0x03;  // epoch 2 -> 1
  expect_undecryptable(new_view.decrypt(kGroup, make_wire(body)), "epoch rewritten");
}

TEST(SenderKeyTest, SerializeAndRestoreMidStream) {
  auto alice = make_state();
  auto bob_view = receiver_of(alice);
  std::vector<std::string> wires;
  for (int i = 0; i < 10; ++i)
    wires.push_back(encrypt(alice, numbered("m", i)));
  for (int i : {0, 1, 4, 7})
    EXPECT_EQ(decrypt_ok(bob_view, wires[i]), numbered("m", i));

  const SecretBytes alice_blob = alice.serialize();
  const SecretBytes bob_blob = bob_view.serialize();
  auto alice2 = SenderKeyState::deserialize(alice_blob.span());
  auto bob2 = ReceivedSenderKey::deserialize(bob_blob.span());
  ASSERT_TRUE(alice2.ok()) << alice2.error().message();
  ASSERT_TRUE(bob2.ok()) << bob2.error().message();
  EXPECT_EQ(alice2->serialize(), alice_blob);
  EXPECT_EQ(bob2->serialize(), bob_blob);
  EXPECT_EQ(alice2->key_id(), alice.key_id());
  EXPECT_EQ(alice2->iteration(), 10u);
  EXPECT_EQ(alice2->group_id(), kGroup);
  EXPECT_EQ(bob2->skipped_key_count(), 4u);  // 2, 3, 5, 6

  for (int i : {2, 3, 5, 6, 8, 9})
    EXPECT_EQ(decrypt_ok(*bob2, wires[i]), numbered("m", i));
  expect_undecryptable(bob2->decrypt(kGroup, wires[7]), "replay after restore");
  EXPECT_EQ(decrypt_ok(*bob2, encrypt(*alice2, "after restore")), "after restore");
  // The original sender state would reuse iteration 10: the restored one is the same state.
  EXPECT_EQ(peek_group_wire(encrypt(alice, "dup"))->iteration, 10u);
}

TEST(SenderKeyTest, CorruptBlobsAreRefused) {
  auto alice = make_state();
  auto bob_view = receiver_of(alice);
  for (int i = 0; i < 3; ++i)
    (void)encrypt(alice, "x");
  EXPECT_EQ(decrypt_ok(bob_view, encrypt(alice, "y")), "y");  // 3 skipped keys
  const auto own_v = to_vector(alice.serialize());
  const auto rec_v = to_vector(bob_view.serialize());

  auto expect_corrupt_own = [](const std::vector<std::uint8_t>& blob, const std::string& what) {
    auto r = SenderKeyState::deserialize(blob);
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.error().code(), ErrorCode::kCorrupt) << what;
  };
  auto expect_corrupt_received = [](const std::vector<std::uint8_t>& blob,
                                    const std::string& what) {
    auto r = ReceivedSenderKey::deserialize(blob);
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.error().code(), ErrorCode::kCorrupt) << what;
  };

  // Any changed byte, anywhere (the checksum catches what the field checks cannot).
  for (std::size_t i = 0; i < own_v.size(); ++i) {
    auto v = own_v;
    v[i] ^= 0x10;
    expect_corrupt_own(v, "own blob byte " + std::to_string(i));
  }
  for (std::size_t i = 0; i < rec_v.size(); ++i) {
    auto v = rec_v;
    v[i] ^= 0x10;
    expect_corrupt_received(v, "received blob byte " + std::to_string(i));
  }

  expect_corrupt_own({}, "empty");
  expect_corrupt_own({own_v.begin(), own_v.end() - 1}, "truncated");
  {
    auto v = own_v;
    v.push_back(0);
    expect_corrupt_own(v, "trailing byte");
    expect_corrupt_own(reseal(v), "trailing byte, checksum fixed");
  }
  {
    auto v = own_v;
    v[4] = 2;
    expect_corrupt_own(reseal(v), "unknown format");
  }
  expect_corrupt_own(rec_v, "a received key is not our own");
  expect_corrupt_received(own_v, "our own key is not a received one");
  {
    auto v = own_v;
    v[kBlobFieldsAt] = 0;  // group id length 0
    expect_corrupt_own(reseal(v), "empty group id");
  }

  expect_corrupt_received({}, "empty");
  expect_corrupt_received({rec_v.begin(), rec_v.end() - 1}, "truncated");
  {
    auto v = rec_v;
    v.push_back(0);
    expect_corrupt_received(reseal(v), "trailing byte, checksum fixed");
  }
  // Fields: u8 len, group id, u32 epoch, key(32), u32 next, chain(32), u16 count, then
  // (u32 iteration, key(32)) per skipped key, then the checksum.
  const std::size_t key_at = kBlobFieldsAt + 1 + kGroup.size() + 4;
  const std::size_t next_at = key_at + 32;
  const std::size_t count_at = next_at + 4 + 32;
  const std::size_t first_skipped_at = count_at + 2;
  ASSERT_EQ(rec_v.size(), first_skipped_at + 3 * 36 + 32);
  {
    auto v = rec_v;
    std::fill(v.begin() + key_at, v.begin() + key_at + 32, 0);
    expect_corrupt_received(reseal(v), "invalid signing key");
  }
  {
    auto v = rec_v;
    v[count_at + 1] = 4;
    expect_corrupt_received(reseal(v), "count larger than the entries");
  }
  {
    auto v = rec_v;
    v[count_at] = 0xff;
    expect_corrupt_received(reseal(v), "count above the bound");
  }
  {
    auto v = rec_v;
    std::copy(v.begin() + first_skipped_at, v.begin() + first_skipped_at + 4,
              v.begin() + first_skipped_at + 36);  // second iteration = first
    expect_corrupt_received(reseal(v), "skipped iterations not increasing");
  }
  {
    auto v = rec_v;
    v[first_skipped_at + 2 * 36 + 3] = 9;  // iteration 9 >= next iteration 4
    expect_corrupt_received(reseal(v), "skipped iteration not below the next one");
  }
  {
    auto v = rec_v;
    std::fill(v.begin() + next_at, v.begin() + next_at + 4, 0xff);
    expect_corrupt_received(reseal(v), "next iteration at the end of the counter");
  }
  // The untouched blobs, and a re-checksummed unchanged one, still load.
  EXPECT_TRUE(SenderKeyState::deserialize(own_v).ok());
  EXPECT_TRUE(ReceivedSenderKey::deserialize(rec_v).ok());
  EXPECT_TRUE(ReceivedSenderKey::deserialize(reseal(rec_v)).ok());
}

TEST(SenderKeyTest, DistributionChecksAndBinaryForm) {
  auto alice = make_state(kGroup, 9);
  (void)encrypt(alice, "advance");
  const auto d = alice.distribution();
  EXPECT_EQ(d.group_id, kGroup);
  EXPECT_EQ(d.epoch, 9u);
  EXPECT_EQ(d.iteration, 1u);
  EXPECT_EQ(d.chain_key.size(), 32u);
  EXPECT_EQ(d.key_id, sender_key_id(d.signing_public_key));

  const SecretBytes bytes = serialize_distribution(d).value();
  auto parsed = parse_distribution(bytes.span());
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  EXPECT_EQ(parsed->group_id, d.group_id);
  EXPECT_EQ(parsed->epoch, d.epoch);
  EXPECT_EQ(parsed->iteration, d.iteration);
  EXPECT_EQ(parsed->chain_key, d.chain_key);
  EXPECT_EQ(parsed->signing_public_key, d.signing_public_key);
  EXPECT_EQ(parsed->key_id, d.key_id);

  std::vector<std::uint8_t> v(bytes.span().begin(), bytes.span().end());
  v.push_back(0);
  EXPECT_FALSE(parse_distribution(v).ok());
  v.pop_back();
  v.pop_back();
  EXPECT_FALSE(parse_distribution(v).ok());

  auto bad = alice.distribution();
  bad.key_id[0] ^= 1;
  EXPECT_FALSE(ReceivedSenderKey::from_distribution(bad).ok()) << "key id mismatch";
  bad = alice.distribution();
  bad.signing_public_key.fill(0);
  bad.key_id = sender_key_id(bad.signing_public_key);
  EXPECT_FALSE(ReceivedSenderKey::from_distribution(bad).ok()) << "small-order key";
  bad = alice.distribution();
  bad.chain_key = random_secret(31);
  EXPECT_FALSE(ReceivedSenderKey::from_distribution(bad).ok()) << "short chain key";
  bad = alice.distribution();
  bad.group_id.clear();
  EXPECT_FALSE(ReceivedSenderKey::from_distribution(bad).ok()) << "empty group id";
  EXPECT_FALSE(serialize_distribution(bad).ok()) << "empty group id";
  bad = alice.distribution();
  bad.group_id = std::string(256, 'g');
  EXPECT_FALSE(serialize_distribution(bad).ok()) << "group id too long";
  bad = alice.distribution();
  bad.chain_key = random_secret(33);
  EXPECT_FALSE(serialize_distribution(bad).ok()) << "long chain key";
  EXPECT_FALSE(SenderKeyState::generate("", 1).ok());
  EXPECT_FALSE(SenderKeyState::generate(std::string(256, 'a'), 1).ok());
  EXPECT_TRUE(SenderKeyState::generate(std::string(255, 'a'), 1).ok());
}

TEST(SenderKeyTest, PeekRefusesOtherWires) {
  EXPECT_FALSE(peek_group_wire("").ok());
  EXPECT_FALSE(peek_group_wire("sc2:").ok());
  EXPECT_FALSE(peek_group_wire(base64_encode(std::string(120, 'a'))).ok()) << "a v1 value";
  std::vector<std::uint8_t> pairwise(42 + 16, 0);
  pairwise[0] = 2;
  pairwise[1] = 1;  // kind 1: a pairwise message
  EXPECT_FALSE(peek_group_wire(make_wire(pairwise)).ok());
}

// ---------------------------------------------------------------------------------------------
// QR bootstrap

const char* const kQrKey = "ByxRdpvA5QovVHmew+gNMld8ocbrEDVaf6TJ7hM4XYI=";

SecretBytes qr_key(const std::string& group = kGroup) {
  auto k = derive_qr_bootstrap_key(SecretString(kQrKey), group);
  EXPECT_TRUE(k.ok());
  return std::move(k).value();
}

void expect_unopenable(const Result<QrAnnouncement>& r, const std::string& what) {
  ASSERT_FALSE(r.ok()) << what;
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << what;
  EXPECT_EQ(r.error().message(), "message could not be decrypted") << what;
}

TEST(QrBootstrapTest, KeyDerivation) {
  const SecretBytes k = qr_key();
  EXPECT_EQ(k.size(), 32u);
  auto raw = base64_decode(kQrKey);
  ASSERT_TRUE(raw.has_value());
  EXPECT_EQ(derive_qr_bootstrap_key(SecretBytes(*raw), kGroup), k);
  // HKDF(S, salt empty, "SecureChats v2 qr bootstrap" || group id, 32).
  EXPECT_EQ(hkdf_sha256(*raw, {}, "SecureChats v2 qr bootstrap" + kGroup, 32), k);
  EXPECT_NE(qr_key(kOtherGroup), k);
  EXPECT_FALSE(
      derive_qr_bootstrap_key(SecretString("ByxRdpvA5QovVHmew-gNMld8ocbrEDVaf6TJ7hM4XYI="), kGroup)
          .ok())
      << "URL alphabet";
  EXPECT_FALSE(derive_qr_bootstrap_key(SecretString("AAAA"), kGroup).ok()) << "short";
  EXPECT_FALSE(derive_qr_bootstrap_key(SecretString(""), kGroup).ok());
}

TEST(QrBootstrapTest, SealOpenRoundTrip) {
  auto alice = make_state();
  (void)encrypt(alice, "first");
  const SecretBytes key = qr_key();
  auto wire = seal_qr_announcement(key, alice, "alice-user-id");
  ASSERT_TRUE(wire.ok()) << wire.error().message();
  EXPECT_TRUE(wire->starts_with("sc2:"));
  EXPECT_TRUE(is_qr_announcement_wire(*wire));
  EXPECT_FALSE(peek_group_wire(*wire).ok());

  auto opened = open_qr_announcement(key, kGroup, *wire);
  ASSERT_TRUE(opened.ok()) << opened.error().message();
  EXPECT_EQ(opened->user_id, "alice-user-id");
  EXPECT_EQ(opened->distribution.key_id, alice.key_id());
  EXPECT_EQ(opened->distribution.iteration, 1u);
  EXPECT_EQ(opened->distribution.epoch, 1u);

  auto view = ReceivedSenderKey::from_distribution(opened->distribution);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(decrypt_ok(*view, encrypt(alice, "hi picnic")), "hi picnic");

  // Random nonces: two seals of the same state differ.
  auto again = seal_qr_announcement(key, alice, "alice-user-id");
  ASSERT_TRUE(again.ok());
  EXPECT_NE(*again, *wire);
  const std::string group_wire = encrypt(alice, "m");
  EXPECT_FALSE(is_qr_announcement_wire(group_wire));
  EXPECT_FALSE(is_qr_announcement_wire("sc2:"));
  EXPECT_FALSE(is_qr_announcement_wire(base64_encode(std::string(60, 'q'))));

  EXPECT_FALSE(seal_qr_announcement(key, alice, "").ok());
  EXPECT_FALSE(seal_qr_announcement(random_secret(16), alice, "alice").ok());
}

TEST(QrBootstrapTest, TamperWrongGroupAndWrongKeyRefused) {
  auto alice = make_state();
  const SecretBytes key = qr_key();
  auto wire = seal_qr_announcement(key, alice, "alice-user-id");
  ASSERT_TRUE(wire.ok());
  const auto body = wire_body(*wire);
  for (std::size_t i = 0; i < body.size(); ++i) {
    auto bad = body;
    bad[i] ^= 0x01;
    expect_unopenable(open_qr_announcement(key, kGroup, make_wire(bad)),
                      "byte " + std::to_string(i));
  }
  expect_unopenable(open_qr_announcement(key, kOtherGroup, *wire), "other group id");
  expect_unopenable(open_qr_announcement(qr_key(kOtherGroup), kOtherGroup, *wire),
                    "other group's key");
  expect_unopenable(open_qr_announcement(random_secret(32), kGroup, *wire), "wrong key");
  expect_unopenable(open_qr_announcement(key, kGroup, wire->substr(0, wire->size() - 8)),
                    "truncated");
  expect_unopenable(open_qr_announcement(key, kGroup, encrypt(alice, "m")), "a group message");

  // An announcement sealed for another group (same S, other id) does not open here, even
  // under the other group's id with this group's key.
  auto other_state = make_state(kOtherGroup);
  auto other = seal_qr_announcement(qr_key(kOtherGroup), other_state, "alice-user-id");
  ASSERT_TRUE(other.ok());
  expect_unopenable(open_qr_announcement(key, kGroup, *other), "cross-group");
  EXPECT_TRUE(open_qr_announcement(qr_key(kOtherGroup), kOtherGroup, *other).ok());
}

TEST(QrBootstrapTest, AnnouncingSomeoneElsesSigningKeyIsRefused) {
  // Mallory knows S and Alice's announced distribution, and announces it as her own user id,
  // signing with her own key: the signature must be by the announced key itself.
  auto alice = make_state();
  const SecretBytes key = qr_key();
  const SecretBytes dist = serialize_distribution(alice.distribution()).value();
  RawSigningKey mallory;

  std::vector<std::uint8_t> content;
  const std::string user = "mallory-user-id";
  content.push_back(static_cast<std::uint8_t>(user.size()));
  append(content, bytes_of(user));
  append(content, dist.span());
  std::vector<std::uint8_t> to_sign = bytes_of("SC2-QRB-SIG");
  to_sign.push_back(static_cast<std::uint8_t>(kGroup.size()));
  append(to_sign, bytes_of(kGroup));
  append(to_sign, content);

  auto seal = [&](const std::array<std::uint8_t, 64>& sk) {
    std::vector<std::uint8_t> plain = content;
    std::array<std::uint8_t, 64> sig{};
    crypto_sign_detached(sig.data(), nullptr, to_sign.data(), to_sign.size(), sk.data());
    append(plain, sig);
    std::vector<std::uint8_t> ad = bytes_of("SC2-QRB");
    ad.push_back(static_cast<std::uint8_t>(kGroup.size()));
    append(ad, bytes_of(kGroup));
    ad.push_back(2);
    ad.push_back(3);
    std::vector<std::uint8_t> body{2, 3};
    const auto nonce = random_bytes(24);
    append(body, nonce);
    std::vector<std::uint8_t> ct(plain.size() + 16);
    unsigned long long len = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(ct.data(), &len, plain.data(), plain.size(),
                                               ad.data(), ad.size(), nullptr, nonce.data(),
                                               key.data());
    append(body, ct);
    return make_wire(body);
  };
  expect_unopenable(open_qr_announcement(key, kGroup, seal(mallory.sk)), "Mallory's signature");

  // Control: the same construction with a distribution of Mallory's own key opens.
  SenderKeyDistribution own;
  own.group_id = kGroup;
  own.epoch = 1;
  own.chain_key = random_secret(32);
  own.signing_public_key = mallory.pk;
  own.key_id = sender_key_id(mallory.pk);
  const SecretBytes own_bytes = serialize_distribution(own).value();
  content.resize(1 + user.size());
  append(content, own_bytes.span());
  to_sign.resize(11 + 1 + kGroup.size());
  append(to_sign, content);
  auto opened = open_qr_announcement(key, kGroup, seal(mallory.sk));
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened->user_id, user);
  EXPECT_EQ(opened->distribution.key_id, own.key_id);

  // Properly sealed and signed for this group, but carrying a key for another group.
  own.group_id = kOtherGroup;
  const SecretBytes foreign = serialize_distribution(own).value();
  content.resize(1 + user.size());
  append(content, foreign.span());
  to_sign.resize(11 + 1 + kGroup.size());
  append(to_sign, content);
  expect_unopenable(open_qr_announcement(key, kGroup, seal(mallory.sk)), "foreign group key");
}

}  // namespace
}  // namespace secchats::crypto::v2
