// Protocol v2 between two clients, without a relay: each party has its own encrypted store,
// and the test carries the encContent values from one to the other (as the relay would, or
// as an attacker could: replayed, altered, downgraded).
#include "pairwise_v2.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "secchats/common/clock.hpp"
#include "secchats/common/encoding.hpp"
#include "secchats/crypto/random.hpp"
#include "secchats/crypto/v2/safety_number.hpp"
#include "secchats/crypto/v2/wire.hpp"
#include "secchats/protocol/json_codec.hpp"
#include "support/temp_dir.hpp"

namespace secchats::core {
namespace {

namespace fs = std::filesystem;
namespace v2 = crypto::v2;

const SecretString kPassword("correct horse battery staple");

using testing::TempDir;  // the shared one in tests/support

// One client: its store, its v1 cipher and its v2 engine.
struct Party {
  Party(const TempDir& dir, std::string user_id, std::string nick)
      : id(std::move(user_id)), me{id, std::move(nick)}, home(dir.path() / me.nickname) {
    store::Identity identity;
    identity.user_id = id;
    identity.auth_token = SecretString("token");
    identity.nickname = me.nickname;
    identity.server_url = "http://127.0.0.1:1";
    auto created = store::Store::create(home, kPassword, identity);
    if (!created.ok()) throw std::runtime_error(created.error().message());
    store = std::move(created).value();
    auto loaded = PairwiseV2::load(*store, id, cipher);
    if (!loaded.ok()) throw std::runtime_error(loaded.error().message());
    v2 = std::move(loaded).value();
  }

  store::Friend friend_record(const std::string& friend_id) const {
    auto f = store->find_friend(friend_id);
    EXPECT_TRUE(f.ok() && f->has_value());
    return f.ok() && f->has_value() ? std::move(**f) : store::Friend{};
  }

