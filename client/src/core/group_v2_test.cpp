// Protocol v2 groups (sender keys) between three clients, without a relay: each party has its
// own encrypted store, and the test carries pairwise UPDATEs and group posts between them (as
// the relay would, or as a misbehaving member or relay could).
#include "group_v2.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <stdexcept>

#include "pairwise_v2.hpp"
#include "secchats/common/clock.hpp"
#include "secchats/common/encoding.hpp"
#include "secchats/crypto/random.hpp"
#include "secchats/crypto/v2/sender_key.hpp"
#include "secchats/crypto/v2/wire.hpp"
#include "secchats/protocol/json_codec.hpp"
#include "support/temp_dir.hpp"

namespace secchats::core {
namespace {

namespace fs = std::filesystem;

const SecretString kPassword("correct horse battery staple");
const std::string kGroup = "00112233445566778899aabbccddeeff";

using testing::TempDir;  // the shared one in tests/support

struct Party {
  Party(const TempDir& dir, std::string user_id, std::string nick,
        store::GroupOrigin origin = store::GroupOrigin::kInvited)
      : id(std::move(user_id)), me{id, std::move(nick)} {
    store::Identity identity;
    identity.user_id = id;
    identity.auth_token = SecretString("token");
    identity.nickname = me.nickname;
    identity.server_url = "http://127.0.0.1:1";
    auto created = store::Store::create(dir.path() / me.nickname, kPassword, identity);
    if (!created.ok()) throw std::runtime_error(created.error().message());
    store = std::move(created).value();
    auto loaded = PairwiseV2::load(*store, id, cipher);
    if (!loaded.ok()) throw std::runtime_error(loaded.error().message());
    v2 = std::move(loaded).value();
    groups = std::make_unique<GroupV2>(*store, id, cipher);
    store::GroupRecord g;
    g.group_id = kGroup;
    g.name = "g";
    g.key = group_key;
    g.origin = origin;
    if (!store->upsert_group(g).ok()) throw std::runtime_error("group");
  }

  store::GroupRecord group() const { return **store->find_group(kGroup); }

