// Every journey of the howto, three people, the real CLI against the real relay.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "e2e_fixture.hpp"
#include "secchats/media/image.hpp"

namespace secchats::testing {
namespace {

namespace fs = std::filesystem;

std::string file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// True if `needle` occurs in any file under `dir`.
bool any_file_contains(const fs::path& dir, const std::string& needle) {
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file() && file_bytes(entry.path()).find(needle) != std::string::npos) {
      return true;
    }
  }
  return false;
}

std::vector<boost::json::object> messages_of(const std::vector<boost::json::object>& events) {
  std::vector<boost::json::object> out;
  for (const auto& e : events) {
    if (str(e, "event") == "message") out.push_back(e);
  }
  return out;
}

std::string dump(const std::vector<boost::json::object>& objects) {
  std::string out;
  for (const auto& o : objects)
    out += boost::json::serialize(o) + "\n";
  return out;
}

std::int64_t num(const boost::json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v && v->is_int64() ? v->as_int64() : -1;
}

// An id (messageId, replyTo): --json prints it as a string of decimal digits.
std::int64_t id_of(const boost::json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  EXPECT_TRUE(v && v->is_string()) << key << " is not a string";
  return v && v->is_string() ? std::stoll(std::string(v->as_string())) : -1;
}

class Journeys : public E2eTest {};