  std::string id;
  Sender me;
  fs::path home;
  std::unique_ptr<store::Store> store;
  crypto::v1::MessageCipher cipher;
  std::unique_ptr<PairwiseV2> v2;
};

// A friendship made by two of our clients: the key exchange carried the v2 marker
// (docs/protocol-v2.md §2.1), so each offers the other its bundle.
store::Friend marked_friend(const std::string& id, const SecretString& key,
                            std::int64_t created_at_ms = 1, const std::string& nickname = "") {
  store::Friend f{id, nickname, key, "v1", created_at_ms};
  f.peer_v2_capable = true;
  return f;
}

// Ids chosen so the initiator (the smaller id) is known.
const std::string kSmall = "1111111111111111";
const std::string kLarge = "9999999999999999";

void befriend(Party& a, Party& b, const SecretString& key = crypto::v1::generate_group_key()) {
  ASSERT_TRUE(a.store->upsert_friend(marked_friend(b.id, key)).ok());
  ASSERT_TRUE(b.store->upsert_friend(marked_friend(a.id, key)).ok());
}

// Delivers one encContent from `from` to `to`, in a transaction as the sync round does.
PairwiseV2::Opened deliver(Party& to, const Party& from, const std::string& wire) {
  PairwiseV2::Opened opened;
  auto s = to.store->transaction([&]() -> Status {
    SC_ASSIGN_OR_RETURN(opened, to.v2->open(from.id, wire));
    return ok_status();
  });
  EXPECT_TRUE(s.ok()) << s.error().message();
  return opened;
}

// Everything `from` owes `to` (bundle, then control), as Client::Impl sends it. Returns the
// wires in order.
std::vector<std::string> pending(Party& from, const Party& to) {
  std::vector<std::string> wires;
  auto update = from.v2->seal_bundle_update(to.id, from.me);
  EXPECT_TRUE(update.ok()) << update.error().message();
  if (update.ok() && *update) {
    wires.push_back(**update);
    EXPECT_TRUE(from.v2->mark_update_sent(to.id).ok());
  }
  auto control = from.v2->seal_pending_control(to.id, from.me);
  EXPECT_TRUE(control.ok()) << control.error().message();
  if (control.ok() && *control) {
    wires.push_back(**control);
    EXPECT_TRUE(from.v2->mark_control_sent(to.id).ok());
  }
  return wires;
}

// Sends what each side owes the other until nothing is owed; every delivery must be silent.
int settle(Party& a, Party& b) {
  int delivered = 0;
  for (int round = 0; round < 6; ++round) {
    bool any = false;
    for (auto [from, to] : {std::pair{&a, &b}, std::pair{&b, &a}}) {
      for (const auto& wire : pending(*from, *to)) {
        auto opened = deliver(*to, *from, wire);
        EXPECT_FALSE(opened.message.has_value()) << "upgrade traffic surfaced as a message";
        EXPECT_FALSE(opened.warning.has_value()) << *opened.warning;
        any = true;
        ++delivered;
      }
    }
    if (!any) break;
  }
  return delivered;
}

protocol::Message text(const Party& from, const Party& to, std::string_view body) {
  return make_text(from.me, to.id, crypto::random_int63(), unix_millis_now(), body);
}

std::string text_of(const PairwiseV2::Opened& o) {
  if (!o.message) return "<no message: " + o.warning.value_or("") + ">";
  return base64_decode_to_string(o.message->content.value_or("")).value_or("<bad base64>");
}

std::string seal(Party& from, const Party& to, std::string_view body) {
  auto wire = from.v2->seal(to.id, text(from, to, body));
  EXPECT_TRUE(wire.ok()) << wire.error().message();
  return wire.ok() ? *wire : std::string();
}

// A v1 ciphertext under the channel key: what an old client, or whoever holds that key,
// can make.
std::string v1_wire(Party& from, const Party& to, const protocol::Message& m) {
  auto f = from.friend_record(to.id);
  return from.cipher.encrypt(f.channel_key, protocol::encode(m));
}

std::string bundle_update_wire(Party& from, const Party& to, const v2::Bundle& bundle) {
  return v1_wire(from, to,
                 make_update(from.me, to.id, crypto::random_int63(), unix_millis_now(),
                             encode_bundle_json(bundle)));
}

std::vector<std::uint8_t> state_of(const Party& p, const std::string& friend_id) {
  auto f = p.friend_record(friend_id);
  return {f.ratchet_state.span().begin(), f.ratchet_state.span().end()};
}

// ---------------------------------------------------------------------------------------------

TEST(BundleJson, RoundTripsAndIsStrict) {
  const auto ik = v2::IdentityKeyPair::generate();
  const auto bundle = v2::make_bundle(ik, v2::SignedPrekey::generate(ik));
  const std::string json = encode_bundle_json(bundle);
  EXPECT_TRUE(json.starts_with("{\"v\":2,\"ik\":\"")) << json;
  auto back = decode_bundle_json(json);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(*back, bundle);
  // Members of later versions are ignored; key order does not matter.
  const std::string b64_ik = base64_encode(bundle.ik), b64_spk = base64_encode(bundle.spk),
                    b64_sig = base64_encode(bundle.spk_sig);
  auto reordered = decode_bundle_json("{\"sig\":\"" + b64_sig + "\",\"spk\":\"" + b64_spk +
                                      "\",\"x\":[1],\"ik\":\"" + b64_ik + "\",\"v\":2}");
  ASSERT_TRUE(reordered.ok());
  EXPECT_EQ(*reordered, bundle);

  for (const std::string& bad : {
           std::string(""),
           std::string("null"),
           std::string("[]"),
           std::string("{\"v\":2}"),
           "{\"v\":3,\"ik\":\"" + b64_ik + "\",\"spk\":\"" + b64_spk + "\",\"sig\":\"" + b64_sig +
               "\"}",
           "{\"v\":\"2\",\"ik\":\"" + b64_ik + "\",\"spk\":\"" + b64_spk + "\",\"sig\":\"" +
               b64_sig + "\"}",
           "{\"v\":2,\"ik\":\"" + b64_spk.substr(4) + "\",\"spk\":\"" + b64_spk + "\",\"sig\":\"" +
               b64_sig + "\"}",
           "{\"v\":2,\"ik\":\"" + b64_ik + "\",\"spk\":\"" + b64_ik + "\",\"sig\":\"" + b64_ik +
               "\"}",
           "{\"v\":2,\"ik\":\"" + b64_ik + "!\",\"spk\":\"" + b64_spk + "\",\"sig\":\"" + b64_sig +
               "\"}",
           "{\"v\":2,\"ik\":1,\"spk\":\"" + b64_spk + "\",\"sig\":\"" + b64_sig + "\"}",
       }) {
    auto r = decode_bundle_json(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
    }
  }
}

TEST(PairwiseV2, KeysAreMadeOnceAndKeptInTheStore) {
  TempDir dir;
  Party a(dir, kSmall, "Alice");
  const v2::Bundle first = a.v2->own_bundle();
  EXPECT_TRUE(v2::verify_bundle(first).ok());
  auto again = PairwiseV2::load(*a.store, a.id, a.cipher);
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_EQ((*again)->own_bundle(), first);
  // Another process opening the same store sees the same keys.
  auto other = store::Store::open(a.home, kPassword);
  ASSERT_TRUE(other.ok()) << other.error().message();
  crypto::v1::MessageCipher cipher;
  auto loaded = PairwiseV2::load(**other, a.id, cipher);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ((*loaded)->own_bundle(), first);
  auto keys = (*other)->own_v2_keys();
  ASSERT_TRUE(keys.ok() && keys->has_value());
  EXPECT_EQ((*other)->set_own_v2_keys(**keys).error().code(), ErrorCode::kAlreadyExists);
}

class Upgrade : public ::testing::TestWithParam<bool> {};

// Param: whether the party that accepts the friend request (and so sends its bundle first)
// is the initiator.
TEST_P(Upgrade, ReachesV2BothWaysAndUpdatesStayInvisible) {
  TempDir dir;
  const bool acceptor_initiates = GetParam();
  Party acceptor(dir, acceptor_initiates ? kSmall : kLarge, "Bob");
  Party requester(dir, acceptor_initiates ? kLarge : kSmall, "Alice");
  befriend(acceptor, requester);

  // The acceptor offers its bundle at once (Client::accept); the requester learns of the
  // friendship and the bundle in the same sync.
  auto offer = pending(acceptor, requester);
  ASSERT_EQ(offer.size(), 1u);
  EXPECT_FALSE(v2::is_v2_wire(offer[0]));  // v1: the requester has no v2 keys of ours yet
  auto opened = deliver(requester, acceptor, offer[0]);
  EXPECT_FALSE(opened.message);
  EXPECT_FALSE(opened.warning) << *opened.warning;
  {
    auto f = requester.friend_record(acceptor.id);
    EXPECT_EQ(f.peer_bundle.size(), 128u);
    EXPECT_FALSE(f.ratchet_state.empty());
    EXPECT_EQ(f.control_pending, !acceptor_initiates);  // the requester initiates
    EXPECT_FALSE(f.v2_active);
    EXPECT_EQ(f.nickname, "Bob");  // learned from the UPDATE, as from any message
  }
  // Before anything v2 has arrived from them, v1 from them is still fine (and the responder,
  // which cannot send v2 yet, sends v1).
  auto early = v1_wire(acceptor, requester, text(acceptor, requester, "still v1"));
  EXPECT_EQ(text_of(deliver(requester, acceptor, early)), "still v1");

  const int delivered = settle(acceptor, requester);
  EXPECT_GE(delivered, 3);  // requester's bundle, the confirmation, its answer
  for (auto [self, peer] : {std::pair{&acceptor, &requester}, std::pair{&requester, &acceptor}}) {
    auto f = self->friend_record(peer->id);
    EXPECT_TRUE(f.v2_active) << self->me.nickname;
    EXPECT_TRUE(f.update_sent);
    EXPECT_FALSE(f.control_pending);
    EXPECT_FALSE(f.identity_changed);
    EXPECT_EQ(f.nickname, peer->me.nickname);
  }

  // Text both ways is v2 now.
  const std::string to_requester = seal(acceptor, requester, "hello over v2");
  EXPECT_TRUE(to_requester.starts_with("sc2:")) << to_requester.substr(0, 8);
  EXPECT_EQ(text_of(deliver(requester, acceptor, to_requester)), "hello over v2");
  const std::string to_acceptor = seal(requester, acceptor, "and back ✓");
  EXPECT_TRUE(to_acceptor.starts_with("sc2:"));
  EXPECT_EQ(text_of(deliver(acceptor, requester, to_acceptor)), "and back ✓");
  // Padded: texts of different lengths in one bucket look the same on the wire.
  EXPECT_EQ(seal(acceptor, requester, std::string(300, 'x')).size(),
            seal(acceptor, requester, std::string(350, 'y')).size());
  // Nothing more is owed.
  EXPECT_TRUE(pending(acceptor, requester).empty());
  EXPECT_TRUE(pending(requester, acceptor).empty());
}

INSTANTIATE_TEST_SUITE_P(AcceptorIsInitiator, Upgrade, ::testing::Values(true));
INSTANTIATE_TEST_SUITE_P(AcceptorIsResponder, Upgrade, ::testing::Values(false));

struct V2Pair : ::testing::Test {
  void SetUp() override {
    befriend(alice, bob);
    settle(alice, bob);
    ASSERT_TRUE(alice.friend_record(bob.id).v2_active);
    ASSERT_TRUE(bob.friend_record(alice.id).v2_active);
  }
  TempDir dir;
  Party alice{dir, kSmall, "Alice"};
  Party bob{dir, kLarge, "Bob"};
};

TEST_F(V2Pair, V1AfterV2IsRefusedAsADowngrade) {
  const auto before = state_of(bob, alice.id);
  // Whoever holds the v1 channel key (the relay, after an unnoticed v1 man in the middle)
  // could make this; the friend's client never would.
  auto opened = deliver(bob, alice, v1_wire(alice, bob, text(alice, bob, "from the past")));
  EXPECT_FALSE(opened.message);
  ASSERT_TRUE(opened.warning);
  EXPECT_NE(opened.warning->find("downgrade"), std::string::npos) << *opened.warning;
  EXPECT_EQ(opened.warning->find("from the past"), std::string::npos);
  // A v1 bundle cannot swap the identity key any more either.
  Party mallory(dir, kSmall, "Mallory");
  opened = deliver(bob, alice, bundle_update_wire(alice, bob, mallory.v2->own_bundle()));
  EXPECT_FALSE(opened.message);
  ASSERT_TRUE(opened.warning);
  EXPECT_NE(opened.warning->find("downgrade"), std::string::npos);
  auto f = bob.friend_record(alice.id);
  EXPECT_FALSE(f.identity_changed);
  EXPECT_EQ(state_of(bob, alice.id), before);
  // v2 still works.
  EXPECT_EQ(text_of(deliver(bob, alice, seal(alice, bob, "still here"))), "still here");
}

TEST_F(V2Pair, ReplaysAndForgeriesChangeNothing) {
  const std::string wire = seal(alice, bob, "once");
  EXPECT_EQ(text_of(deliver(bob, alice, wire)), "once");
  const auto after_first = state_of(bob, alice.id);
  // The same bytes again are the copy a sender's outbox posts after losing the relay's
  // answer: dropped silently as a duplicate, not shown as a decryption failure.
  auto replay = deliver(bob, alice, wire);
  EXPECT_FALSE(replay.message);
  EXPECT_FALSE(replay.warning) << *replay.warning;
  EXPECT_EQ(state_of(bob, alice.id), after_first);

  std::string forged = seal(alice, bob, "altered");
  forged[forged.size() - 6] = forged[forged.size() - 6] == 'A' ? 'B' : 'A';
  for (const std::string& bad :
       {forged, std::string("sc2:"), std::string("sc2:AAAA"), std::string("sc2:!!"),
        std::string("sc2:") + std::string(80, 'A')}) {
    auto r = deliver(bob, alice, bad);
    EXPECT_FALSE(r.message);
    ASSERT_TRUE(r.warning);
    EXPECT_EQ(*r.warning, "a message from " + alice.id + " could not be decrypted");
    EXPECT_EQ(state_of(bob, alice.id), after_first);
  }
  // From a stranger: dropped, whatever it is.
  Party stranger(dir, "5555555555555555", "Eve");
  auto r = deliver(bob, stranger, wire);
  EXPECT_FALSE(r.message);
  EXPECT_EQ(r.warning.value_or(""), "dropped a message from a stranger");
  // Out of order within the skip bounds still works.
  const std::string m1 = seal(alice, bob, "one"), m2 = seal(alice, bob, "two");
  EXPECT_EQ(text_of(deliver(bob, alice, m2)), "two");
  EXPECT_EQ(text_of(deliver(bob, alice, m1)), "one");
}

TEST_F(V2Pair, TheAdvancedStateIsCommittedBeforeSealReturns) {
  const auto before = state_of(alice, bob.id);
  const std::string wire = seal(alice, bob, "durable");
  // A second connection (another process) sees the new state: it was committed.
  auto other = store::Store::open(alice.home, kPassword);
  ASSERT_TRUE(other.ok()) << other.error().message();
  auto f = (*other)->find_friend(bob.id);
  ASSERT_TRUE(f.ok() && f->has_value());
  const std::vector<std::uint8_t> committed((*f)->ratchet_state.span().begin(),
                                            (*f)->ratchet_state.span().end());
  EXPECT_NE(committed, before);
  EXPECT_EQ(committed, state_of(alice, bob.id));
  // Sealing from that other process continues the chain: no message key is used twice.
  crypto::v1::MessageCipher cipher;
  auto engine = PairwiseV2::load(**other, alice.id, cipher);
  ASSERT_TRUE(engine.ok());
  auto second = (*engine)->seal(bob.id, text(alice, bob, "from another process"));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(text_of(deliver(bob, alice, wire)), "durable");
  EXPECT_EQ(text_of(deliver(bob, alice, *second)), "from another process");
}

TEST_F(V2Pair, SafetyNumbersMatchAndVerificationNeedsTheRightOne) {
  auto at_alice = alice.v2->safety_number(bob.id);
  auto at_bob = bob.v2->safety_number(alice.id);
  ASSERT_TRUE(at_alice.ok() && at_bob.ok());
  EXPECT_EQ(at_alice->digits(), at_bob->digits());
  EXPECT_EQ(at_alice->digits().size(), 60u);

  // A wrong number and junk are refused and change nothing.
  std::string wrong = at_bob->digits();
  wrong[17] = wrong[17] == '0' ? '1' : '0';
  auto refused = alice.v2->mark_verified(bob.id, wrong);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(refused.error().message(), kSafetyNumbersDoNotMatch);
  EXPECT_TRUE(alice.friend_record(bob.id).verified_ik.empty());
  for (const std::string& junk : {std::string(""), std::string("12345"), std::string(61, '1'),
                                  std::string("SECCHATS-VERIFY:1:123")}) {
    auto r = alice.v2->mark_verified(bob.id, junk);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().message(), kSafetyNumbersDoNotMatch);
  }
  EXPECT_TRUE(alice.friend_record(bob.id).verified_ik.empty());