  std::string id;
  Sender me;
  std::unique_ptr<store::Store> store;
  crypto::v1::MessageCipher cipher;
  std::unique_ptr<PairwiseV2> v2;
  std::unique_ptr<GroupV2> groups;
  static inline SecretString group_key = crypto::v1::generate_group_key();
};

// A friendship made by two of our clients: the key exchange carried the v2 marker
// (docs/protocol-v2.md §2.1), so each offers the other its bundle.
store::Friend marked_friend(const std::string& id, const SecretString& key,
                            std::int64_t created_at_ms = 1, const std::string& nickname = "") {
  store::Friend f{id, nickname, key, "v1", created_at_ms};
  f.peer_v2_capable = true;
  return f;
}

// Pairwise v2 between two parties, as in pairwise_v2_test.cpp.
void befriend_v2(Party& a, Party& b) {
  const SecretString key = crypto::v1::generate_group_key();
  ASSERT_TRUE(a.store->upsert_friend(marked_friend(b.id, key)).ok());
  ASSERT_TRUE(b.store->upsert_friend(marked_friend(a.id, key)).ok());
  for (int round = 0; round < 6; ++round) {
    bool any = false;
    for (auto [from, to] : {std::pair{&a, &b}, std::pair{&b, &a}}) {
      std::vector<std::string> wires;
      auto update = from->v2->seal_bundle_update(to->id, from->me);
      ASSERT_TRUE(update.ok());
      if (*update) {
        wires.push_back(**update);
        ASSERT_TRUE(from->v2->mark_update_sent(to->id).ok());
      }
      auto control = from->v2->seal_pending_control(to->id, from->me);
      ASSERT_TRUE(control.ok());
      if (*control) {
        wires.push_back(**control);
        ASSERT_TRUE(from->v2->mark_control_sent(to->id).ok());
      }
      for (const auto& w : wires) {
        ASSERT_TRUE(to->store
                        ->transaction([&]() -> Status {
                          SC_ASSIGN_OR_RETURN(auto opened, to->v2->open(from->id, w));
                          return ok_status();
                        })
                        .ok());
        any = true;
      }
    }
    if (!any) break;
  }
  ASSERT_TRUE((*a.store->find_friend(b.id))->v2_active);
  ASSERT_TRUE((*b.store->find_friend(a.id))->v2_active);
}

// Carries one group control text from `from` to `to` over their pairwise v2 channel; returns
// the receiver's warning, if any.
std::optional<std::string> control(Party& from, Party& to, const std::string& content) {
  auto m = make_update(from.me, to.id, crypto::random_int63(), unix_millis_now(), content);
  auto wire = from.v2->seal_v2_only(to.id, m);
  EXPECT_TRUE(wire.ok() && wire->has_value());
  std::optional<std::string> note;
  EXPECT_TRUE(to.store
                  ->transaction([&]() -> Status {
                    SC_ASSIGN_OR_RETURN(auto opened, to.v2->open(from.id, **wire));
                    EXPECT_TRUE(opened.control.has_value());
                    EXPECT_FALSE(opened.message.has_value());
                    if (!opened.control) return ok_status();
                    SC_ASSIGN_OR_RETURN(note, to.groups->on_control(from.id, *opened.control));
                    return ok_status();
                  })
                  .ok());
  return note;
}

// Everything `from` owes in sender keys, delivered.
void distribute(Party& from, const std::vector<Party*>& to) {
  auto owed = from.groups->owed_distributions(kGroup);
  ASSERT_TRUE(owed.ok());
  for (const auto& o : *owed) {
    for (Party* p : to) {
      if (p->id != o.member) continue;
      EXPECT_EQ(control(from, *p, std::string(o.content.view())), std::nullopt);
      ASSERT_TRUE(from.groups->mark_distributed(kGroup, o.member, o.epoch).ok());
    }
  }
}

std::string post(Party& from, std::string_view body, const std::string& claimed_from = "") {
  auto m = make_text(from.me, kGroup, crypto::random_int63(), unix_millis_now(), body);
  if (!claimed_from.empty()) m.from_user_id = claimed_from;
  auto wire = from.groups->seal(kGroup, m);
  EXPECT_TRUE(wire.ok()) << wire.error().message();
  return wire.ok() ? *wire : "";
}

GroupV2::Opened receive(Party& to, const std::string& poster, const std::string& wire) {
  GroupV2::Opened opened;
  EXPECT_TRUE(to.store
                  ->transaction([&]() -> Status {
                    SC_ASSIGN_OR_RETURN(opened, to.groups->open(to.group(), poster, wire));
                    return ok_status();
                  })
                  .ok());
  return opened;
}

std::string text_of(const GroupV2::Opened& o) {
  if (!o.message) return "<no message: " + o.warning.value_or("") + ">";
  return base64_decode_to_string(o.message->content.value_or("")).value_or("<bad base64>");
}

// Three v2 friends in one group, every member knowing the others, every key distributed.
class GroupV2Test : public ::testing::Test {
 protected:
  void SetUp() override {
    befriend_v2(alice, bob);
    befriend_v2(alice, carol);
    befriend_v2(bob, carol);
    // Alice invited both and told them who is in (the joiners record her as the inviter).
    ASSERT_TRUE(alice.groups->record_member(kGroup, bob.id).ok());
    ASSERT_TRUE(alice.groups->record_member(kGroup, carol.id).ok());
    ASSERT_TRUE(bob.groups->record_member(kGroup, alice.id).ok());
    ASSERT_TRUE(carol.groups->record_member(kGroup, alice.id).ok());
    const std::string list = encode_members_json(kGroup, {alice.id, bob.id, carol.id});
    EXPECT_EQ(control(alice, bob, list), std::nullopt);
    EXPECT_EQ(control(alice, carol, list), std::nullopt);
    for (Party* p : {&alice, &bob, &carol}) {
      auto v2 = p->groups->prepare_send(p->group());
      ASSERT_TRUE(v2.ok() && *v2) << p->me.nickname;
    }
    distribute(alice, {&bob, &carol});
    distribute(bob, {&alice, &carol});
    distribute(carol, {&alice, &bob});
  }

