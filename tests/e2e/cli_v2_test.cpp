// Protocol v2 end to end: the real CLI, the real relay, and a recording proxy in between that
// shows what the relay actually stores and forwards.
#include <algorithm>
#include <filesystem>
#include <fstream>

#include "secchats/common/encoding.hpp"
#include "secchats/media/image.hpp"

#include "support/v1_peer.hpp"
#include "v2_fixture.hpp"

namespace secchats::testing {
namespace {

namespace fs = std::filesystem;

TEST_F(CliV2, FriendsUpgradeToV2AndTextTravelsAsSc2BothWays) {
  std::string alice_id, bob_id;
  CliUser alice = make_cli("Alice", &alice_id);
  CliUser bob = make_cli("Bob", &bob_id);
  const int syncs = befriend_v2(alice, alice_id, bob, bob_id);
  EXPECT_LE(syncs, 4);
  for (const auto& [u, other] : {std::pair{&alice, bob_id}, std::pair{&bob, alice_id}}) {
    auto f = friend_entry(*u, other);
    EXPECT_EQ(str(f, "protocol"), "v2") << boost::json::serialize(f);
    EXPECT_FALSE(flag(f, "verified"));
    EXPECT_FALSE(flag(f, "identityChanged"));
    EXPECT_FALSE(flag(f, "sendingBlocked"));
  }
  // The text form names protocol and verification state.
  auto text = alice.run({"friends"}, /*json=*/false);
  EXPECT_NE(text.out.find("v2  not verified"), std::string::npos) << text.out;

  const std::size_t before = posted(*proxy_).size();
  ok(alice, {"send", bob_id, "hello over v2"});
  auto got = events_of(ok(bob, {"sync"}), "message");
  ASSERT_EQ(got.size(), 1u) << dump(got);
  EXPECT_EQ(str(got[0], "text"), "hello over v2");
  EXPECT_EQ(str(got[0], "fromName"), "Alice");
  ok(bob, {"send", "Alice", "and back"});
  got = events_of(ok(alice, {"sync"}), "message");
  ASSERT_EQ(got.size(), 1u) << dump(got);
  EXPECT_EQ(str(got[0], "text"), "and back");

  // What the relay stored: each side's first /postmsg was its bundle (v1); everything after
  // it — the key confirmation, its answer and both texts — is v2.
  const auto all = posted(*proxy_);
  ASSERT_EQ(all.size(), before + 2);
  EXPECT_TRUE(all[before].enc_content.starts_with("sc2:")) << all[before].enc_content;
  EXPECT_TRUE(all[before + 1].enc_content.starts_with("sc2:"));
  for (const std::string& id : {alice_id, bob_id}) {
    bool first = true;
    for (const auto& p : all) {
      if (p.from != id) continue;
      EXPECT_EQ(p.enc_content.starts_with("sc2:"), !first) << p.enc_content.substr(0, 12);
      first = false;
    }
  }
  // The upgrade traffic is not in anyone's history.
  auto history = ok(bob, {"history", "Alice"});
  ASSERT_EQ(history.size(), 2u) << dump(history);
  EXPECT_EQ(str(history[0], "text"), "hello over v2");
  EXPECT_EQ(str(history[1], "text"), "and back");
}

TEST_F(CliV2, SafetyNumbersMatchAndOnlyTheRightOneVerifies) {
  std::string alice_id, bob_id;
  CliUser alice = make_cli("Alice", &alice_id);
  CliUser bob = make_cli("Bob", &bob_id);
  befriend_v2(alice, alice_id, bob, bob_id);

  const fs::path alice_qr = dir_->path() / "alice-verify.png";
  auto at_alice = only_json(alice.run({"verify", "Bob", "--qr-out", alice_qr.string()}));
  auto at_bob = only_json(bob.run({"verify", alice_id}));
  const std::string digits = str(at_alice, "digits");
  ASSERT_EQ(digits.size(), 60u);
  EXPECT_EQ(str(at_bob, "digits"), digits);
  EXPECT_EQ(str(at_alice, "safetyNumber").size(), 71u);  // 12 groups of 5, 11 spaces
  EXPECT_EQ(str(at_alice, "qrPayload"), "SECCHATS-VERIFY:1:" + digits);
  EXPECT_FALSE(flag(at_alice, "verified"));
  ASSERT_TRUE(fs::exists(alice_qr));
  auto shown = alice.run({"verify", "Bob"}, /*json=*/false);
  EXPECT_EQ(shown.exit_code, 0);
  EXPECT_NE(shown.out.find(str(at_alice, "safetyNumber").substr(0, 35)), std::string::npos)
      << shown.out;

  // A wrong number is refused (exit 5, one line) and changes nothing.
  std::string wrong = digits;
  wrong[30] = wrong[30] == '9' ? '8' : '9';
  auto refused = alice.run({"verify", "Bob", "--confirm", wrong});
  EXPECT_EQ(refused.exit_code, 5) << refused.err;
  EXPECT_TRUE(refused.out.empty());
  EXPECT_EQ(std::count(refused.err.begin(), refused.err.end(), '\n'), 1) << refused.err;
  EXPECT_NE(refused.err.find("do not match"), std::string::npos) << refused.err;
  EXPECT_FALSE(flag(friend_entry(alice, bob_id), "verified"));
  // Something that is not a safety number at all is a usage error.
  EXPECT_EQ(alice.run({"verify", "Bob", "--confirm", "12345"}).exit_code, 2);

  // The number Bob's screen shows, typed with its spaces: verified.
  auto confirmed =
      only_json(alice.run({"verify", "Bob", "--confirm", str(at_bob, "safetyNumber")}));
  EXPECT_EQ(str(confirmed, "event"), "verified");
  EXPECT_TRUE(flag(friend_entry(alice, bob_id), "verified"));
  EXPECT_TRUE(flag(only_json(alice.run({"verify", "Bob"})), "verified"));
  auto text = alice.run({"friends"}, /*json=*/false);
  EXPECT_NE(text.out.find("v2  verified"), std::string::npos) << text.out;
  // Bob scans Alice's QR code.
  EXPECT_FALSE(flag(friend_entry(bob, alice_id), "verified"));
  auto scanned = only_json(bob.run({"verify", "Alice", "--scan", alice_qr.string()}));
  EXPECT_EQ(str(scanned, "event"), "verified");
  EXPECT_TRUE(flag(friend_entry(bob, alice_id), "verified"));
  // Verified friends chat as before.
  ok(bob, {"send", "Alice", "verified both ways"});
  auto got = events_of(ok(alice, {"sync"}), "message");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(str(got[0], "text"), "verified both ways");
}

TEST_F(CliV2, AV1MessageAfterV2IsRefused) {
  std::string alice_id, bob_id;
  CliUser alice = make_cli("Alice", &alice_id);
  CliUser bob = make_cli("Bob", &bob_id);
  befriend_v2(alice, alice_id, bob, bob_id);

  // Alice's first /postmsg was v1 (her bundle, sealed with the v1 channel key): the relay, or
  // whoever learned that key, posts it again now that the friendship runs v2.
  const auto exchanges = proxy_->exchanges("/postmsg");
  auto v1_from_alice = std::find_if(exchanges.begin(), exchanges.end(), [&](const Exchange& x) {
    auto v = boost::json::parse(x.forwarded_body).as_object();
    return str(v, "fromUserId") == alice_id && !str(v, "encContent").starts_with("sc2:");
  });
  ASSERT_NE(v1_from_alice, exchanges.end());
  ASSERT_EQ(proxy_->replay("/postmsg", v1_from_alice->forwarded_body).status, 200);
  auto events = ok(bob, {"sync"});
  ASSERT_EQ(events.size(), 1u) << dump(events);
  EXPECT_EQ(str(events[0], "event"), "warning");
  EXPECT_NE(str(events[0], "text").find("downgrade"), std::string::npos) << dump(events);
  EXPECT_EQ(str(friend_entry(bob, alice_id), "protocol"), "v2");

  // A replayed v2 message is a copy of one already accepted (what a sender's outbox posts
  // after losing the relay's answer): dropped silently, shown and stored once.
  ok(alice, {"send", bob_id, "only once"});
  EXPECT_EQ(events_of(ok(bob, {"sync"}), "message").size(), 1u);
  const auto last = proxy_->exchanges("/postmsg").back();
  ASSERT_EQ(proxy_->replay(last).status, 200);
  events = ok(bob, {"sync"});
  EXPECT_TRUE(events.empty()) << dump(events);
  // And the channel still works.
  ok(alice, {"send", bob_id, "still fine"});
  auto got = events_of(ok(bob, {"sync"}), "message");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(str(got[0], "text"), "still fine");
  EXPECT_EQ(ok(bob, {"history", "Alice"}).size(), 2u);
}

TEST_F(CliV2, LostUpgradeTrafficIsSentAgainAtTheNextSync) {
  std::string alice_id, bob_id;
  CliUser alice = make_cli("Alice", &alice_id);
  CliUser bob = make_cli("Bob", &bob_id);
  ok(alice, {"add", bob_id});
  ok(bob, {"sync"});
  // Every /postmsg is lost while Bob accepts (his bundle goes out right after his answer)
  // and while Alice first syncs (her bundle and, as the case may be, the key confirmation).
  proxy_->set_drop([](std::string_view path, std::string_view) { return path == "/postmsg"; });
  ok(bob, {"accept", alice_id});
  auto events = ok(alice, {"sync"});
  EXPECT_EQ(events_of(events, "friendAccepted").size(), 1u) << dump(events);
  const auto lost = events_of(events, "warning");
  ASSERT_EQ(lost.size(), 1u) << dump(events);
  EXPECT_NE(str(lost[0], "text").find("tried again at the next sync"), std::string::npos);
  proxy_->reset_hooks();
  EXPECT_EQ(str(friend_entry(alice, bob_id), "protocol"), "v1");

  // Nothing was lost for good: both sides resend what they owe and end up on v2.
  for (int round = 0; round < 4; ++round) {
    for (const auto* u : {&bob, &alice}) {
      auto e = ok(*u, {"sync"});
      EXPECT_TRUE(events_of(e, "message").empty()) << dump(e);
    }
  }
  EXPECT_EQ(str(friend_entry(alice, bob_id), "protocol"), "v2");
  EXPECT_EQ(str(friend_entry(bob, alice_id), "protocol"), "v2");
  ok(alice, {"send", bob_id, "made it"});
  auto got = events_of(ok(bob, {"sync"}), "message");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(str(got[0], "text"), "made it");
  EXPECT_TRUE(posted(*proxy_).back().enc_content.starts_with("sc2:"));
}

// The 2×2 PNG of vectors/reference-ui-forms.json.
constexpr std::string_view kPngBase64 =
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGP4z8AARAwQCgAf7gP9i18U1AAAAABJRU5E"
    "rkJggg==";

// What a reference-UI user sees of our client (COMPAT.md §8): nothing but real messages. The
// stand-in records every UPDATE (or anything else it cannot show) as an anomaly.
void expect_nothing_shown(V1Peer& ref) {
  auto polled = ref.poll();
  EXPECT_TRUE(polled.messages.empty()) << polled.raw_body;
  for (const auto& a : polled.anomalies) {
    ADD_FAILURE() << "the reference client got " << to_string(a.kind) << " " << a.detail;
  }
}

TEST_F(CliV2, AReferenceClientWeAddSeesNoUpgradeAndGetsUiForms) {
  std::string carol_id;
  CliUser carol = make_cli("Carol", &carol_id);
  V1Peer ref(proxy_->port(), "Ref");
  ref.register_account();
  ok(carol, {"add", ref.user_id()});
  auto answered = ref.poll();  // answers
  ASSERT_EQ(answered.accepted.size(), 1u);
  EXPECT_TRUE(answered.anomalies.empty());
  // Before: Carol offered v2 in a v1 UPDATE, an empty unread chat in the reference UI.
  for (int round = 0; round < 3; ++round) {
    auto events = ok(carol, {"sync"});
    EXPECT_TRUE(events_of(events, "warning").empty()) << dump(events);
    expect_nothing_shown(ref);
  }
  EXPECT_TRUE(ref.anomalies().empty());

  ok(carol, {"send", ref.user_id(), "hello v1"});
  auto polled = ref.poll();
  ASSERT_EQ(polled.messages.size(), 1u) << polled.raw_body;
  EXPECT_EQ(polled.messages[0].text, "hello v1");
  const std::int64_t from_ref = ref.send_text(carol_id, "hi from v1");
  auto got = events_of(ok(carol, {"sync"}), "message");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(str(got[0], "text"), "hi from v1");
  EXPECT_EQ(str(friend_entry(carol, ref.user_id()), "protocol"), "v1");
  // No v2 identity key, so no safety number.
  auto r = carol.run({"verify", ref.user_id()});
  EXPECT_EQ(r.exit_code, 6) << r.err;

  // Images and reactions arrive in the forms the reference UI shows (COMPAT.md §5).
  const auto png = *base64_decode(kPngBase64);
  const std::string file = (dir_->path() / "tiny.png").string();
  {
    std::ofstream out(file, std::ios::binary);
    out.write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
  }
  ok(carol, {"send-image", ref.user_id(), file});
  ok(carol, {"react", ref.user_id(), std::to_string(from_ref), "heart"});
  ok(carol, {"react", ref.user_id(), std::to_string(from_ref), "none"});
  polled = ref.poll();
  EXPECT_TRUE(polled.anomalies.empty()) << polled.raw_body;
  ASSERT_EQ(polled.messages.size(), 3u) << polled.raw_body;
  EXPECT_EQ(polled.messages[0].type, "IMG");
  // The photo as the library prepares it (re-encoded from pixels, still a PNG).
  auto prepared = media::prepare_v1_photo(png);
  ASSERT_TRUE(prepared.ok()) << prepared.error().message();
  EXPECT_EQ(prepared->media_type, "image/png");
  EXPECT_EQ(polled.messages[0].image, prepared->bytes);
  EXPECT_EQ(polled.messages[1].type, "EMOJI");
  EXPECT_EQ(polled.messages[1].emoji, "EMO_HEART");
  EXPECT_EQ(polled.messages[1].message.old_emoji, "EMO_SMILE_PLUS");
  EXPECT_EQ(polled.messages[1].message.reply_to_message_id, from_ref);
  EXPECT_EQ(polled.messages[2].emoji, "EMO_SMILE_PLUS");
  EXPECT_EQ(polled.messages[2].message.old_emoji, "EMO_HEART");
  // Nothing more is offered at later syncs.
  ok(carol, {"sync"});
  expect_nothing_shown(ref);
}

TEST_F(CliV2, AReferenceClientThatAddsUsSeesNoUpgrade) {
  std::string carol_id;
  CliUser carol = make_cli("Carol", &carol_id);
  V1Peer ref(proxy_->port(), "Ref");
  ref.register_account();
  ASSERT_EQ(ref.add_friend(carol_id), 200);
  auto requests = events_of(ok(carol, {"sync"}), "friendRequest");
  ASSERT_EQ(requests.size(), 1u);
  ok(carol, {"accept", ref.user_id()});
  auto completed = ref.poll();
  ASSERT_EQ(completed.completed.size(), 1u) << completed.raw_body;
  EXPECT_TRUE(completed.messages.empty()) << completed.raw_body;
  EXPECT_TRUE(completed.anomalies.empty()) << completed.raw_body;
  for (int round = 0; round < 3; ++round) {
    auto events = ok(carol, {"sync"});
    EXPECT_TRUE(events_of(events, "warning").empty()) << dump(events);
    expect_nothing_shown(ref);
  }
  EXPECT_TRUE(ref.anomalies().empty());
  // The channel works both ways on v1.
  ref.send_text(carol_id, "hi");
  auto got = events_of(ok(carol, {"sync"}), "message");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(str(got[0], "text"), "hi");
  ok(carol, {"send", ref.user_id(), "hello"});
  auto polled = ref.poll();
  ASSERT_EQ(polled.messages.size(), 1u) << polled.raw_body;
  EXPECT_EQ(polled.messages[0].text, "hello");
  EXPECT_EQ(str(friend_entry(carol, ref.user_id()), "protocol"), "v1");
}

TEST_F(CliV2, OurKeyExchangeCarriesTheV2MarkerTheReferenceClientIgnores) {
  std::string alice_id, bob_id;
  CliUser alice = make_cli("Alice", &alice_id);
  CliUser bob = make_cli("Bob", &bob_id);
  befriend_v2(alice, alice_id, bob, bob_id);
  // What the relay carried: x written with one leading zero, in the request and the answer.
  for (const char* path : {"/connect", "/connect2"}) {
    auto sent = proxy_->exchanges(path);
    ASSERT_FALSE(sent.empty()) << path;
    auto v = boost::json::parse(sent.back().forwarded_body).as_object();
    const std::string text = *base64_decode_to_string(str(v, "cryptoData"));
    EXPECT_TRUE(text.starts_with("secp521r1:0")) << path;
  }
  EXPECT_EQ(str(friend_entry(alice, bob_id), "protocol"), "v2");
  EXPECT_EQ(str(friend_entry(bob, alice_id), "protocol"), "v2");
}

}  // namespace
}  // namespace secchats::testing