  // Typed with any grouping, or scanned.
  std::string typed = "  " + at_bob->formatted() + "\n";
  typed[7] = '-';  // the first group separator
  ASSERT_TRUE(alice.v2->mark_verified(bob.id, typed).ok());
  auto f = alice.friend_record(bob.id);
  ASSERT_EQ(f.verified_ik.size(), 32u);
  EXPECT_TRUE(std::equal(f.verified_ik.begin(), f.verified_ik.end(), f.peer_bundle.begin()));
  ASSERT_TRUE(bob.v2->mark_verified(alice.id, at_alice->qr_payload()).ok());
  EXPECT_FALSE(bob.friend_record(alice.id).verified_ik.empty());

  // No identity key yet: no number.
  Party carol(dir, "7777777777777777", "Carol");
  befriend(alice, carol);
  auto none = alice.v2->safety_number(carol.id);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code(), ErrorCode::kNotFound);
}

// A changed identity key can only arrive before the friendship is v2 (after that v1 bundles
// are refused): here the friend's first bundle was verified, then a different one arrives.
class KeyChange : public ::testing::TestWithParam<bool> {};

TEST_P(KeyChange, WarnsAndBlocksSendingToAVerifiedFriendUntilVerifiedAgain) {
  const bool was_verified = GetParam();
  TempDir dir;
  Party alice(dir, kSmall, "Alice");
  Party bob(dir, kLarge, "Bob");
  const SecretString key = crypto::v1::generate_group_key();
  befriend(alice, bob, key);
  auto opened = deliver(alice, bob, pending(bob, alice).at(0));
  ASSERT_FALSE(opened.warning) << *opened.warning;
  // What a phone shows: computed from the keys each side really has.
  auto shown_by = [&](const Party& p) {
    auto n =
        v2::SafetyNumber::compute(p.id, p.v2->own_bundle().ik, alice.id, alice.v2->own_bundle().ik);
    EXPECT_TRUE(n.ok());
    return n.ok() ? n->digits() : std::string();
  };
  if (was_verified) {
    ASSERT_TRUE(alice.v2->mark_verified(bob.id, shown_by(bob)).ok());
  }
  const auto old_number = alice.v2->safety_number(bob.id);

  // Another key pair under Bob's id and channel (a relay that broke v1, say).
  Party fake_bob(dir, kLarge, "NotBob");
  ASSERT_TRUE(fake_bob.store->upsert_friend(marked_friend(alice.id, key)).ok());
  opened = deliver(alice, fake_bob, bundle_update_wire(fake_bob, alice, fake_bob.v2->own_bundle()));
  EXPECT_FALSE(opened.message);
  ASSERT_TRUE(opened.warning);
  EXPECT_NE(opened.warning->find("SECURITY"), std::string::npos) << *opened.warning;
  EXPECT_NE(opened.warning->find(bob.id), std::string::npos);
  EXPECT_EQ(opened.warning->find("blocked") != std::string::npos, was_verified);
  auto f = alice.friend_record(bob.id);
  EXPECT_TRUE(f.identity_changed);
  EXPECT_TRUE(f.verified_ik.empty());
  EXPECT_EQ(f.send_blocked, was_verified);
  auto new_number = alice.v2->safety_number(bob.id);
  ASSERT_TRUE(new_number.ok() && old_number.ok());
  EXPECT_NE(new_number->digits(), old_number->digits());

  auto sent = alice.v2->seal(bob.id, text(alice, bob, "are you there?"));
  if (was_verified) {
    ASSERT_FALSE(sent.ok());
    EXPECT_EQ(sent.error().code(), ErrorCode::kInsecure);
    // The old number does not unblock it.
    EXPECT_FALSE(alice.v2->mark_verified(bob.id, old_number->digits()).ok());
    EXPECT_TRUE(alice.friend_record(bob.id).send_blocked);
  } else {
    EXPECT_TRUE(sent.ok());
  }
  // Comparing the new number (the one the other phone shows) clears everything.
  ASSERT_TRUE(
      alice.v2->mark_verified(bob.id, std::string(v2::kSafetyQrPrefix) + shown_by(fake_bob)).ok());
  f = alice.friend_record(bob.id);
  EXPECT_FALSE(f.identity_changed);
  EXPECT_FALSE(f.send_blocked);
  EXPECT_FALSE(f.verified_ik.empty());
  EXPECT_TRUE(alice.v2->seal(bob.id, text(alice, bob, "verified again")).ok());
}