  TempDir dir;
  Party alice{dir, "aaaaaaaaaaaaaaaa", "alice", store::GroupOrigin::kCreated};
  Party bob{dir, "bbbbbbbbbbbbbbbb", "bob"};
  Party carol{dir, "cccccccccccccccc", "carol"};
};

TEST_F(GroupV2Test, EveryoneReadsEveryonesV2Posts) {
  for (Party* p : {&alice, &bob, &carol}) {
    auto proto = p->groups->protocol(p->group());
    ASSERT_TRUE(proto.ok());
    EXPECT_TRUE(proto->v2) << proto->reason;
    EXPECT_EQ(p->groups->members(kGroup)->size(), 2U);
  }
  for (Party* from : {&alice, &bob, &carol}) {
    const std::string wire = post(*from, "hi from " + from->me.nickname);
    EXPECT_TRUE(wire.starts_with("sc2:"));
    for (Party* to : {&alice, &bob, &carol}) {
      auto opened = receive(*to, from->id, wire);
      if (to == from) {
        // Our own post echoed by the relay: recognised, not decrypted, nothing said.
        EXPECT_FALSE(opened.message.has_value());
        EXPECT_FALSE(opened.warning.has_value());
        continue;
      }
      EXPECT_EQ(text_of(opened), "hi from " + from->me.nickname);
      EXPECT_EQ(opened.from, from->id);
    }
  }
}

TEST_F(GroupV2Test, ReplayIsADuplicateDroppedSilentlyAndChangesNothing) {
  const std::string wire = post(alice, "once");
  EXPECT_EQ(text_of(receive(bob, alice.id, wire)), "once");
  // The same bytes from the same member again: what Alice's outbox posts after the relay's
  // answer was lost. Dropped as a duplicate, not shown as a decryption failure.
  auto again = receive(bob, alice.id, wire);
  EXPECT_FALSE(again.message.has_value());
  EXPECT_FALSE(again.warning.has_value()) << *again.warning;
  EXPECT_EQ(text_of(receive(bob, alice.id, post(alice, "next"))), "next");
}

TEST_F(GroupV2Test, AMemberCannotPostAsAnother) {
  // Bob signs with his own key but claims to be Alice inside.
  auto forged = receive(carol, bob.id, post(bob, "I am Alice", alice.id));
  EXPECT_FALSE(forged.message.has_value());
  ASSERT_TRUE(forged.warning.has_value());
  EXPECT_NE(forged.warning->find("forged"), std::string::npos) << *forged.warning;
  // The refused message moved nothing: Bob's next real post still opens.
  EXPECT_EQ(text_of(receive(carol, bob.id, post(bob, "real"))), "real");
}

TEST_F(GroupV2Test, APostUnderAnotherMembersKeyIsRefused) {
  // Alice's post, posted again by Bob (the relay names Bob): never seen by Carol before, a
  // perfect ciphertext, and still refused.
  const std::string wire = post(alice, "from alice");
  auto replayed = receive(carol, bob.id, wire);
  EXPECT_FALSE(replayed.message.has_value());
  ASSERT_TRUE(replayed.warning.has_value());
  EXPECT_NE(replayed.warning->find("forged"), std::string::npos) << *replayed.warning;
  EXPECT_EQ(text_of(receive(carol, alice.id, wire)), "from alice");
}

TEST_F(GroupV2Test, V1FromAMemberWhoseKeyWeHoldIsADowngrade) {
  auto m = make_text(alice.me, kGroup, crypto::random_int63(), unix_millis_now(), "old style");
  const std::string v1 = alice.cipher.encrypt(Party::group_key, protocol::encode(m));
  auto opened = receive(bob, alice.id, v1);
  EXPECT_FALSE(opened.message.has_value());
  ASSERT_TRUE(opened.warning.has_value());
  EXPECT_NE(opened.warning->find("downgrade"), std::string::npos);
}

TEST_F(GroupV2Test, GroupUpdatesFromAFriendWhoseKeyChangedAreIgnored) {
  // Bob's client saw Alice's identity key change (the session may be an attacker's).
  auto f = bob.store->find_friend(alice.id);
  ASSERT_TRUE(f.ok() && f->has_value());
  store::Friend changed = **f;
  changed.identity_changed = true;
  ASSERT_TRUE(bob.store->update_friend_v2(changed).ok());
  // "Alice" removes Carol: ignored, with a warning; Bob still reads Carol.
  auto note =
      control(alice, bob, "{\"t\":\"remove\",\"g\":\"" + kGroup + "\",\"u\":\"" + carol.id + "\"}");
  ASSERT_TRUE(note.has_value());
  EXPECT_NE(note->find("identity key changed"), std::string::npos) << *note;
  auto opened = receive(bob, carol.id, post(carol, "still here"));
  EXPECT_EQ(text_of(opened), "still here");
}

TEST_F(GroupV2Test, ADistributionCannotTakeOverAnotherMembersKeyId) {
  // Carol holds Alice's distribution (the text Alice sent her); she forwards it to Bob as
  // her own.
  auto own = alice.store->own_sender_key(kGroup);
  ASSERT_TRUE(own.ok() && own->has_value());
  auto state = crypto::v2::SenderKeyState::deserialize((*own)->state.span());
  ASSERT_TRUE(state.ok());
  auto bytes = crypto::v2::serialize_distribution(state->distribution());
  ASSERT_TRUE(bytes.ok());
  const std::string text = "{\"t\":\"sender-key\",\"d\":\"" + base64_encode(bytes->span()) + "\"}";
  auto note = control(carol, bob, text);
  ASSERT_TRUE(note.has_value());
  EXPECT_NE(note->find("another member"), std::string::npos) << *note;
  // Bob still reads Alice, attributed to Alice.
  auto opened = receive(bob, alice.id, post(alice, "still me"));
  EXPECT_EQ(text_of(opened), "still me");
  EXPECT_EQ(opened.from, alice.id);
}

TEST_F(GroupV2Test, RemovalRekeysAndShutsTheMemberOut) {
  auto remaining = alice.groups->remove_member(kGroup, carol.id);
  ASSERT_TRUE(remaining.ok());
  EXPECT_EQ(*remaining, std::vector<std::string>{bob.id});
  EXPECT_EQ((*alice.store->own_sender_key(kGroup))->epoch, 2U);
  auto owed = alice.groups->owed_distributions(kGroup);
  ASSERT_TRUE(owed.ok());
  ASSERT_EQ(owed->size(), 1U);  // Bob only
  EXPECT_EQ(owed->front().member, bob.id);
  distribute(alice, {&bob});
  // Bob hears of it and does the same.
  EXPECT_EQ(control(alice, bob, encode_remove_json(kGroup, carol.id)), std::nullopt);
  EXPECT_EQ((*bob.store->own_sender_key(kGroup))->epoch, 2U);
  distribute(bob, {&alice});
  // Carol is told as well (section 8.2): a warning, and the group is closed for her.
  auto told = control(alice, carol, encode_remove_json(kGroup, carol.id));
  ASSERT_TRUE(told.has_value());

  const std::string from_alice = post(alice, "without carol");
  const std::string from_bob = post(bob, "bob too");
  EXPECT_EQ(text_of(receive(bob, alice.id, from_alice)), "without carol");
  EXPECT_EQ(text_of(receive(alice, bob.id, from_bob)), "bob too");
  for (const auto& w : {from_alice, from_bob}) {
    auto opened = receive(carol, w == from_alice ? alice.id : bob.id, w);
    EXPECT_FALSE(opened.message.has_value());
    EXPECT_TRUE(opened.warning.has_value());
  }
  // Carol's own posts are no longer accepted, v2 or v1.
  auto v2_post = receive(alice, carol.id, post(carol, "still here?"));
  EXPECT_FALSE(v2_post.message.has_value());
  auto m = make_text(carol.me, kGroup, crypto::random_int63(), unix_millis_now(), "v1?");
  auto v1_post =
      receive(bob, carol.id, carol.cipher.encrypt(Party::group_key, protocol::encode(m)));
  EXPECT_FALSE(v1_post.message.has_value());
  ASSERT_TRUE(v1_post.warning.has_value());
  EXPECT_NE(v1_post.warning->find("removed"), std::string::npos);
}

TEST_F(GroupV2Test, TheRemovedMemberIsToldAndTheGroupClosesForThem) {
  // Before: nothing was owed to the removed member, so they never learned it.
  ASSERT_TRUE(alice.groups->remove_member(kGroup, carol.id).ok());
  auto owed = alice.groups->owed_removal_notices();
  ASSERT_TRUE(owed.ok());
  ASSERT_EQ(owed->size(), 1U);
  EXPECT_EQ(owed->front().group_id, kGroup);
  EXPECT_EQ(owed->front().member, carol.id);
  EXPECT_EQ(owed->front().content, encode_remove_json(kGroup, carol.id));
  // Owed until the relay took it.
  ASSERT_EQ(alice.groups->owed_removal_notices()->size(), 1U);

  EXPECT_TRUE(carol.groups->require_open(kGroup).ok());
  auto told = control(alice, carol, owed->front().content);
  ASSERT_TRUE(told.has_value());
  EXPECT_NE(told->find("removed you"), std::string::npos) << *told;
  EXPECT_NE(told->find(alice.id), std::string::npos);
  ASSERT_TRUE(alice.groups->mark_removal_notified(kGroup, carol.id).ok());
  EXPECT_TRUE(alice.groups->owed_removal_notices()->empty());

  auto closed = carol.groups->closed(kGroup);
  ASSERT_TRUE(closed.ok() && closed->has_value());
  EXPECT_EQ((*closed)->removed_by, alice.id);
  auto refused = carol.groups->require_open(kGroup);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(refused.error().message().find("removed from this group"), std::string::npos);
  // A repeat (the remover retried) changes nothing and says nothing.
  EXPECT_EQ(control(alice, carol, owed->front().content), std::nullopt);
  EXPECT_EQ((*carol.groups->closed(kGroup))->removed_by, alice.id);
  // The others are not closed.
  EXPECT_TRUE(bob.groups->require_open(kGroup).ok());
  EXPECT_TRUE(alice.groups->require_open(kGroup).ok());
}

TEST_F(GroupV2Test, OnlyAMemberCanCloseAGroupForUs) {
  // A friend who is not in the group (as far as Bob knows) cannot tell Bob he was removed.
  Party dave{dir, "dddddddddddddddd", "dave"};
  befriend_v2(dave, bob);
  auto note = control(dave, bob, encode_remove_json(kGroup, bob.id));
  ASSERT_TRUE(note.has_value());
  EXPECT_NE(note->find("ignored"), std::string::npos) << *note;
  EXPECT_TRUE(bob.groups->require_open(kGroup).ok());
  // Nor can a member, for a group other than the one it is in.
  const std::string other = "ffeeddccbbaa99887766554433221100";
  note = control(alice, bob, encode_remove_json(other, bob.id));
  EXPECT_TRUE(note.has_value());
  EXPECT_TRUE(bob.groups->require_open(other).ok());
  EXPECT_TRUE(bob.groups->require_open(kGroup).ok());
  // A removed member can no longer close it for anyone.
  ASSERT_TRUE(alice.groups->remove_member(kGroup, carol.id).ok());
  EXPECT_EQ(control(alice, bob, encode_remove_json(kGroup, carol.id)), std::nullopt);
  note = control(carol, bob, encode_remove_json(kGroup, bob.id));
  EXPECT_TRUE(note.has_value());
  EXPECT_TRUE(bob.groups->require_open(kGroup).ok());
}

TEST(GroupV2Mixed, AGroupWithAV1FriendStaysV1AndSaysWhy) {
  TempDir dir;
  Party alice{dir, "aaaaaaaaaaaaaaaa", "alice", store::GroupOrigin::kCreated};
  Party bob{dir, "bbbbbbbbbbbbbbbb", "bob"};
  Party old{dir, "eeeeeeeeeeeeeeee", "old"};
  befriend_v2(alice, bob);
  ASSERT_TRUE(
      alice.store->upsert_friend({old.id, "", crypto::v1::generate_group_key(), "v1", 1}).ok());
  ASSERT_TRUE(alice.groups->record_member(kGroup, bob.id).ok());
  ASSERT_TRUE(alice.groups->record_member(kGroup, old.id).ok());
  auto proto = alice.groups->protocol(alice.group());
  ASSERT_TRUE(proto.ok());
  EXPECT_FALSE(proto->v2);
  EXPECT_EQ(proto->reason, "mixed: " + old.id + " is not a v2 friend");
  auto v2 = alice.groups->prepare_send(alice.group());
  ASSERT_TRUE(v2.ok());
  EXPECT_FALSE(*v2);
  EXPECT_FALSE(alice.store->own_sender_key(kGroup)->has_value());
  // A stranger in the list is no better.
  ASSERT_TRUE(alice.groups->record_member(kGroup, "ffffffffffffffff").ok());
  ASSERT_TRUE(alice.store->put_group_member({kGroup, old.id, true, 0}).ok());
  EXPECT_EQ(alice.groups->protocol(alice.group())->reason,
            "mixed: ffffffffffffffff is not a friend");
}

TEST(GroupV2Control, MemberListsOnlyFromMembersOrTheInviter) {
  TempDir dir;
  Party alice{dir, "aaaaaaaaaaaaaaaa", "alice"};
  Party bob{dir, "bbbbbbbbbbbbbbbb", "bob"};
  befriend_v2(alice, bob);
  const std::string list = encode_members_json(kGroup, {alice.id, bob.id, "cccccccccccccccc"});
  auto note = control(alice, bob, list);
  ASSERT_TRUE(note.has_value());  // Bob knows nothing of Alice in this group
  EXPECT_TRUE(bob.groups->members(kGroup)->empty());
  ASSERT_TRUE(bob.store->put_group_invite({kGroup, alice.id, "g", Party::group_key, 1}).ok());
  // A joiner who knows only the inviter stays v1 until a member list arrives.
  ASSERT_TRUE(bob.groups->record_member(kGroup, alice.id).ok());
  EXPECT_EQ(bob.groups->protocol(bob.group())->reason, "no member list received yet");
  EXPECT_EQ(control(alice, bob, list), std::nullopt);
  EXPECT_EQ(*bob.groups->members(kGroup), (std::vector<std::string>{alice.id, "cccccccccccccccc"}));
  // Malformed control content is a warning, never an error.
  EXPECT_TRUE(control(alice, bob, "{\"t\":\"members\"}").has_value());
  EXPECT_TRUE(control(alice, bob, "not json").has_value());
  EXPECT_EQ(control(alice, bob, "{\"t\":\"later\"}"), std::nullopt);
}

// In-person (QR) groups: no friendships, keys announced to the group itself.
std::string announce(Party& p) {
  auto v2 = p.groups->prepare_send(p.group());
  EXPECT_TRUE(v2.ok() && !*v2);  // the key is made, but not announced yet: still v1
  auto a = p.groups->pending_announcement(p.group());
  EXPECT_TRUE(a.ok() && a->has_value());
  if (!a.ok() || !*a) return "";
  EXPECT_TRUE(p.groups->mark_announced(kGroup, (*a)->epoch).ok());
  EXPECT_FALSE(p.groups->pending_announcement(p.group())->has_value());
  return (*a)->wire;
}

void expect_silent(const GroupV2::Opened& o) {
  EXPECT_FALSE(o.message.has_value());
  EXPECT_FALSE(o.warning.has_value()) << *o.warning;
}

class GroupV2InPersonTest : public ::testing::Test {
 protected:
  TempDir dir;
  Party alice{dir, "aaaaaaaaaaaaaaaa", "alice", store::GroupOrigin::kInPerson};
  Party bob{dir, "bbbbbbbbbbbbbbbb", "bob", store::GroupOrigin::kInPerson};
  Party carol{dir, "cccccccccccccccc", "carol", store::GroupOrigin::kInPerson};
};

TEST_F(GroupV2InPersonTest, AnnouncementsMakeTheGroupV2) {
  std::vector<std::pair<Party*, std::string>> announced;
  for (Party* p : {&alice, &bob, &carol}) {
    auto before = p->groups->protocol(p->group());
    ASSERT_TRUE(before.ok());
    EXPECT_FALSE(before->v2);
    const std::string wire = announce(*p);
    EXPECT_TRUE(wire.starts_with("sc2:"));
    EXPECT_TRUE(crypto::v2::is_qr_announcement_wire(wire));
    EXPECT_TRUE(p->groups->protocol(p->group())->v2);
    EXPECT_TRUE(*p->groups->prepare_send(p->group()));
    // Never distributed pairwise: the announcement is the distribution.
    EXPECT_TRUE(p->groups->owed_distributions(kGroup)->empty());
    announced.emplace_back(p, wire);
  }
  for (auto& [from, wire] : announced) {
    for (Party* to : {&alice, &bob, &carol}) {
      expect_silent(receive(*to, from->id, wire));  // our own echo too
      expect_silent(receive(*to, from->id, wire));  // a re-post changes nothing
    }
  }
  for (Party* p : {&alice, &bob, &carol})
    EXPECT_EQ(p->groups->members(kGroup)->size(), 2U);
  for (Party* from : {&alice, &bob, &carol}) {
    const std::string wire = post(*from, "hi from " + from->me.nickname);
    EXPECT_TRUE(wire.starts_with("sc2:"));
    for (Party* to : {&alice, &bob, &carol}) {
      if (to == from) continue;
      auto opened = receive(*to, from->id, wire);
      EXPECT_EQ(text_of(opened), "hi from " + from->me.nickname);
      EXPECT_EQ(opened.from, from->id);
    }
  }
  // A v1 post from a member whose key we hold is a downgrade.
  auto m = make_text(alice.me, kGroup, crypto::random_int63(), unix_millis_now(), "old style");
  auto v1 = receive(bob, alice.id, alice.cipher.encrypt(Party::group_key, protocol::encode(m)));
  EXPECT_FALSE(v1.message.has_value());
  ASSERT_TRUE(v1.warning.has_value());
  EXPECT_NE(v1.warning->find("downgrade"), std::string::npos) << *v1.warning;
  // Bob's ciphertext posted by Carol is refused, as in created groups.
  auto replay = receive(alice, carol.id, post(bob, "from bob"));
  EXPECT_FALSE(replay.message.has_value());
  EXPECT_TRUE(replay.warning.has_value());
}

TEST_F(GroupV2InPersonTest, AnAnnouncementClaimingAnotherUserIsRefused) {
  const std::string from_alice = announce(alice);
  announce(bob);
  // Bob posts Alice's announcement (the relay names Bob as the poster).
  auto forged = receive(carol, bob.id, from_alice);
  EXPECT_FALSE(forged.message.has_value());
  ASSERT_TRUE(forged.warning.has_value());
  EXPECT_NE(forged.warning->find("forged"), std::string::npos) << *forged.warning;
  EXPECT_TRUE(carol.store->received_sender_keys(kGroup)->empty());
  EXPECT_TRUE(carol.groups->members(kGroup)->empty());
  // Without a poster there is nobody to bind the key to.
  EXPECT_TRUE(receive(carol, "", from_alice).warning.has_value());
  // Alice's own post of it is accepted.
  expect_silent(receive(carol, alice.id, from_alice));
  EXPECT_EQ(text_of(receive(carol, alice.id, post(alice, "hello"))), "hello");
}

TEST_F(GroupV2InPersonTest, TheFirstKeyPerUserIsTrusted) {
  expect_silent(receive(carol, alice.id, announce(alice)));
  // A second, different key announced for Alice (by Alice's account, or by anyone the relay
  // lets post as her) is refused; the first stays.
  auto other = crypto::v2::SenderKeyState::generate(kGroup, 1);
  ASSERT_TRUE(other.ok());
  auto bootstrap = crypto::v2::derive_qr_bootstrap_key(Party::group_key, kGroup);
  ASSERT_TRUE(bootstrap.ok());
  auto wire = crypto::v2::seal_qr_announcement(*bootstrap, *other, alice.id);
  ASSERT_TRUE(wire.ok());
  auto second = receive(carol, alice.id, *wire);
  ASSERT_TRUE(second.warning.has_value());
  EXPECT_NE(second.warning->find("trust on first use"), std::string::npos) << *second.warning;
  EXPECT_EQ(carol.store->received_sender_keys(kGroup)->size(), 1U);
  EXPECT_EQ(text_of(receive(carol, alice.id, post(alice, "still me"))), "still me");
  // An announcement sealed with another group key does not open.
  auto wrong = crypto::v2::derive_qr_bootstrap_key(crypto::v1::generate_group_key(), kGroup);
  ASSERT_TRUE(wrong.ok());
  auto stranger = crypto::v2::seal_qr_announcement(*wrong, *other, bob.id);
  ASSERT_TRUE(stranger.ok());
  auto refused = receive(carol, bob.id, *stranger);
  ASSERT_TRUE(refused.warning.has_value());
  EXPECT_NE(refused.warning->find("could not be decrypted"), std::string::npos);
}

TEST_F(GroupV2InPersonTest, MembersCannotBeRemovedAndV1PostsBeforeTheAnnouncementAreRead) {
  // Alice posts v1 before she announced: read by Bob (he holds no key of hers yet).
  auto m = make_text(alice.me, kGroup, crypto::random_int63(), unix_millis_now(), "early");
  EXPECT_EQ(
      text_of(receive(bob, alice.id, alice.cipher.encrypt(Party::group_key, protocol::encode(m)))),
      "early");
  expect_silent(receive(bob, alice.id, announce(alice)));
  auto removed = bob.groups->remove_member(kGroup, alice.id);
  ASSERT_FALSE(removed.ok());
  EXPECT_EQ(removed.error().code(), ErrorCode::kInvalidArgument);
}

TEST(GroupV2Announcements, AnAnnouncementInACreatedGroupIsIgnored) {
  TempDir dir;
  Party alice{dir, "aaaaaaaaaaaaaaaa", "alice", store::GroupOrigin::kCreated};
  Party bob{dir, "bbbbbbbbbbbbbbbb", "bob"};
  auto state = crypto::v2::SenderKeyState::generate(kGroup, 1);
  ASSERT_TRUE(state.ok());
  auto bootstrap = crypto::v2::derive_qr_bootstrap_key(Party::group_key, kGroup);
  ASSERT_TRUE(bootstrap.ok());
  auto wire = crypto::v2::seal_qr_announcement(*bootstrap, *state, alice.id);
  ASSERT_TRUE(wire.ok());
  auto opened = receive(bob, alice.id, *wire);
  EXPECT_FALSE(opened.message.has_value());
  EXPECT_TRUE(opened.warning.has_value());
  EXPECT_TRUE(bob.store->received_sender_keys(kGroup)->empty());
}

}  // namespace
}  // namespace secchats::core
