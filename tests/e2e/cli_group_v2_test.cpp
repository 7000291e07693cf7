// Groups on protocol v2 (sender keys, docs/protocol-v2.md section 8) between CLI users,
// through the recording proxy: the switch to v2, forgery and removal, and a mixed group
// with a v1 reference client that stays on the v1 group key.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "support/v1_peer.hpp"
#include "v2_fixture.hpp"

namespace secchats::testing {
namespace {

class CliGroupV2 : public CliV2 {
 protected:
  // Alice, Bob and Carol, all pairwise v2 friends, in a group Alice made; syncs until every
  // member holds every other member's sender key.
  void make_trio() {
    alice_ = std::make_unique<CliUser>(make_cli("Alice", &alice_id_));
    bob_ = std::make_unique<CliUser>(make_cli("Bob", &bob_id_));
    carol_ = std::make_unique<CliUser>(make_cli("Carol", &carol_id_));
    befriend_v2(*alice_, alice_id_, *bob_, bob_id_);
    befriend_v2(*alice_, alice_id_, *carol_, carol_id_);
    befriend_v2(*bob_, bob_id_, *carol_, carol_id_);
    group_id_ = str(only_json(alice_->run({"group", "create", "Crew"})), "groupId");
    ASSERT_FALSE(group_id_.empty());
    ok(*alice_, {"group", "invite", group_id_, bob_id_});
    ok(*alice_, {"group", "invite", group_id_, carol_id_});
    for (const CliUser* u : {bob_.get(), carol_.get()}) {
      EXPECT_EQ(events_of(ok(*u, {"sync"}), "groupInvite").size(), 1u);
      ok(*u, {"group", "join", group_id_});
    }
    for (int round = 0; round < 2; ++round) {
      for (const CliUser* u : {alice_.get(), bob_.get(), carol_.get()}) {
        auto events = ok(*u, {"sync"});
        EXPECT_TRUE(events.empty()) << dump(events);
      }
    }
  }

  boost::json::object group_entry(const CliUser& u) {
    auto groups = ok(u, {"groups"});
    EXPECT_EQ(groups.size(), 1u) << dump(groups);
    return groups.empty() ? boost::json::object{} : groups.front();
  }

  std::vector<std::string> texts(const std::vector<boost::json::object>& events) {
    std::vector<std::string> out;
    for (const auto& e : events_of(events, "message"))
      out.push_back(str(e, "text"));
    return out;
  }

  std::string last_group_post() {
    auto posts = proxy_->exchanges("/postgroup");
    if (posts.empty()) return {};
    return str(boost::json::parse(posts.back().forwarded_body).as_object(), "encContent");
  }

