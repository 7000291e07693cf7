// Protocol v2 against a hostile relay: a proxy between the CLI users and the real relay that
// swaps keys, redirects ciphertexts to another chat and reorders deliveries.
#include <algorithm>
#include <set>

#include "support/key_swap_attacker.hpp"
#include "v2_fixture.hpp"

namespace secchats::testing {
namespace {

std::string safety_number_seen_by(const CliUser& user, const std::string& friend_id) {
  auto r = user.run({"verify", friend_id});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return str(only_json(r), "safetyNumber");
}

// The attack protocol v1 cannot see: the relay answers each side's key exchange itself and
// swaps the v2 identity keys in the upgrade messages. Everything keeps working; only the
// safety numbers, compared out of band, give it away.
TEST_F(CliV2, KeySwappingRelayIsInvisibleUntilSafetyNumbersAreCompared) {
  std::string alice_id, bob_id;
  CliUser alice = make_cli("Alice", &alice_id);
  CliUser bob = make_cli("Bob", &bob_id);
  KeySwapAttacker attacker(*proxy_, alice_id, bob_id);
  befriend_v2(alice, alice_id, bob, bob_id);
  EXPECT_EQ(str(friend_entry(alice, bob_id), "protocol"), "v2");
  EXPECT_EQ(str(friend_entry(bob, alice_id), "protocol"), "v2");

  ok(alice, {"send", bob_id, "meet at noon"});
  auto got = events_of(ok(bob, {"sync"}), "message");
  ASSERT_EQ(got.size(), 1u) << dump(got);
  EXPECT_EQ(str(got[0], "text"), "meet at noon");
  ok(bob, {"send", alice_id, "see you"});
  got = events_of(ok(alice, {"sync"}), "message");
  ASSERT_EQ(got.size(), 1u) << dump(got);
  EXPECT_EQ(str(got[0], "text"), "see you");
  // The attack is real: the relay read both texts and re-encrypted every message.
  const auto read = attacker.texts_read();
  EXPECT_NE(std::find(read.begin(), read.end(), "meet at noon"), read.end());
  EXPECT_NE(std::find(read.begin(), read.end(), "see you"), read.end());
  EXPECT_EQ(attacker.failures(), 0) << attacker.failure_reasons().front();

  // Compared in person, the numbers differ, and neither side can mark the other verified.
  const std::string alice_sees = safety_number_seen_by(alice, bob_id);
  const std::string bob_sees = safety_number_seen_by(bob, alice_id);
  ASSERT_FALSE(alice_sees.empty());
  EXPECT_NE(alice_sees, bob_sees);
  for (const auto& [user, other, number] :
       {std::tuple{&alice, bob_id, bob_sees}, std::tuple{&bob, alice_id, alice_sees}}) {
    auto r = user->run({"verify", other, "--confirm", number});
    EXPECT_EQ(r.exit_code, 5) << r.out << r.err;
    EXPECT_FALSE(flag(friend_entry(*user, other), "verified"));
  }
}

// Without the attacker the same comparison succeeds (the control for the test above).
TEST_F(CliV2, AnHonestRelayGivesBothSidesTheSameSafetyNumber) {
  std::string alice_id, bob_id;
  CliUser alice = make_cli("Alice", &alice_id);
  CliUser bob = make_cli("Bob", &bob_id);
  befriend_v2(alice, alice_id, bob, bob_id);
  const std::string bob_sees = safety_number_seen_by(bob, alice_id);
  EXPECT_EQ(safety_number_seen_by(alice, bob_id), bob_sees);
  ok(alice, {"verify", bob_id, "--confirm", bob_sees});
  EXPECT_TRUE(flag(friend_entry(alice, bob_id), "verified"));
}

// A ciphertext Alice sealed for Bob, posted by the relay into Alice's chat with Carol: the
// ids and identity keys bound into every message make Carol refuse it.
TEST_F(CliV2, ACiphertextMovedToAnotherChatIsRejected) {
  std::string alice_id, bob_id, carol_id;
  CliUser alice = make_cli("Alice", &alice_id);
  CliUser bob = make_cli("Bob", &bob_id);
  CliUser carol = make_cli("Carol", &carol_id);
  befriend_v2(alice, alice_id, bob, bob_id);
  befriend_v2(alice, alice_id, carol, carol_id);

  ok(alice, {"send", bob_id, "for Bob only"});
  const Exchange sent = proxy_->exchanges("/postmsg").back();
  auto body = boost::json::parse(sent.forwarded_body).as_object();
  ASSERT_TRUE(str(body, "encContent").starts_with("sc2:"));
  body["toId"] = carol_id;
  ASSERT_EQ(proxy_->replay("/postmsg", boost::json::serialize(body)).status, 200);

  auto events = ok(carol, {"sync"});
  ASSERT_EQ(events.size(), 1u) << dump(events);
  EXPECT_EQ(str(events[0], "event"), "warning");
  EXPECT_EQ(str(events[0], "text"), "a message from " + alice_id + " could not be decrypted");
  EXPECT_TRUE(ok(carol, {"history", alice_id}).empty());
  // Bob still gets it, and Carol's channel with Alice still works.
  auto got = events_of(ok(bob, {"sync"}), "message");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(str(got[0], "text"), "for Bob only");
  ok(alice, {"send", carol_id, "for Carol"});
  got = events_of(ok(carol, {"sync"}), "message");
  ASSERT_EQ(got.size(), 1u) << dump(got);
  EXPECT_EQ(str(got[0], "text"), "for Carol");
}

// The relay hands Bob Alice's messages newest first. The ratchet's skipped keys open each
// one exactly once; nothing is lost, duplicated or refused.
TEST_F(CliV2, ReorderedDeliveryIsAcceptedExactlyOnceEach) {
  std::string alice_id, bob_id;
  CliUser alice = make_cli("Alice", &alice_id);
  CliUser bob = make_cli("Bob", &bob_id);
  befriend_v2(alice, alice_id, bob, bob_id);
  for (const char* text : {"one", "two", "three", "four"})
    ok(alice, {"send", bob_id, text});

  proxy_->set_response_rewriter([](std::string_view path, std::string_view,
                                   std::string_view response) -> std::optional<std::string> {
    if (path != "/receive") return std::nullopt;
    auto v = boost::json::parse(response).as_object();
    auto& messages = v["messages"].as_array();
    std::reverse(messages.begin(), messages.end());
    return boost::json::serialize(v);
  });
  auto events = ok(bob, {"sync"});
  proxy_->reset_hooks();
  auto got = events_of(events, "message");
  ASSERT_EQ(got.size(), 4u) << dump(events);
  EXPECT_EQ(events.size(), 4u) << dump(events);  // no warnings
  std::set<std::string> texts;
  for (const auto& m : got)
    texts.insert(str(m, "text"));
  EXPECT_EQ(texts, (std::set<std::string>{"one", "two", "three", "four"}));
  EXPECT_EQ(str(got.front(), "text"), "four");  // really delivered in reverse
  EXPECT_EQ(ok(bob, {"history", alice_id}).size(), 4u);
}

}  // namespace
}  // namespace secchats::testing