INSTANTIATE_TEST_SUITE_P(Verified, KeyChange, ::testing::Values(true));
INSTANTIATE_TEST_SUITE_P(Unverified, KeyChange, ::testing::Values(false));

// The initiator holds the friend's bundle but the relay never took its own (the post
// failed): the friend has no session with it, so it must keep sealing v1, not v2 that
// would be lost (review finding). Once the bundle is through, v2 follows.
TEST(PairwiseV2, NoV2IsSealedBeforeOurOwnBundleReachedTheRelay) {
  TempDir dir;
  Party small(dir, kSmall, "Small"), large(dir, kLarge, "Large");
  befriend(small, large);
  auto large_bundle = large.v2->seal_bundle_update(small.id, large.me);
  ASSERT_TRUE(large_bundle.ok() && *large_bundle);
  ASSERT_TRUE(large.v2->mark_update_sent(small.id).ok());
  deliver(small, large, **large_bundle);  // the initiator now holds a session
  // Our bundle's post "failed": it was sealed but never marked sent.
  auto small_bundle = small.v2->seal_bundle_update(large.id, small.me);
  ASSERT_TRUE(small_bundle.ok() && *small_bundle);
  auto control = small.v2->seal_pending_control(large.id, small.me);
  ASSERT_TRUE(control.ok());
  EXPECT_FALSE(*control) << "a key confirmation before our bundle got through";
  auto wire = small.v2->seal(large.id, make_update(small.me, large.id, 1, 1, std::nullopt));
  ASSERT_TRUE(wire.ok());
  EXPECT_FALSE(crypto::v2::is_v2_wire(*wire));
  // The bundle goes through; now the friend can open v2 and we send it.
  ASSERT_TRUE(small.v2->mark_update_sent(large.id).ok());
  deliver(large, small, **small_bundle);
  EXPECT_GT(settle(small, large), 0);
  EXPECT_TRUE(small.friend_record(large.id).v2_active);
  EXPECT_TRUE(large.friend_record(small.id).v2_active);
}