TEST_F(Journeys, EveryHowtoJourneyWithThreePeople) {
  std::string alice_id, bob_id, carol_id;
  CliUser alice = make_user("Alice", &alice_id);
  CliUser bob = make_user("Bob", &bob_id);
  CliUser carol = make_user("Carol", &carol_id);

  // id prints our ID (and its QR on request).
  EXPECT_EQ(str(only_json(alice.run({"id"})), "userId"), alice_id);
  EXPECT_FALSE(str(only_json(alice.run({"id", "--qr"})), "qr").empty());

  // Add a friend: the request waits until Bob accepts.
  ok(alice, {"add", bob_id});
  auto pending = ok(alice, {"requests"});
  ASSERT_EQ(pending.size(), 1u) << dump(pending);
  EXPECT_EQ(str(pending[0], "direction"), "outgoing");
  ok(bob, {"sync"});
  auto incoming = ok(bob, {"requests"});
  ASSERT_EQ(incoming.size(), 1u) << dump(incoming);
  EXPECT_EQ(str(incoming[0], "direction"), "incoming");
  EXPECT_EQ(str(incoming[0], "userId"), alice_id);
  ok(bob, {"accept", alice_id});
  EXPECT_TRUE(ok(bob, {"requests"}).empty());
  auto accepted = ok(alice, {"sync"});
  ASSERT_EQ(accepted.size(), 1u) << dump(accepted);
  EXPECT_EQ(str(accepted[0], "event"), "friendAccepted");
  EXPECT_TRUE(ok(alice, {"requests"}).empty());

  // Text both ways; nicknames are learned from the messages themselves.
  auto sent = ok(alice, {"send", bob_id, "Hello Bob, it's Alice"});
  ASSERT_EQ(sent.size(), 1u) << dump(sent);
  const std::int64_t hello_id = id_of(sent[0], "messageId");
  auto got = messages_of(ok(bob, {"sync"}));
  ASSERT_EQ(got.size(), 1u) << dump(got);
  EXPECT_EQ(str(got[0], "text"), "Hello Bob, it's Alice");
  EXPECT_EQ(str(got[0], "fromName"), "Alice");
  EXPECT_EQ(str(got[0], "fromUserId"), alice_id);
  EXPECT_EQ(id_of(got[0], "messageId"), hello_id);
  auto bobs_friends = ok(bob, {"friends"});
  ASSERT_EQ(bobs_friends.size(), 1u) << dump(bobs_friends);
  EXPECT_EQ(str(bobs_friends[0], "nickname"), "Alice");
  ok(bob, {"send", "alice", "Hi Alice! (addressed by nickname)"});
  got = messages_of(ok(alice, {"sync"}));
  ASSERT_EQ(got.size(), 1u) << dump(got);
  EXPECT_EQ(str(got[0], "text"), "Hi Alice! (addressed by nickname)");
  EXPECT_EQ(str(only_json(alice.run({"friends"})), "nickname"), "Bob");
  // A second sync brings nothing new: cursors moved.
  EXPECT_TRUE(messages_of(ok(bob, {"sync"})).empty());

  // An image: sent as the library prepares it (re-encoded from pixels, so the padding chunk
  // is gone; still a PNG), and saved back byte for byte as that.
  const std::string png = write_png("photo.png", 20000);
  const std::string original = file_bytes(png);
  auto prepared = media::prepare_v1_photo(
      {reinterpret_cast<const std::uint8_t*>(original.data()), original.size()});
  ASSERT_TRUE(prepared.ok()) << prepared.error().message();
  ASSERT_EQ(prepared->media_type, "image/png");
  const std::string sent_image(prepared->bytes.begin(), prepared->bytes.end());
  EXPECT_LT(sent_image.size(), original.size());
  ok(alice, {"send-image", "Bob", png});
  got = messages_of(ok(bob, {"sync"}));
  ASSERT_EQ(got.size(), 1u) << dump(got);
  EXPECT_EQ(str(got[0], "type"), "IMG");
  EXPECT_EQ(num(got[0], "imageBytes"), static_cast<std::int64_t>(sent_image.size()));
  const fs::path saved = dir_->path() / "saved";
  auto history = ok(bob, {"history", "Alice", "--save-images", saved.string()});
  ASSERT_EQ(history.size(), 3u) << dump(history);
  const std::string image_file = std::to_string(id_of(history[2], "messageId")) + ".png";
  EXPECT_EQ(file_bytes(saved / image_file), sent_image);

  // A reaction to Alice's first message.
  ok(bob, {"react", "Alice", std::to_string(hello_id), "heart"});
  got = messages_of(ok(alice, {"sync"}));
  ASSERT_EQ(got.size(), 1u) << dump(got);
  EXPECT_EQ(str(got[0], "type"), "EMOJI");
  EXPECT_EQ(str(got[0], "emoji"), "EMO_HEART");
  EXPECT_EQ(id_of(got[0], "replyTo"), hello_id);

  // History with --limit, oldest first, our own messages marked outgoing.
  auto last_two = ok(alice, {"history", "Bob", "--limit", "2"});
  ASSERT_EQ(last_two.size(), 2u) << dump(last_two);
  EXPECT_EQ(str(last_two[0], "type"), "IMG");
  EXPECT_TRUE(last_two[0].at("outgoing").as_bool());
  EXPECT_EQ(str(last_two[1], "type"), "EMOJI");

  // Groups: create, invite over the pairwise channel, join, chat.
  befriend(alice, alice_id, carol, carol_id);
  auto created = only_json(alice.run({"group", "create", "The boomers"}));
  const std::string group_id = str(created, "groupId");
  ASSERT_FALSE(group_id.empty());
  ok(alice, {"group", "invite", "The boomers", "Bob"});
  ok(alice, {"group", "invite", group_id, carol_id});
  auto invite = ok(bob, {"sync"});
  ASSERT_EQ(invite.size(), 1u) << dump(invite);
  EXPECT_EQ(str(invite[0], "event"), "groupInvite");
  EXPECT_EQ(str(invite[0], "name"), "The boomers");
  EXPECT_EQ(str(only_json(bob.run({"group", "invites"})), "groupId"), group_id);
  ok(bob, {"group", "join", "The boomers"});
  EXPECT_TRUE(ok(bob, {"group", "invites"}).empty());
  ok(bob, {"group", "send", "The boomers", "hello boomers"});
  ok(alice, {"group", "send", group_id, "welcome Bob"});
  got = messages_of(ok(alice, {"sync"}));
  ASSERT_EQ(got.size(), 1u) << dump(got);
  EXPECT_EQ(str(got[0], "chatKind"), "group");
  EXPECT_EQ(str(got[0], "text"), "hello boomers");
  EXPECT_EQ(str(got[0], "fromName"), "Bob");
  // Carol joins later and still reads the group from its beginning.
  ok(carol, {"sync"});
  ok(carol, {"group", "join", group_id});
  got = messages_of(ok(carol, {"sync"}));
  ASSERT_EQ(got.size(), 2u) << dump(got);
  EXPECT_EQ(str(got[0], "text"), "hello boomers");
  EXPECT_EQ(str(got[1], "text"), "welcome Bob");
  ok(carol, {"group", "send-image", "The boomers", png});
  got = messages_of(ok(bob, {"sync"}));
  ASSERT_EQ(got.size(), 2u) << dump(got);
  EXPECT_EQ(str(got[1], "type"), "IMG");
  ok(bob,
     {"group", "react", "The boomers", std::to_string(id_of(got[0], "messageId")), "EMO_POOP"});
  got = messages_of(ok(alice, {"sync"}));
  ASSERT_EQ(got.size(), 2u) << dump(got);
  EXPECT_EQ(str(got[1], "emoji"), "EMO_POOP");
  auto groups = ok(bob, {"groups"});
  ASSERT_EQ(groups.size(), 1u) << dump(groups);
  EXPECT_EQ(str(groups[0], "origin"), "invited");

  // In person: Carol shows a QR, Bob scans it; no invite crosses the network.
  const std::string qr_png = (dir_->path() / "picnic.png").string();
  auto qr =
      only_json(carol.run({"group", "qr-create", "Picnic", "--png", qr_png, "--show-payload"}));
  const std::string picnic_id = str(qr, "groupId");
  const std::string payload = str(qr, "payload");
  ASSERT_TRUE(fs::exists(qr_png));
  auto joined = only_json(bob.run({"group", "qr-join", "--png", qr_png}));
  EXPECT_EQ(str(joined, "groupId"), picnic_id);
  EXPECT_EQ(str(joined, "origin"), "in-person");
  ok(bob, {"group", "send", "Picnic", "see you at noon"});
  got = messages_of(ok(carol, {"sync"}));
  ASSERT_EQ(got.size(), 2u) << dump(got);  // Bob's reaction in The boomers, then Picnic
  EXPECT_EQ(str(got[1], "chat"), picnic_id);
  EXPECT_EQ(str(got[1], "text"), "see you at noon");
  // The group key is the 4th field of the payload; the relay's files never saw it.
  const auto key_start = payload.find(':', payload.find(':', payload.find(':') + 1) + 1) + 1;
  const std::string picnic_key =
      payload.substr(key_start, payload.find(':', key_start) - key_start);
  ASSERT_EQ(picnic_key.size(), 44u);
  EXPECT_FALSE(any_file_contains(dir_->path() / "relay", picnic_key));
  EXPECT_FALSE(any_file_contains(dir_->path() / "relay", "see you at noon"));

  // Nothing anyone wrote is readable in their local files either.
  for (const auto* user : {&alice, &bob, &carol}) {
    EXPECT_FALSE(any_file_contains(user->home(), "Hello Bob, it's Alice"));
    EXPECT_FALSE(any_file_contains(user->home(), "hello boomers"));
    EXPECT_FALSE(any_file_contains(user->home(), picnic_key));
  }
}