  std::unique_ptr<CliUser> alice_, bob_, carol_;
  std::string alice_id_, bob_id_, carol_id_, group_id_;
};

TEST_F(CliGroupV2, AGroupOfV2FriendsRunsV2AndEveryoneReadsIt) {
  make_trio();
  for (const CliUser* u : {alice_.get(), bob_.get(), carol_.get()}) {
    auto g = group_entry(*u);
    EXPECT_EQ(str(g, "protocol"), "v2") << boost::json::serialize(g);
    EXPECT_EQ(str(g, "protocolReason"), "");
  }
  ok(*alice_, {"group", "send", group_id_, "hello crew"});
  EXPECT_TRUE(last_group_post().starts_with("sc2:"));
  ok(*bob_, {"group", "send", group_id_, "hi from bob"});
  EXPECT_TRUE(last_group_post().starts_with("sc2:"));
  ok(*carol_, {"group", "send", group_id_, "hi from carol"});
  EXPECT_TRUE(last_group_post().starts_with("sc2:"));

  auto at_alice = ok(*alice_, {"sync"});
  EXPECT_EQ(texts(at_alice), (std::vector<std::string>{"hi from bob", "hi from carol"}))
      << dump(at_alice);
  EXPECT_TRUE(events_of(at_alice, "warning").empty()) << dump(at_alice);
  auto at_bob = ok(*bob_, {"sync"});
  EXPECT_EQ(texts(at_bob), (std::vector<std::string>{"hello crew", "hi from carol"}))
      << dump(at_bob);
  auto at_carol = ok(*carol_, {"sync"});
  EXPECT_EQ(texts(at_carol), (std::vector<std::string>{"hello crew", "hi from bob"}))
      << dump(at_carol);
  // Our own posts are in our history (stored when sent), once.
  auto history = ok(*alice_, {"history", group_id_});
  EXPECT_EQ(history.size(), 3u) << dump(history);
}

TEST_F(CliGroupV2, APostUnderAnotherMembersKeyIsRejected) {
  make_trio();
  // The relay keeps Alice's post to itself, then hands it out as Bob's: the relay names Bob
  // as the poster, but the sender key is Alice's.
  proxy_->set_drop([&](std::string_view path, std::string_view body) {
    return path == "/postgroup" && body.find(alice_id_) != std::string_view::npos;
  });
  EXPECT_NE(alice_->run({"group", "send", group_id_, "from alice"}).exit_code, 0);
  const std::string alices =
      str(boost::json::parse(proxy_->exchanges("/postgroup").back().request_body).as_object(),
          "encContent");
  ASSERT_TRUE(alices.starts_with("sc2:"));
  proxy_->reset_hooks();
  proxy_->set_request_rewriter(
      [&](std::string_view path, std::string_view body) -> std::optional<std::string> {
        if (path != "/postgroup" || body.find(bob_id_) == std::string_view::npos) {
          return std::nullopt;
        }
        auto v = boost::json::parse(body).as_object();
        v["encContent"] = alices;
        return boost::json::serialize(v);
      });
  ok(*bob_, {"group", "send", group_id_, "innocent"});
  proxy_->reset_hooks();
  auto events = ok(*carol_, {"sync"});
  EXPECT_TRUE(texts(events).empty()) << dump(events);
  auto warnings = events_of(events, "warning");
  ASSERT_EQ(warnings.size(), 1u) << dump(events);
  EXPECT_NE(str(warnings[0], "text").find("forged"), std::string::npos) << dump(events);
  EXPECT_TRUE(ok(*carol_, {"history", group_id_}).empty());
  // Bob's key was not touched: his next post reads fine.
  ok(*bob_, {"group", "send", group_id_, "really bob"});
  EXPECT_EQ(texts(ok(*carol_, {"sync"})), std::vector<std::string>{"really bob"});
}

TEST_F(CliGroupV2, ARemovedMemberCannotReadNewMessages) {
  make_trio();
  auto removed = ok(*alice_, {"group", "remove", group_id_, carol_id_});
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(str(removed[0], "event"), "removed");
  // Bob learns of it (and of Alice's new key), rekeys and gives his new key to Alice only.
  auto events = ok(*bob_, {"sync"});
  EXPECT_TRUE(events.empty()) << dump(events);
  ok(*alice_, {"sync"});

  ok(*alice_, {"group", "send", group_id_, "without carol"});
  ok(*bob_, {"group", "send", group_id_, "bob too"});
  EXPECT_EQ(texts(ok(*bob_, {"sync"})), std::vector<std::string>{"without carol"});
  EXPECT_EQ(texts(ok(*alice_, {"sync"})), std::vector<std::string>{"bob too"});

  // Carol's next sync tells her (Alice's notice), and the group is closed for her: it is no
  // longer polled, so the posts she cannot read do not even show up as warnings.
  events = ok(*carol_, {"sync"});
  EXPECT_TRUE(texts(events).empty()) << dump(events);
  auto warnings = events_of(events, "warning");
  ASSERT_EQ(warnings.size(), 1u) << dump(events);
  EXPECT_NE(str(warnings[0], "text").find("removed you"), std::string::npos) << dump(events);
  EXPECT_NE(str(warnings[0], "text").find(alice_id_), std::string::npos) << dump(events);
  EXPECT_TRUE(ok(*carol_, {"history", group_id_}).empty());
  auto g = group_entry(*carol_);
  EXPECT_TRUE(g.at("closed").as_bool()) << boost::json::serialize(g);
  EXPECT_EQ(str(g, "removedBy"), alice_id_);
  EXPECT_FALSE(group_entry(*alice_).at("closed").as_bool());
  EXPECT_TRUE(ok(*carol_, {"sync"}).empty());  // said once

  // Before: "sent", while every member dropped it. Now refused, and nothing is posted.
  const std::size_t posts = proxy_->exchanges("/postgroup").size();
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"group", "send", group_id_, "still here?"},
        std::vector<std::string>{"group", "invite", group_id_, bob_id_}}) {
    auto r = carol_->run(args);
    EXPECT_EQ(r.exit_code, 5) << r.err;
    EXPECT_NE(r.err.find("removed from this group"), std::string::npos) << r.err;
  }
  EXPECT_EQ(proxy_->exchanges("/postgroup").size(), posts);
  EXPECT_TRUE(ok(*carol_, {"history", group_id_}).empty());
  EXPECT_EQ(str(group_entry(*alice_), "protocol"), "v2");
  // Alice owes nothing more: the notice is not sent again.
  const std::size_t direct = posted(*proxy_).size();
  ok(*alice_, {"sync"});
  EXPECT_EQ(posted(*proxy_).size(), direct);
}