TEST(PairwiseV2, BadRepeatedAndBorrowedBundles) {
  TempDir dir;
  Party alice(dir, kSmall, "Alice");
  Party bob(dir, kLarge, "Bob");
  Party carol(dir, "5555555555555555", "Carol");
  befriend(alice, bob);
  befriend(alice, carol);

  // A signature that does not verify.
  v2::Bundle broken = bob.v2->own_bundle();
  broken.spk_sig[3] ^= 1;
  auto r = deliver(alice, bob, bundle_update_wire(bob, alice, broken));
  ASSERT_TRUE(r.warning);
  EXPECT_EQ(*r.warning, "refused an invalid v2 key bundle from " + bob.id);
  EXPECT_TRUE(alice.friend_record(bob.id).peer_bundle.empty());
  // Not a bundle at all.
  r = deliver(alice, bob,
              v1_wire(bob, alice,
                      make_update(bob.me, alice.id, 1, 1, std::string("{\"v\":2,\"ik\":\"\"}"))));
  ASSERT_TRUE(r.warning);
  EXPECT_TRUE(alice.friend_record(bob.id).ratchet_state.empty());

  // The real one, twice: the repeat changes nothing.
  const std::string real = bundle_update_wire(bob, alice, bob.v2->own_bundle());
  r = deliver(alice, bob, real);
  EXPECT_FALSE(r.warning);
  const auto state = state_of(alice, bob.id);
  r = deliver(alice, bob, bundle_update_wire(bob, alice, bob.v2->own_bundle()));
  EXPECT_FALSE(r.warning);
  EXPECT_EQ(state_of(alice, bob.id), state);

  // Carol presenting Bob's bundle, or Alice's own: an unknown key share, refused.
  r = deliver(alice, carol, bundle_update_wire(carol, alice, bob.v2->own_bundle()));
  ASSERT_TRUE(r.warning);
  EXPECT_NE(r.warning->find("another friend"), std::string::npos) << *r.warning;
  r = deliver(alice, carol, bundle_update_wire(carol, alice, alice.v2->own_bundle()));
  ASSERT_TRUE(r.warning);
  EXPECT_NE(r.warning->find("your own identity key"), std::string::npos) << *r.warning;
  EXPECT_TRUE(alice.friend_record(carol.id).peer_bundle.empty());
}