TEST_F(Journeys, ChatsListUnreadCountsUntilHistoryIsRead) {
  std::string alice_id, bob_id;
  CliUser alice = make_user("Alice", &alice_id);
  CliUser bob = make_user("Bob", &bob_id);
  befriend(alice, alice_id, bob, bob_id);
  ok(alice, {"group", "create", "Book club"});
  ok(alice, {"send", bob_id, "one"});
  ok(alice, {"send", bob_id, "two"});
  ok(bob, {"sync"});

  auto chats = ok(bob, {"chats"});
  ASSERT_EQ(chats.size(), 1u) << dump(chats);
  EXPECT_EQ(str(chats[0], "chat"), alice_id);
  EXPECT_EQ(str(chats[0], "kind"), "friend");
  EXPECT_EQ(str(chats[0], "title"), "Alice");
  EXPECT_EQ(num(chats[0], "unread"), 2);
  EXPECT_GE(num(chats[0], "messages"), 2);

  // A partial look (--limit) is not reading the chat; the full history is.
  ok(bob, {"history", alice_id, "--limit", "1"});
  EXPECT_EQ(num(ok(bob, {"chats"})[0], "unread"), 2);
  ok(bob, {"history", alice_id});
  EXPECT_EQ(num(ok(bob, {"chats"})[0], "unread"), 0);

  // Alice's list: the chat with the newest message first, then the group (no messages).
  auto hers = ok(alice, {"chats"});
  ASSERT_EQ(hers.size(), 2u) << dump(hers);
  EXPECT_EQ(str(hers[0], "chat"), bob_id);
  EXPECT_EQ(str(hers[1], "kind"), "group");
  EXPECT_EQ(str(hers[1], "title"), "Book club");
  EXPECT_EQ(hers[1].if_contains("lastMessageId"), nullptr);
}

TEST_F(Journeys, ADeclinedInviteIsGoneAndCannotBeJoined) {
  std::string alice_id, bob_id;
  CliUser alice = make_user("Alice", &alice_id);
  CliUser bob = make_user("Bob", &bob_id);
  befriend(alice, alice_id, bob, bob_id);
  const std::string group_id = str(only_json(alice.run({"group", "create", "Chess"})), "groupId");
  ASSERT_FALSE(group_id.empty());
  ok(alice, {"group", "invite", group_id, bob_id});
  ok(bob, {"sync"});
  ASSERT_EQ(ok(bob, {"group", "invites"}).size(), 1u);

  auto declined = ok(bob, {"group", "decline", "Chess"});
  ASSERT_EQ(declined.size(), 1u);
  EXPECT_EQ(str(declined[0], "event"), "inviteDeclined");
  EXPECT_TRUE(ok(bob, {"group", "invites"}).empty());
  EXPECT_TRUE(ok(bob, {"groups"}).empty());
  const auto again = bob.run({"--json", "group", "join", group_id});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE((again.out + again.err).find("no invite to that group"), std::string::npos)
      << again.out << again.err;
  EXPECT_NE(bob.run({"group", "decline", group_id}).exit_code, 0);
}