TEST_F(CliGroupV2, ARemovedMemberUnreachableAtRemovalIsToldAtALaterSync) {
  make_trio();
  // The relay drops Alice's direct posts to Carol for a while.
  proxy_->set_drop([&](std::string_view path, std::string_view body) {
    return path == "/postmsg" && body.find(carol_id_) != std::string_view::npos;
  });
  ok(*alice_, {"group", "remove", group_id_, carol_id_});
  EXPECT_TRUE(events_of(ok(*carol_, {"sync"}), "warning").empty());
  EXPECT_FALSE(group_entry(*carol_).at("closed").as_bool());
  proxy_->reset_hooks();
  ok(*bob_, {"sync"});
  ok(*alice_, {"sync"});  // retries the notice
  auto warnings = events_of(ok(*carol_, {"sync"}), "warning");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(str(warnings[0], "text").find("removed you"), std::string::npos);
  EXPECT_TRUE(group_entry(*carol_).at("closed").as_bool());
}

TEST_F(CliGroupV2, RemovingByANicknameTwoFriendsShareIsRefusedAndNamesNoOne) {
  std::string alice_id, bob_id, other_bob_id;
  CliUser alice = make_cli("Alice", &alice_id);
  CliUser bob = make_cli("Bob", &bob_id);
  CliUser other_bob = make_cli("Bob", &other_bob_id, "other-bob");
  befriend_v2(alice, alice_id, bob, bob_id);
  befriend_v2(alice, alice_id, other_bob, other_bob_id);
  const std::string group_id = str(only_json(alice.run({"group", "create", "Bobs"})), "groupId");
  ok(alice, {"group", "invite", group_id, bob_id});
  ok(alice, {"group", "invite", group_id, other_bob_id});

  // Never a guess at which Bob: the same refusal as `send bob`, and nobody is removed.
  auto r = alice.run({"group", "remove", group_id, "bob"}, false);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("more than one friend"), std::string::npos) << r.err;
  // By id it works, and the output names the member removed (JSON: the id, not what was typed).
  auto removed = ok(alice, {"group", "remove", group_id, bob_id});
  ASSERT_EQ(removed.size(), 1u) << dump(removed);
  EXPECT_EQ(str(removed[0], "member"), bob_id);
  r = alice.run({"group", "remove", group_id, other_bob_id}, false);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("removed Bob (" + other_bob_id.substr(0, 8) + ")"), std::string::npos)
      << r.out;
}

TEST_F(CliGroupV2, AGroupWithAV1MemberStaysV1AndSaysWhy) {
  std::string alice_id, bob_id;
  CliUser alice = make_cli("Alice", &alice_id);
  CliUser bob = make_cli("Bob", &bob_id);
  befriend_v2(alice, alice_id, bob, bob_id);
  V1Peer ref(proxy_->port(), "Ref");
  ref.register_account();
  ok(alice, {"add", ref.user_id()});
  ref.poll();  // answers
  ok(alice, {"sync"});
  ref.poll();  // Alice's v2 offer, shown as an unknown type

  const std::string group_id = str(only_json(alice.run({"group", "create", "Mixed"})), "groupId");
  ok(alice, {"group", "invite", group_id, bob_id});
  ok(alice, {"group", "invite", group_id, ref.user_id()});
  ok(bob, {"sync"});
  ok(bob, {"group", "join", group_id});
  ok(alice, {"sync"});
  ok(bob, {"sync"});
  for (const CliUser* u : {&alice, &bob}) {
    auto groups = ok(*u, {"groups"});
    ASSERT_EQ(groups.size(), 1u);
    EXPECT_EQ(str(groups[0], "protocol"), "v1");
  }
  auto g = ok(alice, {"groups"}).front();
  EXPECT_EQ(str(g, "protocolReason"), "mixed: " + ref.user_id() + " is not a v2 friend");
  ok(alice, {"group", "send", group_id, "plain old v1"});
  EXPECT_FALSE(last_group_post().starts_with("sc2:"));
  EXPECT_EQ(texts(ok(bob, {"sync"})), std::vector<std::string>{"plain old v1"});
}