TEST(PairwiseV2, BefriendingAgainKeepsTheV2State) {
  TempDir dir;
  Party alice(dir, kSmall, "Alice");
  Party bob(dir, kLarge, "Bob");
  befriend(alice, bob);
  settle(alice, bob);
  auto number = bob.v2->safety_number(alice.id);
  ASSERT_TRUE(number.ok());
  ASSERT_TRUE(alice.v2->mark_verified(bob.id, number->digits()).ok());
  const auto state = state_of(alice, bob.id);
  // A new handshake (Bob re-sent a friend request, Alice accepted): a new channel key only.
  ASSERT_TRUE(
      alice.store->upsert_friend(marked_friend(bob.id, crypto::v1::generate_group_key(), 2, "Bob"))
          .ok());
  auto f = alice.friend_record(bob.id);
  EXPECT_TRUE(f.v2_active);
  EXPECT_TRUE(f.update_sent);
  EXPECT_FALSE(f.verified_ik.empty());
  EXPECT_EQ(state_of(alice, bob.id), state);
  // Nothing is re-offered, and v2 goes on.
  EXPECT_TRUE(pending(alice, bob).empty());
  EXPECT_EQ(text_of(deliver(bob, alice, seal(alice, bob, "same session"))), "same session");
}

// ---------------------------------------------------------------------------------------------
// How our clients recognise each other (docs/protocol-v2.md §2.1)