TEST_F(Journeys, ListenShowsANewMessageWithinOneSecond) {
  std::string alice_id, bob_id;
  CliUser alice = make_user("Alice", &alice_id);
  CliUser bob = make_user("Bob", &bob_id);
  befriend(alice, alice_id, bob, bob_id);
  auto group = only_json(alice.run({"group", "create", "Night owls"}));
  ok(alice, {"group", "invite", "Night owls", bob_id});
  ok(bob, {"sync"});
  ok(bob, {"group", "join", "Night owls"});

  CliBackground listener(bob, {"listen"});
  // Let the listener unlock its store and park its long-poll.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  for (const bool to_group : {false, true}) {
    const std::string text = to_group ? "group ping" : "direct ping";
    auto r = to_group ? alice.run({"group", "send", "Night owls", text})
                      : alice.run({"send", bob_id, text});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto sent_at = std::chrono::steady_clock::now();
    auto line = listener.next_line(std::chrono::seconds(5));
    const auto waited = std::chrono::steady_clock::now() - sent_at;
    ASSERT_TRUE(line.has_value()) << listener.stderr_text();
    auto event = boost::json::parse(*line).as_object();
    EXPECT_EQ(str(event, "text"), text);
    EXPECT_LT(waited, std::chrono::seconds(1))
        << "listen took " << std::chrono::duration_cast<std::chrono::milliseconds>(waited).count()
        << " ms";
  }
  listener.stop();
}

TEST_F(Journeys, CrossedAndRepeatedRequestsEndWithOneSharedKey) {
  std::string alice_id, bob_id, carol_id, dave_id;
  CliUser alice = make_user("Alice", &alice_id);
  CliUser bob = make_user("Bob", &bob_id);
  CliUser carol = make_user("Carol", &carol_id);
  CliUser dave = make_user("Dave", &dave_id);

  // Crossed: both add each other before either syncs. The smaller id's request wins on
  // both sides, so exactly one handshake completes.
  ok(alice, {"add", bob_id});
  ok(bob, {"add", alice_id});
  for (int round = 0; round < 2; ++round) {
    ok(alice, {"sync"});
    ok(bob, {"sync"});
  }
  ASSERT_EQ(ok(alice, {"friends"}).size(), 1u);
  ASSERT_EQ(ok(bob, {"friends"}).size(), 1u);
  EXPECT_TRUE(ok(alice, {"requests"}).empty()) << dump(ok(alice, {"requests"}));
  EXPECT_TRUE(ok(bob, {"requests"}).empty());
  ok(alice, {"send", bob_id, "crossed but fine"});
  ok(bob, {"send", alice_id, "both ways"});
  auto at_bob = messages_of(ok(bob, {"sync"}));
  auto at_alice = messages_of(ok(alice, {"sync"}));
  ASSERT_EQ(at_bob.size(), 1u) << dump(at_bob);
  ASSERT_EQ(at_alice.size(), 1u) << dump(at_alice);
  EXPECT_EQ(str(at_bob[0], "text"), "crossed but fine");
  EXPECT_EQ(str(at_alice[0], "text"), "both ways");

  // Repeated: Carol adds Dave twice; the second add re-sends the same value, so Dave's
  // answer matches whichever he received.
  ok(carol, {"add", dave_id});
  ok(carol, {"add", dave_id});
  ok(dave, {"sync"});
  ASSERT_EQ(ok(dave, {"requests"}).size(), 1u);
  ok(dave, {"accept", carol_id});
  ok(carol, {"sync"});
  ok(carol, {"send", dave_id, "one key"});
  auto at_dave = messages_of(ok(dave, {"sync"}));
  ASSERT_EQ(at_dave.size(), 1u) << dump(at_dave);
  EXPECT_EQ(str(at_dave[0], "text"), "one key");

  // Adding someone who already asked us accepts them.
  ok(alice, {"add", dave_id});
  ok(dave, {"sync"});
  auto answered = only_json(dave.run({"add", alice_id}));
  EXPECT_EQ(str(answered, "event"), "accepted");
  ok(alice, {"sync"});
  ok(dave, {"send", alice_id, "hi from Dave"});
  auto from_dave = messages_of(ok(alice, {"sync"}));
  ASSERT_EQ(from_dave.size(), 1u) << dump(from_dave);
  EXPECT_EQ(str(from_dave[0], "text"), "hi from Dave");

  // Declining forgets the request; nothing is sent back in v1.
  ok(bob, {"add", carol_id});
  ok(carol, {"sync"});
  EXPECT_EQ(str(only_json(carol.run({"decline", bob_id})), "event"), "declined");
  for (const auto& r : ok(carol, {"requests"}))
    EXPECT_NE(str(r, "userId"), bob_id);
}