TEST_F(CliGroupV2, AnInPersonGroupRunsV2AfterAnnouncements) {
  // Three of our users, no friendships: the QR payload is all they share.
  std::string alice_id, bob_id, carol_id;
  CliUser alice = make_cli("Alice", &alice_id);
  CliUser bob = make_cli("Bob", &bob_id);
  CliUser carol = make_cli("Carol", &carol_id);
  auto qr = only_json(alice.run({"group", "qr-create", "Meetup", "--show-payload"}));
  const std::string group_id = str(qr, "groupId");
  const std::string payload = str(qr, "payload");
  ASSERT_FALSE(payload.empty());
  // Alice's announcement went out when she created the group.
  const std::string alices_announcement = last_group_post();
  ASSERT_TRUE(alices_announcement.starts_with("sc2:"));
  // What create and join print is the protocol our posts will use, as `groups` shows it.
  EXPECT_EQ(str(qr, "protocol"), "v2") << dump({qr});
  for (CliUser* u : {&bob, &carol}) {
    auto joined = ok(*u, {"group", "qr-join", "--payload", payload});
    ASSERT_EQ(joined.size(), 1u) << dump(joined);
    EXPECT_EQ(str(joined[0], "protocol"), "v2") << dump(joined);
  }
  for (const CliUser* u : {&alice, &bob, &carol}) {
    auto events = ok(*u, {"sync"});
    EXPECT_TRUE(events.empty()) << dump(events);  // announcements are not messages
  }
  for (const CliUser* u : {&alice, &bob, &carol}) {
    auto groups = ok(*u, {"groups"});
    ASSERT_EQ(groups.size(), 1u) << dump(groups);
    EXPECT_EQ(str(groups[0], "protocol"), "v2") << dump(groups);
    EXPECT_EQ(str(groups[0], "origin"), "in-person");
  }

  ok(alice, {"group", "send", group_id, "hello meetup"});
  EXPECT_TRUE(last_group_post().starts_with("sc2:"));
  ok(bob, {"group", "send", group_id, "hi from bob"});
  EXPECT_TRUE(last_group_post().starts_with("sc2:"));
  ok(carol, {"group", "send", group_id, "hi from carol"});
  EXPECT_TRUE(last_group_post().starts_with("sc2:"));
  auto at_alice = ok(alice, {"sync"});
  EXPECT_EQ(texts(at_alice), (std::vector<std::string>{"hi from bob", "hi from carol"}))
      << dump(at_alice);
  EXPECT_TRUE(events_of(at_alice, "warning").empty()) << dump(at_alice);
  EXPECT_EQ(texts(ok(bob, {"sync"})), (std::vector<std::string>{"hello meetup", "hi from carol"}));
  EXPECT_EQ(texts(ok(carol, {"sync"})), (std::vector<std::string>{"hello meetup", "hi from bob"}));
  EXPECT_EQ(ok(alice, {"history", group_id}).size(), 3u);

  // Bob posts Alice's announcement as his own (the relay names Bob): refused.
  proxy_->set_request_rewriter(
      [&](std::string_view path, std::string_view body) -> std::optional<std::string> {
        if (path != "/postgroup" || body.find(bob_id) == std::string_view::npos) {
          return std::nullopt;
        }
        auto v = boost::json::parse(body).as_object();
        v["encContent"] = alices_announcement;
        return boost::json::serialize(v);
      });
  ok(bob, {"group", "send", group_id, "innocent"});
  proxy_->reset_hooks();
  auto events = ok(carol, {"sync"});
  EXPECT_TRUE(texts(events).empty()) << dump(events);
  auto warnings = events_of(events, "warning");
  ASSERT_EQ(warnings.size(), 1u) << dump(events);
  EXPECT_NE(str(warnings[0], "text").find("forged"), std::string::npos) << dump(events);
  // Nothing changed: Alice still reads as Alice.
  ok(alice, {"group", "send", group_id, "still alice"});
  EXPECT_EQ(texts(ok(carol, {"sync"})), std::vector<std::string>{"still alice"});
  EXPECT_EQ(ok(carol, {"history", group_id}).size(), 4u);
  // Nobody can be removed from an in-person group (everyone holds the code).
  EXPECT_EQ(alice.run({"group", "remove", group_id, bob_id}).exit_code, 2);
}

}  // namespace
}  // namespace secchats::testing