boost::json::value crypto_vectors() {
  std::ifstream in(std::string(SECCHATS_VECTORS_DIR) + "/reference-crypto.json");
  EXPECT_TRUE(in.good()) << "vectors not found at " << SECCHATS_VECTORS_DIR;
  std::stringstream ss;
  ss << in.rdbuf();
  return boost::json::parse(ss.str());
}

TEST(V2Marker, MarksOurValuesAndNoReferenceOne) {
  const auto v = crypto_vectors();
  for (const auto& e : v.at("ecdh").as_array()) {
    for (const char* field : {"initiator_public", "responder_public"}) {
      const std::string reference(e.at(field).as_string());
      EXPECT_FALSE(has_v2_marker(reference)) << field;
      const std::string marked = mark_v2_capable(reference);
      EXPECT_NE(marked, reference);
      EXPECT_TRUE(has_v2_marker(marked));
      // One extra leading zero on x, nothing else changed.
      const std::string text = *base64_decode_to_string(marked);
      const std::string plain = *base64_decode_to_string(reference);
      const auto colon = plain.find(':');
      EXPECT_EQ(text, plain.substr(0, colon + 1) + "0" + plain.substr(colon + 1));
    }
  }
  for (const char* field : {"initiator_public", "responder_public"}) {
    const std::string dh(v.at("classic_dh_512").at(field).as_string());
    EXPECT_FALSE(has_v2_marker(dh));
    EXPECT_EQ(mark_v2_capable(dh), dh);  // classic DH is left as it is (and refused)
    auto inspected = crypto::v1::inspect_public_crypto_data(mark_v2_capable(dh));
    ASSERT_FALSE(inspected.ok());
    EXPECT_EQ(inspected.error().code(), ErrorCode::kInsecure);
  }
  EXPECT_FALSE(has_v2_marker("not base64!"));
  EXPECT_FALSE(has_v2_marker(base64_encode(std::string("secp521r1:0:1"))));
}