TEST_F(Journeys, GlobalOptionsAfterTheCommandAndPasswordFile) {
  std::string alice_id;
  CliUser alice = make_user("Alice", &alice_id);
  // --json after the command.
  auto r = alice.run({"id", "--json"}, /*json=*/false);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(str(only_json(r), "userId"), alice_id);
  // The password from a file when the environment has none.
  const auto file = dir_->path() / "pw.txt";
  std::ofstream(file) << alice.password() << "\n";
  CliUser no_env(alice.home(), "");
  r = no_env.run({"--password-file", file.string(), "id"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(str(only_json(r), "userId"), alice_id);
  // No password anywhere and no terminal: a usage error, not a hang.
  r = no_env.run({"id"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no password"), std::string::npos) << r.err;
}

class Restart : public E2eTest, public ::testing::WithParamInterface<bool> {};

TEST_P(Restart, ServerRestartMidJourneyLosesNothing) {
  const bool crash = GetParam();
  std::string alice_id, bob_id;
  CliUser alice = make_user("Alice", &alice_id);
  CliUser bob = make_user("Bob", &bob_id);
  befriend(alice, alice_id, bob, bob_id);
  auto group = only_json(alice.run({"group", "create", "Survivors"}));
  ok(alice, {"group", "invite", "Survivors", bob_id});
  ok(alice, {"send", bob_id, "before 1"});
  ok(alice, {"send", bob_id, "before 2"});
  ok(alice, {"group", "send", "Survivors", "group before"});

  restart_server(crash);

  auto events = ok(bob, {"sync"});
  ASSERT_EQ(events.size(), 3u) << dump(events);  // the invite and two messages, each once
  EXPECT_EQ(str(events[0], "event"), "groupInvite");
  EXPECT_EQ(str(events[1], "text"), "before 1");
  EXPECT_EQ(str(events[2], "text"), "before 2");
  ok(bob, {"group", "join", "Survivors"});
  ok(alice, {"send", bob_id, "after"});
  auto after = messages_of(ok(bob, {"sync"}));
  ASSERT_EQ(after.size(), 2u) << dump(after);
  EXPECT_EQ(str(after[0], "text"), "after");  // the direct queue is synced first
  EXPECT_EQ(str(after[1], "text"), "group before");

  // While the relay is down, sync fails cleanly with the network exit code and loses nothing.
  const unsigned short port = server_->port();
  server_->kill_hard();
  auto unsent = alice.run({"group", "send", "Survivors", "unsent"});
  EXPECT_EQ(unsent.exit_code, 4) << unsent.err;
  auto down = bob.run({"sync"});
  EXPECT_EQ(down.exit_code, 4) << down.err;
  EXPECT_TRUE(down.out.empty());
  server_ =
      std::make_unique<ServerProcess>(ServerProcess::Options{dir_->path() / "relay", {}, port});
  EXPECT_TRUE(messages_of(ok(bob, {"sync"})).empty());
  EXPECT_EQ(ok(bob, {"history", "Alice"}).size(), 3u);
  // A message the relay never acknowledged is in the sender's history marked as not sent
  // (it waits in the outbox), and the next sync delivers it.
  auto mine = ok(alice, {"history", "Survivors"});
  ASSERT_EQ(mine.size(), 3u) << dump(mine);
  EXPECT_EQ(str(mine[1], "text"), "unsent");
  EXPECT_EQ(str(mine[2], "event"), "delivery");
  EXPECT_EQ(str(mine[2], "delivery"), "pending");
  ok(alice, {"sync"});
  auto sent = ok(alice, {"history", "Survivors"});
  ASSERT_EQ(sent.size(), 2u) << dump(sent);
  EXPECT_EQ(str(sent[1], "text"), "unsent");
}

INSTANTIATE_TEST_SUITE_P(Clean, Restart, ::testing::Values(false));
INSTANTIATE_TEST_SUITE_P(Crash, Restart, ::testing::Values(true));

}  // namespace
}  // namespace secchats::testing