TEST(V2Marker, AMarkedValueIsTheSamePointAndTheSameChannelKey) {
  for (auto curve :
       {crypto::v1::Curve::kP256, crypto::v1::Curve::kP384, crypto::v1::Curve::kP521}) {
    auto a = crypto::v1::EcdhSession::generate(curve);
    auto b = crypto::v1::EcdhSession::generate(curve);
    ASSERT_TRUE(a.ok() && b.ok());
    const std::string marked = mark_v2_capable(a->public_crypto_data());
    auto inspected = crypto::v1::inspect_public_crypto_data(marked);
    ASSERT_TRUE(inspected.ok()) << inspected.error().message();
    EXPECT_EQ(*inspected, curve);
    auto from_marked = b->derive_channel_key(marked);
    auto from_plain = b->derive_channel_key(a->public_crypto_data());
    auto other_side = a->derive_channel_key(mark_v2_capable(b->public_crypto_data()));
    ASSERT_TRUE(from_marked.ok() && from_plain.ok() && other_side.ok());
    EXPECT_EQ(from_marked->str(), from_plain->str());
    EXPECT_EQ(other_side->str(), from_plain->str());
  }
  // The point is still validated: a marked value off the curve is refused.
  auto a = crypto::v1::EcdhSession::generate(crypto::v1::Curve::kP256);
  ASSERT_TRUE(a.ok());
  std::string text = *base64_decode_to_string(mark_v2_capable(a->public_crypto_data()));
  text.back() = text.back() == '1' ? '2' : '1';
  EXPECT_FALSE(crypto::v1::inspect_public_crypto_data(base64_encode(text)).ok());
}

TEST(V2Marker, NoBundleGoesToAFriendThatDidNotShowItSpeaksV2) {
  TempDir dir;
  Party ours(dir, kSmall, "Ours"), reference(dir, kLarge, "Reference");
  const SecretString key = crypto::v1::generate_group_key();
  // A reference client: no marker in its key exchange.
  ASSERT_TRUE(ours.store->upsert_friend({reference.id, "", key, "v1", 1}).ok());
  auto update = ours.v2->seal_bundle_update(reference.id, ours.me);
  ASSERT_TRUE(update.ok());
  EXPECT_FALSE(update->has_value()) << "a v1 UPDATE would show as an empty unread chat";
  EXPECT_TRUE(pending(ours, reference).empty());

  // An older build of ours (no marker) sends its bundle: then ours goes, and v2 follows.
  ASSERT_TRUE(reference.store->upsert_friend(marked_friend(ours.id, key)).ok());
  auto theirs = reference.v2->seal_bundle_update(ours.id, reference.me);
  ASSERT_TRUE(theirs.ok() && theirs->has_value());
  ASSERT_TRUE(reference.v2->mark_update_sent(ours.id).ok());
  auto opened = deliver(ours, reference, **theirs);
  EXPECT_FALSE(opened.warning.has_value());
  auto now = ours.v2->seal_bundle_update(reference.id, ours.me);
  ASSERT_TRUE(now.ok());
  EXPECT_TRUE(now->has_value());
}

}  // namespace
}  // namespace secchats::core
